//! The writes: create, update, delete, batch delete, each on the one transaction path
//! (`tx.rs`), with the versions they were asked to check.

use serde_json::Value as Json;

use super::audit::{self, Actor, Change};
use super::error::{MISSING_REFERENCE, Operation};
use super::tx::Written;
use super::{Db, EntityRef, Error, Record, sets, version};
use crate::query::Precondition;
use crate::schema::{self, Changes, FieldType, Value, value};

impl Db {
    /// Validates and inserts a record; returns it as stored. `actor` is recorded in the
    /// audit log with the change, in the same transaction.
    pub async fn create(
        &self,
        entity: EntityRef,
        mut body: Record,
        actor: Actor,
    ) -> Result<Record, Error> {
        let wanted = sets::take(&entity, &mut body);
        let changes = schema::prepare_create(&entity, &body);
        let (wanted, changes) = match (wanted, changes) {
            (Ok(wanted), Ok(changes)) => (wanted, changes),
            (Err(sets), fields) => return Err(sets::rejected(sets, fields.err())),
            (Ok(_), Err(fields)) => return Err(Error::Rejected(fields)),
        };
        let references = references(&entity, &changes);
        let passwords = audit::passwords(&entity, &changes);
        let result = self
            .write(entity.clone(), Operation::Write, actor, move |tx| {
                Box::pin(async move {
                    let mut record = tx.insert(changes).await?;
                    if tx.entity.sets().next().is_some() {
                        let key = record.get(&tx.entity.primary_key).cloned();
                        tx.write_sets(&key.unwrap_or(Json::Null), None, &wanted)
                            .await?;
                        tx.attach_sets(std::slice::from_mut(&mut record)).await?;
                    }
                    let change = Change::created(&tx.entity, record.clone(), passwords);
                    Ok(Written::new(record, vec![change]))
                })
            })
            .await;
        self.name_missing_reference(&entity, references, result)
            .await
    }

    /// Merges `body` into the stored record, validates the result, and writes the fields
    /// the body names whose values differ. Returns the record as stored. With a
    /// `precondition`, the stored record must still have one of its versions.
    pub async fn update(
        &self,
        entity: EntityRef,
        key: Value,
        body: Record,
        actor: Actor,
        precondition: Option<Precondition>,
    ) -> Result<Record, Error> {
        let mut body = body;
        let wanted = sets::take(&entity, &mut body).map_err(|sets| sets::rejected(sets, None))?;
        let references = references_in_body(&entity, &body);
        let result = self
            .write(entity.clone(), Operation::Write, actor, move |tx| {
                Box::pin(async move {
                    let existing = tx.get(key.clone(), true).await?.ok_or(Error::NotFound)?;
                    tx.check(precondition.as_ref(), &existing)?;
                    let changes = schema::prepare_update(&tx.entity, &body, &existing)
                        .map_err(Error::Rejected)?;
                    let passwords = audit::passwords(&tx.entity, &changes);
                    let record = if wanted.is_empty() {
                        if changes.is_empty() {
                            return Ok(Written::new(existing, Vec::new()));
                        }
                        let mut record = tx.update(key, changes).await?.ok_or(Error::NotFound)?;
                        // A record always carries its sets (and its version covers them).
                        tx.attach_sets(std::slice::from_mut(&mut record)).await?;
                        record
                    } else {
                        // The sets are part of the record: a change to them alone is a
                        // write (a new version), and the record is read back with them.
                        let owner = existing.get(&tx.entity.primary_key).cloned();
                        let sets_changed = tx
                            .write_sets(&owner.unwrap_or(Json::Null), Some(&existing), &wanted)
                            .await?;
                        if changes.is_empty() && !sets_changed {
                            return Ok(Written::new(existing, Vec::new()));
                        }
                        if !changes.is_empty() || tx.entity.version_index().is_some() {
                            tx.update(key.clone(), changes).await?;
                        }
                        tx.get(key, false).await?.ok_or(Error::NotFound)?
                    };
                    let change = Change::updated(&tx.entity, existing, record.clone(), passwords);
                    Ok(Written::new(record, vec![change]))
                })
            })
            .await;
        self.name_missing_reference(&entity, references, result)
            .await
    }

    /// Deletes one record, and what the database's foreign keys take with it (each row
    /// audited); returns it as it was. With a `precondition`, the stored record must still
    /// have one of its versions.
    pub async fn delete(
        &self,
        entity: EntityRef,
        key: Value,
        actor: Actor,
        precondition: Option<Precondition>,
    ) -> Result<Record, Error> {
        self.write(entity, Operation::Delete, actor, move |tx| {
            Box::pin(async move {
                let existing = tx.get(key.clone(), true).await?.ok_or(Error::NotFound)?;
                tx.check(precondition.as_ref(), &existing)?;
                let changes = tx.delete_cascading(vec![existing.clone()], &[key]).await?;
                Ok(Written::new(existing, changes))
            })
        })
        .await
    }

    /// Deletes every record of `keys` in one transaction, or none if any is missing or
    /// any of `versions` is no longer its record's. Returns the keys as the API sends them.
    pub async fn delete_many(
        &self,
        entity: EntityRef,
        keys: Vec<Value>,
        versions: Vec<(Value, Precondition)>,
        actor: Actor,
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
                let mut changed = Vec::new();
                for (key, precondition) in &versions {
                    let text = key_text(&key_json(key));
                    let Some(record) = records
                        .iter()
                        .find(|r| r.get(&key_name).map(key_text) == Some(text.clone()))
                    else {
                        continue;
                    };
                    let current = version::etag(&tx.entity, record);
                    if !precondition.matches(&current) {
                        changed.push((key_json(key), record.clone(), current));
                    }
                }
                if !changed.is_empty() {
                    return Err(Error::PreconditionsFailed(changed));
                }
                let changes = tx.delete_cascading(records, &keys).await?;
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
pub fn key_json(key: &Value) -> Json {
    match key {
        Value::Int(i) => value::int_to_json(*i),
        Value::Uuid(u) => Json::String(u.to_string()),
        Value::Text(t) => Json::String(t.clone()),
        other => Json::String(format!("{other:?}")),
    }
}

/// A key's text, to compare keys sent with keys read.
pub fn key_text(key: &Json) -> String {
    match key {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}
