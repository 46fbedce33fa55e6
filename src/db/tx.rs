//! The one transaction path every write takes ([`Db::write`]): its turn to write (SQLite),
//! BEGIN, its statements, an audit row per change, COMMIT (ROLLBACK after any error), all in
//! a task the [`Db`] tracks, so that a request dropped half-way (the client went away, the
//! request timed out) cannot stop a transaction half-way, and shutdown waits for it. [`Tx`]
//! is the transaction's connection, with the statements writes are made of.
//! [`Db::write_own`] is the same path for autoadmin's own tables (second factors, ...):
//! no entity, no audit.

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;

use super::audit::{self, Actor, Change};
use super::driver::{Executed, Pooled};
use super::error::Operation;
use super::{Db, EntityRef, Error, Record, pool, sql, version};
use crate::query::Precondition;
use crate::schema::{Changes, Entity, Value};

/// What a write's statements did: the value to answer with, and the changes to audit.
pub(super) struct Written<T> {
    pub value: T,
    pub changes: Vec<Change>,
}

impl<T> Written<T> {
    pub fn new(value: T, changes: Vec<Change>) -> Written<T> {
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
    pub db: Db,
    pub entity: EntityRef,
    operation: Operation,
}

/// A connection inside BEGIN, writing autoadmin's own tables ([`Db::write_own`]).
pub(super) struct OwnTx {
    pooled: Pooled,
}

impl OwnTx {
    pub(super) async fn execute(&mut self, sql: &sql::Sql) -> Result<Executed, sqlx::Error> {
        self.pooled.conn().execute(sql).await
    }

    pub(super) async fn fetch_ints(
        &mut self,
        sql: &sql::Sql,
    ) -> Result<Option<(i64, i64)>, sqlx::Error> {
        self.pooled.conn().fetch_ints(sql).await
    }
}

impl Db {
    /// The one path of every write: BEGIN, `statements`, the audit rows of the changes they
    /// report, then COMMIT, or ROLLBACK after any error. Runs in a tracked task. A
    /// transaction the database rolled back for another's sake (a deadlock, a serialization
    /// or Galera certification failure, at any statement or at COMMIT) wrote nothing, so it
    /// is run again, once, from its first statement: `statements` is called for each run.
    pub(super) async fn write<T, F>(
        &self,
        entity: EntityRef,
        operation: Operation,
        actor: Actor,
        statements: F,
    ) -> Result<T, Error>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, Result<Written<T>, Error>>
            + Send
            + Sync
            + 'static,
    {
        let db = self.clone();
        let transaction = async move {
            let mut runs = 0;
            loop {
                runs += 1;
                let mut tx = db.begin(entity.clone(), operation).await?;
                let result = async {
                    let written = statements(&mut tx).await?;
                    for change in &written.changes {
                        tx.audit(&actor, change).await?;
                    }
                    Ok(written.value)
                }
                .await;
                match tx.end(result).await {
                    Err(Error::RolledBack(why)) if runs == 1 => {
                        tracing::info!(entity = %entity.name, "a write rolled back ({why}) is run again");
                    }
                    result => break result,
                }
            }
        };
        self.run_tracked(transaction).await
    }

    /// Runs `transaction` in a task the Db tracks, which a dropped request cannot stop and
    /// shutdown waits for; refused once shutdown has begun.
    async fn run_tracked<T: Send + 'static>(
        &self,
        transaction: impl Future<Output = Result<T, Error>> + Send + 'static,
    ) -> Result<T, Error> {
        if self.tasks.is_closed() {
            return Err(Error::Unavailable("the server is shutting down".into()));
        }
        self.tasks
            .spawn(transaction)
            .await
            .map_err(|err| Error::Internal(format!("write task failed: {err}")))?
    }

    /// BEGIN on a pooled connection, in this process's turn to write.
    pub(super) async fn begin(&self, entity: EntityRef, operation: Operation) -> Result<Tx, Error> {
        let writer = self.turn_to_write().await?;
        let pooled = self
            .started(|error| Error::from_sqlx(error, self.dialect(), &entity, operation))
            .await?;
        Ok(Tx {
            pooled,
            _writer: writer,
            db: self.clone(),
            entity,
            operation,
        })
    }

    /// A pooled connection inside BEGIN; like a read, it moves on from dead connections.
    async fn started(&self, fail: impl Fn(sqlx::Error) -> Error) -> Result<Pooled, Error> {
        let mut retries = 0;
        loop {
            let mut pooled = self.pool.acquire().await?;
            let started = pooled.conn().execute_raw(self.begin_statement()).await;
            pooled.finished(&started);
            match started {
                Ok(()) => return Ok(pooled),
                Err(error)
                    if pool::is_dead(Some(&error)) && retries < self.pool.max_connections() =>
                {
                    retries += 1;
                }
                Err(error) => return Err(fail(error)),
            }
        }
    }

    /// A transaction on autoadmin's own tables, on the path of [`Db::write`] (turn to write,
    /// BEGIN, `statements`, COMMIT or ROLLBACK, in a tracked task) without entity or audit.
    /// Its errors are all "unavailable": these tables hold nothing a user could violate.
    pub(super) async fn write_own<T, F>(&self, statements: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut OwnTx) -> BoxFuture<'t, Result<T, sqlx::Error>> + Send + 'static,
    {
        let db = self.clone();
        let transaction = async move {
            let _writer = db.turn_to_write().await?;
            let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
            let mut tx = OwnTx {
                pooled: db.started(unavailable).await?,
            };
            let result = statements(&mut tx).await;
            let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
            let done = tx.pooled.conn().execute_raw(end).await;
            tx.pooled.finished(&done);
            let value = result.map_err(unavailable)?;
            done.map_err(unavailable)?;
            Ok(value)
        };
        self.run_tracked(transaction).await
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
}

impl Tx {
    /// Fails with the current record when it no longer has a version `precondition` names.
    pub(super) fn check(
        &self,
        precondition: Option<&Precondition>,
        current: &Record,
    ) -> Result<(), Error> {
        let Some(precondition) = precondition else {
            return Ok(());
        };
        let etag = version::etag(&self.entity, current);
        if precondition.matches(&etag) {
            Ok(())
        } else {
            Err(Error::PreconditionFailed {
                current: current.clone(),
                etag,
                malformed: match precondition {
                    Precondition::Malformed(why) => Some(why.clone()),
                    _ => None,
                },
            })
        }
    }

    pub(super) fn fail(&self, error: sqlx::Error) -> Error {
        Error::from_sqlx(error, self.db.dialect(), &self.entity, self.operation)
    }

    pub(super) async fn fetch_optional(&mut self, sql: &sql::Sql) -> Result<Option<Record>, Error> {
        let result = self.pooled.conn().fetch_optional(sql, &self.entity).await;
        result.map_err(|err| self.fail(err))
    }

    /// The transaction's connection, for statements of other modules.
    pub(super) fn conn(&mut self) -> super::driver::Conn<'_> {
        self.pooled.conn()
    }

    /// The first column of every row, as keys of `key_type`.
    pub(super) async fn keys(
        &mut self,
        sql: &sql::Sql,
        key_type: crate::schema::FieldType,
    ) -> Result<Vec<Value>, Error> {
        let result = async {
            let mut conn = self.pooled.conn();
            let mut rows = conn.fetch(sql);
            let mut keys = Vec::new();
            while let Some(row) = rows.try_next().await? {
                let json = row.decode(0, key_type)?;
                if let Ok(key) = crate::schema::value::from_json(key_type, &json, &[]) {
                    keys.push(key);
                }
            }
            Ok::<_, sqlx::Error>(keys)
        }
        .await;
        result.map_err(|err| self.fail(err))
    }

    pub(super) async fn execute(&mut self, sql: &sql::Sql) -> Result<Executed, Error> {
        let result = self.pooled.conn().execute(sql).await;
        result.map_err(|err| self.fail(err))
    }

    /// The record of `key`; `lock` holds its row until the transaction ends, where the
    /// backend has row locks.
    /// With the keys it holds in its many-to-many relations, and its inline children.
    pub(super) async fn get(&mut self, key: Value, lock: bool) -> Result<Option<Record>, Error> {
        let db = &self.db;
        let get = sql::get(db.dialect(), &db.catalog, &self.entity, key, lock);
        let Some(record) = self.fetch_optional(&get).await? else {
            return Ok(None);
        };
        let mut records = [record];
        self.attach_sets(&mut records).await?;
        self.attach_inline(&mut records).await?;
        let [record] = records;
        Ok(Some(record))
    }

    /// The rows of a statement as records of `entity`.
    pub(super) async fn fetch_all(
        &mut self,
        sql: &sql::Sql,
        entity: &Entity,
    ) -> Result<Vec<Record>, Error> {
        let result = self.pooled.conn().fetch_all(sql, entity).await;
        result.map_err(|err| self.fail(err))
    }

    /// The first column of the first row of a statement, as a whole number.
    pub(super) async fn count(&mut self, sql: &sql::Sql) -> Result<u64, Error> {
        let result = self.pooled.conn().fetch_count(sql).await;
        result.map_err(|err| self.fail(err))
    }

    /// The records of `keys`, their rows locked, with the keys they hold in their
    /// many-to-many relations.
    pub(super) async fn existing(&mut self, keys: &[Value]) -> Result<Vec<Record>, Error> {
        let db = &self.db;
        let select = sql::existing_records(db.dialect(), &db.catalog, &self.entity, keys, true);
        let result = self.pooled.conn().fetch_all(&select, &self.entity).await;
        let mut records = result.map_err(|err| self.fail(err))?;
        self.attach_sets(&mut records).await?;
        self.attach_inline(&mut records).await?;
        Ok(records)
    }

    /// Where `entity` (the transaction's, or an inline child's) hides fields from its user,
    /// the records of `keys` (in that order) with every field, for what keeps them whole (the
    /// audit log's snapshot of a delete); `None` where nothing is hidden.
    pub(super) async fn whole_records(
        &mut self,
        entity: &EntityRef,
        keys: &[Value],
    ) -> Result<Option<Vec<Record>>, Error> {
        if !entity.hides_fields() {
            return Ok(None);
        }
        let whole = entity.whole();
        let db = &self.db;
        let select = sql::existing_records(db.dialect(), &db.catalog, &whole, keys, false);
        let result = self.pooled.conn().fetch_all(&select, &whole).await;
        let mut records = result.map_err(|err| self.fail(err))?;
        self.attach_sets_of(&whole, &mut records).await?;
        self.attach_inline_of(&whole, &mut records).await?;
        let records = super::write::in_order(&whole, records, keys)?;
        Ok(Some(records))
    }

    /// Inserts a row; returns it as stored (by RETURNING, or read again by its key where
    /// the backend has no RETURNING).
    pub(super) async fn insert(&mut self, changes: Changes) -> Result<Record, Error> {
        let entity = self.entity.clone();
        self.insert_into(&entity, changes).await
    }

    /// Inserts a row of `entity` (the transaction's, or another: a row a restore brings
    /// back); returns it as stored (by RETURNING, or read again by its key where the backend
    /// has no RETURNING). A versioned entity's row starts at version 1, unless given one.
    pub(super) async fn insert_into(
        &mut self,
        entity: &Entity,
        mut changes: Changes,
    ) -> Result<Record, Error> {
        if let Some(index) = entity.version_index()
            && !changes.iter().any(|(i, _)| *i == index)
        {
            changes.push((index, Value::Int(1)));
        }
        let key = changes
            .iter()
            .find(|(i, _)| entity.fields[*i].name == entity.primary_key)
            .map(|(_, v)| v.clone());
        let dialect = self.db.dialect();
        let insert = sql::insert(dialect, &self.db.catalog, entity, changes);
        let record = if dialect.has_returning() {
            let record = self.fetch_all(&insert, entity).await?.pop();
            self.check_scope(entity, record.as_slice()).await?;
            record
        } else {
            let done = self.execute(&insert).await?;
            let key = key
                .or(done.last_insert_id.map(Value::Int))
                .ok_or_else(|| Error::Internal("the database did not report the new key".into()))?;
            let get = sql::get(dialect, &self.db.catalog, entity, key, false);
            let found = self.fetch_all(&get, entity).await?.pop();
            // Read back through the row scope: not found, it is outside it.
            if found.is_none() && entity.row_scope.is_some() {
                return Err(out_of_scope(entity));
            }
            found
        };
        record.ok_or_else(|| Error::Internal("the inserted row was not found".into()))
    }

    /// Refuses (403, naming the scope's fields) rows written outside the entity's row scope
    /// (those RETURNING gave back: where rows are read back by key, that read goes through
    /// the scope already): the user's write would put them where they may not reach. The
    /// transaction is then rolled back with the error. One statement for all of them.
    pub(super) async fn check_scope(
        &mut self,
        entity: &Entity,
        records: &[Record],
    ) -> Result<(), Error> {
        if entity.row_scope.is_none() || records.is_empty() {
            return Ok(());
        }
        let key_field = entity.key_field();
        let keys = records
            .iter()
            .map(|record| {
                record
                    .get(&entity.primary_key)
                    .and_then(|json| {
                        crate::schema::value::from_json(key_field.value_type(), json, &[]).ok()
                    })
                    .ok_or_else(|| Error::Internal("a written row without its key".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let select =
            sql::existing_records(self.db.dialect(), &self.db.catalog, entity, &keys, false);
        let reached = self.fetch_all(&select, entity).await?;
        if reached.len() < keys.len() {
            return Err(out_of_scope(entity));
        }
        Ok(())
    }

    /// Updates the row of `key`; returns it as stored, `None` if it is gone.
    pub(super) async fn update(
        &mut self,
        key: Value,
        changes: Changes,
    ) -> Result<Option<Record>, Error> {
        let entity = self.entity.clone();
        self.update_in(&entity, key, changes).await
    }

    /// Updates the row of `key` of `entity` (the transaction's, or another: an inline child);
    /// returns it as stored, `None` if it is gone.
    pub(super) async fn update_in(
        &mut self,
        entity: &Entity,
        key: Value,
        changes: Changes,
    ) -> Result<Option<Record>, Error> {
        let dialect = self.db.dialect();
        let update = sql::update(dialect, &self.db.catalog, entity, key.clone(), changes);
        let record = if dialect.has_returning() {
            let record = self.fetch_all(&update, entity).await?.pop();
            self.check_scope(entity, record.as_slice()).await?;
            record
        } else {
            let done = self.execute(&update).await?;
            let get = sql::get(dialect, &self.db.catalog, entity, key, false);
            let found = self.fetch_all(&get, entity).await?.pop();
            // The row was there (it changed), and is not through the row scope: it left it.
            if found.is_none() && done.rows_affected > 0 && entity.row_scope.is_some() {
                return Err(out_of_scope(entity));
            }
            found
        };
        Ok(record)
    }

    /// Deletes the rows of `keys` (not empty) of `entity`.
    pub(super) async fn delete_keys(
        &mut self,
        entity: &Entity,
        keys: &[Value],
    ) -> Result<(), Error> {
        let db = &self.db;
        let delete = sql::delete_keys(db.dialect(), &db.catalog, entity, keys);
        self.execute(&delete).await.map(drop)
    }

    /// Writes the audit row of `change`.
    pub(super) async fn audit(&mut self, actor: &Actor, change: &Change) -> Result<(), Error> {
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

    /// Runs a statement of the program's own, without values (a savepoint's).
    pub(super) async fn raw(&mut self, statement: &str) -> Result<(), Error> {
        let result = self.pooled.conn().execute_raw(statement).await;
        result.map_err(|err| self.fail(err))
    }

    /// Runs `statement` so that, if it fails, the transaction carries on as before it (a
    /// savepoint): for statements whose failure is an answer, not an end.
    pub(super) async fn attempt(&mut self, statement: &sql::Sql) -> Result<Executed, Error> {
        let result = self.pooled.conn().execute_raw("SAVEPOINT aa_attempt").await;
        result.map_err(|err| self.fail(err))?;
        let result = self.pooled.conn().execute(statement).await;
        let end = if result.is_ok() {
            "RELEASE SAVEPOINT aa_attempt"
        } else {
            "ROLLBACK TO SAVEPOINT aa_attempt"
        };
        let ended = self.pooled.conn().execute_raw(end).await;
        ended.map_err(|err| self.fail(err))?;
        result.map_err(|err| self.fail(err))
    }

    /// Commits after `result` succeeded, rolls back after it failed.
    pub(super) async fn end<T>(mut self, result: Result<T, Error>) -> Result<T, Error> {
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let done = self.pooled.conn().execute_raw(end).await;
        self.pooled.finished(&done);
        let value = result?;
        done.map_err(|err| self.fail(err))?;
        // A permit is kept when no one waits: the follower's next wait ends at once.
        self.db.committed.notify_one();
        self.db.announce.notify_one();
        Ok(value)
    }
}

/// The refusal of a write that would put a row outside the writer's row scope: 403, naming
/// the fields of the scope.
pub(super) fn out_of_scope(entity: &Entity) -> Error {
    let fields = entity
        .row_scope
        .as_ref()
        .and_then(serde_json::Value::as_object)
        .map(|scope| scope.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let errors = fields
        .into_iter()
        .map(|name| {
            (
                name,
                "would put the record outside the rows you may reach".to_owned(),
            )
        })
        .collect();
    Error::Rejected(crate::schema::WriteError::Forbidden(errors))
}
