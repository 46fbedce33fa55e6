//! Writes. Every one takes the same path ([`Db::write`]): its turn to write (SQLite), BEGIN,
//! its statements, an audit row per change, COMMIT (ROLLBACK after any error), all in a task
//! the [`Db`] tracks, so that a request dropped half-way (the client went away, the request
//! timed out) cannot stop a transaction half-way, and shutdown waits for it.

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use serde_json::Value as Json;

use super::audit::{self, Change};
use super::driver::{Executed, Pooled};
use super::error::{MISSING_REFERENCE, Operation};
use super::{Db, EntityRef, Error, Record, pool, sql};
use crate::schema::{self, Changes, FieldType, Value, value};

/// What a write's statements did: the value to answer with, and the changes to audit.
pub(super) struct Written<T> {
    value: T,
    changes: Vec<Change>,
}

impl<T> Written<T> {
    fn new(value: T, changes: Vec<Change>) -> Written<T> {
        Written { value, changes }
    }
}

/// A connection inside BEGIN, writing records of one entity. [`Tx::end`] ends it; dropped
/// before that (it cannot be: writes run to the end in their own task), the connection is
/// closed, which rolls back.
pub(super) struct Tx {
    pooled: Pooled,
    /// SQLite: this process's turn to write, held until COMMIT or ROLLBACK.
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    db: Db,
    entity: EntityRef,
    operation: Operation,
}

impl Db {
    /// The one path of every write: BEGIN, `statements`, the audit rows of the changes they
    /// report, then COMMIT, or ROLLBACK after any error. Runs in a tracked task.
    async fn write<T, F>(
        &self,
        entity: EntityRef,
        operation: Operation,
        actor: Option<String>,
        statements: F,
    ) -> Result<T, Error>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<Written<T>, Error>> + Send + 'static,
    {
        if self.tasks.is_closed() {
            return Err(Error::Unavailable("the server is shutting down".into()));
        }
        let db = self.clone();
        let transaction = async move {
            let mut tx = db.begin(entity, operation).await?;
            let result = async {
                let written = statements(&mut tx).await?;
                for change in &written.changes {
                    tx.audit(actor.as_deref(), change).await?;
                }
                Ok(written.value)
            }
            .await;
            tx.end(result).await
        };
        self.tasks
            .spawn(transaction)
            .await
            .map_err(|err| Error::Internal(format!("write task failed: {err}")))?
    }

    /// BEGIN on a pooled connection; like a read, it moves on from dead connections.
    async fn begin(&self, entity: EntityRef, operation: Operation) -> Result<Tx, Error> {
        let writer = self.turn_to_write().await?;
        let mut retries = 0;
        loop {
            let mut pooled = self.pool.acquire().await?;
            let started = pooled.conn().execute_raw(self.dialect().begin()).await;
            pooled.finished(&started);
            match started {
                Ok(()) => {
                    return Ok(Tx {
                        pooled,
                        _writer: writer,
                        db: self.clone(),
                        entity,
                        operation,
                    });
                }
                Err(error)
                    if pool::is_dead(Some(&error)) && retries < self.pool.max_connections() =>
                {
                    retries += 1;
                }
                Err(error) => {
                    return Err(Error::from_sqlx(error, self.dialect(), &entity, operation));
                }
            }
        }
    }

    /// Where the database has one writer, this process's turn to write (the `writer` field
    /// says why); elsewhere nothing.
    async fn turn_to_write(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, Error> {
        if !self.dialect().has_one_writer() {
            return Ok(None);
        }
        let turn = self.writer.clone().lock_owned();
        match tokio::time::timeout(self.write_wait, turn).await {
            Ok(turn) => Ok(Some(turn)),
            Err(_) => Err(Error::Unavailable(format!(
                "the database is busy: the writes before this one took more than {} s",
                self.write_wait.as_secs()
            ))),
        }
    }

    /// Validates and inserts a record; returns it as stored. `actor` is recorded in the
    /// audit log with the change, in the same transaction.
    pub async fn create(
        &self,
        entity: EntityRef,
        body: Record,
        actor: Option<String>,
    ) -> Result<Record, Error> {
        let changes = schema::prepare_create(&entity, &body).map_err(Error::Rejected)?;
        let references = references(&entity, &changes);
        let passwords = audit::passwords(&entity, &changes);
        let result = self
            .write(entity.clone(), Operation::Write, actor, move |tx| {
                Box::pin(async move {
                    let record = tx.insert(changes).await?;
                    let change = Change::created(record.clone(), passwords);
                    Ok(Written::new(record, vec![change]))
                })
            })
            .await;
        self.name_missing_reference(&entity, references, result)
            .await
    }

    /// Merges `body` into the stored record, validates the result, and writes the fields
    /// the body names. Returns the record as stored.
    pub async fn update(
        &self,
        entity: EntityRef,
        key: Value,
        body: Record,
        actor: Option<String>,
    ) -> Result<Record, Error> {
        let references = references_in_body(&entity, &body);
        let result = self
            .write(entity.clone(), Operation::Write, actor, move |tx| {
                Box::pin(async move {
                    let existing = tx.get(key.clone(), true).await?.ok_or(Error::NotFound)?;
                    let changes = schema::prepare_update(&tx.entity, &body, &existing)
                        .map_err(Error::Rejected)?;
                    if changes.is_empty() {
                        return Ok(Written::new(existing, Vec::new()));
                    }
                    let passwords = audit::passwords(&tx.entity, &changes);
                    let record = tx.update(key, changes).await?.ok_or(Error::NotFound)?;
                    let change = Change::updated(existing, record.clone(), passwords);
                    Ok(Written::new(record, vec![change]))
                })
            })
            .await;
        self.name_missing_reference(&entity, references, result)
            .await
    }

    /// Deletes one record; returns it as it was.
    pub async fn delete(
        &self,
        entity: EntityRef,
        key: Value,
        actor: Option<String>,
    ) -> Result<Record, Error> {
        self.write(entity, Operation::Delete, actor, move |tx| {
            Box::pin(async move {
                let existing = tx.get(key.clone(), true).await?.ok_or(Error::NotFound)?;
                tx.delete_keys(&[key]).await?;
                let change = Change::deleted(existing.clone());
                Ok(Written::new(existing, vec![change]))
            })
        })
        .await
    }

    /// Deletes every record of `keys` in one transaction, or none if any is missing.
    /// Returns the keys as the API sends them.
    pub async fn delete_many(
        &self,
        entity: EntityRef,
        keys: Vec<Value>,
        actor: Option<String>,
    ) -> Result<Vec<Json>, Error> {
        // `IN ()` is not SQL; an empty batch deletes nothing.
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.write(entity, Operation::Delete, actor, move |tx| {
            Box::pin(async move {
                let records = tx.existing(&keys).await?;
                let key_name = tx.entity.primary_key.clone();
                let found: std::collections::HashSet<String> = records
                    .iter()
                    .filter_map(|r| r.get(&key_name).map(key_text))
                    .collect();
                let requested: Vec<Json> = keys.iter().map(key_json).collect();
                let missing: Vec<Json> = requested
                    .iter()
                    .filter(|k| !found.contains(&key_text(k)))
                    .cloned()
                    .collect();
                if !missing.is_empty() {
                    return Err(Error::KeysNotFound(missing));
                }
                tx.delete_keys(&keys).await?;
                let changes = records.into_iter().map(Change::deleted).collect();
                Ok(Written::new(requested, changes))
            })
        })
        .await
    }

    /// A foreign-key failure whose column the database did not name (SQLite never does):
    /// finds the reference among `written` that points nowhere, after the failed
    /// transaction is gone.
    async fn name_missing_reference(
        &self,
        entity: &EntityRef,
        written: Changes,
        result: Result<Record, Error>,
    ) -> Result<Record, Error> {
        let Err(Error::Conflict {
            field: None,
            message,
        }) = result
        else {
            return result;
        };
        if message == MISSING_REFERENCE {
            for (index, value) in written {
                let field = &entity.fields[index];
                let Some(target) = field.target.as_deref().and_then(|t| entity.sibling(t)) else {
                    continue;
                };
                if !value.is_null()
                    && matches!(self.get(&target, value).await, Err(Error::NotFound))
                {
                    return Err(Error::Conflict {
                        field: Some(field.name.clone()),
                        message,
                    });
                }
            }
        }
        Err(Error::Conflict {
            field: None,
            message,
        })
    }
}

impl Tx {
    fn fail(&self, error: sqlx::Error) -> Error {
        Error::from_sqlx(error, self.db.dialect(), &self.entity, self.operation)
    }

    async fn fetch_optional(&mut self, sql: &sql::Sql) -> Result<Option<Record>, Error> {
        let result = self.pooled.conn().fetch_optional(sql, &self.entity).await;
        result.map_err(|err| self.fail(err))
    }

    async fn execute(&mut self, sql: &sql::Sql) -> Result<Executed, Error> {
        let result = self.pooled.conn().execute(sql).await;
        result.map_err(|err| self.fail(err))
    }

    /// The record of `key`; `lock` holds its row until the transaction ends, where the
    /// backend has row locks.
    async fn get(&mut self, key: Value, lock: bool) -> Result<Option<Record>, Error> {
        let db = &self.db;
        let get = sql::get(db.dialect(), &db.catalog, &self.entity, key, lock);
        self.fetch_optional(&get).await
    }

    /// The records of `keys`, their rows locked.
    async fn existing(&mut self, keys: &[Value]) -> Result<Vec<Record>, Error> {
        let db = &self.db;
        let select = sql::existing_records(db.dialect(), &db.catalog, &self.entity, keys, true);
        let result = self.pooled.conn().fetch_all(&select, &self.entity).await;
        result.map_err(|err| self.fail(err))
    }

    /// Inserts a row; returns it as stored (by RETURNING, or read again by its key where
    /// the backend has no RETURNING).
    async fn insert(&mut self, changes: Changes) -> Result<Record, Error> {
        let entity = self.entity.clone();
        let key = changes
            .iter()
            .find(|(i, _)| entity.fields[*i].name == entity.primary_key)
            .map(|(_, v)| v.clone());
        let dialect = self.db.dialect();
        let insert = sql::insert(dialect, &self.db.catalog, &entity, changes);
        let record = if dialect.has_returning() {
            self.fetch_optional(&insert).await?
        } else {
            let done = self.execute(&insert).await?;
            let key = key
                .or(done.last_insert_id.map(Value::Int))
                .ok_or_else(|| Error::Internal("the database did not report the new key".into()))?;
            self.get(key, false).await?
        };
        record.ok_or_else(|| Error::Internal("the inserted row was not found".into()))
    }

    /// Updates the row of `key`; returns it as stored, `None` if it is gone.
    async fn update(&mut self, key: Value, changes: Changes) -> Result<Option<Record>, Error> {
        let dialect = self.db.dialect();
        let update = sql::update(
            dialect,
            &self.db.catalog,
            &self.entity,
            key.clone(),
            changes,
        );
        if dialect.has_returning() {
            self.fetch_optional(&update).await
        } else {
            self.execute(&update).await?;
            self.get(key, false).await
        }
    }

    /// Deletes the rows of `keys` (not empty).
    async fn delete_keys(&mut self, keys: &[Value]) -> Result<(), Error> {
        let db = &self.db;
        let delete = sql::delete_keys(db.dialect(), &db.catalog, &self.entity, keys);
        self.execute(&delete).await.map(drop)
    }

    /// Writes the audit row of `change`.
    async fn audit(&mut self, actor: Option<&str>, change: &Change) -> Result<(), Error> {
        let Some(insert) = audit::insert(&self.db, &self.entity, actor, change) else {
            return Ok(());
        };
        // PostgreSQL and SQLite add RETURNING to inserts: fetching drains it.
        let result = {
            let mut conn = self.pooled.conn();
            let mut rows = conn.fetch(&insert);
            async {
                while rows.try_next().await?.is_some() {}
                Ok(())
            }
            .await
        };
        result.map_err(|err| self.fail(err))
    }

    /// Commits after `result` succeeded, rolls back after it failed.
    async fn end<T>(mut self, result: Result<T, Error>) -> Result<T, Error> {
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let done = self.pooled.conn().execute_raw(end).await;
        self.pooled.finished(&done);
        let value = result?;
        done.map_err(|err| self.fail(err))?;
        Ok(value)
    }
}

/// The references among the values a create writes.
fn references(entity: &EntityRef, changes: &Changes) -> Changes {
    changes
        .iter()
        .filter(|(i, _)| entity.fields[*i].field_type == FieldType::Reference)
        .cloned()
        .collect()
}

/// The references an update's body sets (what it writes of them, where they convert).
fn references_in_body(entity: &EntityRef, body: &Record) -> Changes {
    entity
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.field_type == FieldType::Reference && !f.read_only)
        .filter_map(|(i, f)| {
            let json = body.get(&f.name)?;
            value::from_json(f.value_type(), json, &[])
                .ok()
                .map(|v| (i, v))
        })
        .collect()
}

/// A key as the API sends it.
fn key_json(key: &Value) -> Json {
    match key {
        Value::Int(i) => value::int_to_json(*i),
        Value::Uuid(u) => Json::String(u.to_string()),
        Value::Text(t) => Json::String(t.clone()),
        other => Json::String(format!("{other:?}")),
    }
}

/// A key's text, to compare keys sent with keys read.
fn key_text(key: &Json) -> String {
    match key {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}
