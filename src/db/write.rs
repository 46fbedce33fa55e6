//! The writes: create, update, delete, batch delete, each on the one transaction path
//! (`tx.rs`), with the versions they were asked to check.

use serde_json::Value as Json;

use super::audit::{self, Actor, Change};
use super::error::{MISSING_REFERENCE, Operation};
use super::once::Once;
use super::tx::{Tx, Written};
use super::{Db, EntityRef, Error, Record, inline, sets, version};
use crate::query::Precondition;
use crate::schema::{self, Changes, FieldType, Value, value};

impl Db {
    /// Validates and inserts a record, with its many-to-many sets and inline children;
    /// returns it as stored. `actor` is recorded in the audit log with every change, in the
    /// same transaction.
    pub async fn create(
        &self,
        entity: EntityRef,
        body: Record,
        actor: Actor,
    ) -> Result<Record, Error> {
        let made = self.create_claiming(entity, body, actor, None).await?;
        made.ok_or_else(|| Error::Internal("a create without a key made nothing".into()))
    }

    /// [`Db::create`], claiming `once`'s key first (`once.rs`): `None` when a create that
    /// committed holds it, and nothing was made.
    pub(super) async fn create_claiming(
        &self,
        entity: EntityRef,
        mut body: Record,
        actor: Actor,
        once: Option<Once>,
    ) -> Result<Option<Record>, Error> {
        let (wanted, given) = take_relations(&entity, &mut body, true)?;
        let (changes, plan) = checked(
            schema::prepare_create(&entity, &body),
            inline::plan(&entity, None, given),
        )?;
        let references = references(&entity, &changes);
        let passwords = audit::passwords(&entity, &changes);
        let result = self
            .write(entity.clone(), Operation::Write, actor, move |tx| {
                let (changes, wanted, plan, passwords, once) = (
                    changes.clone(),
                    wanted.clone(),
                    plan.clone(),
                    passwords.clone(),
                    once.clone(),
                );
                Box::pin(async move {
                    if let Some(once) = &once
                        && !tx.claim(once).await?
                    {
                        return Ok(Written::new(None, Vec::new()));
                    }
                    let mut record = tx.insert(changes).await?;
                    let key = record
                        .get(&tx.entity.primary_key)
                        .cloned()
                        .unwrap_or_default();
                    if !wanted.is_empty() {
                        tx.write_sets(&key, None, &wanted).await?;
                    }
                    let children = tx.apply_inline(&key, plan).await?;
                    let mut records = [record];
                    tx.attach_sets(&mut records).await?;
                    tx.attach_inline(&mut records).await?;
                    [record] = records;
                    let mut changes = vec![Change::created(&tx.entity, record.clone(), passwords)];
                    changes.extend(children);
                    if let Some(once) = &once {
                        tx.keep_answer(once, &record).await?;
                    }
                    Ok(Written::new(Some(record), changes))
                })
            })
            .await;
        self.name_missing_reference(&entity, references, result)
            .await
    }

    /// Merges `body` into the stored record, validates the result, and writes the fields
    /// the body names whose values differ, and the sets and inline children it names.
    /// Returns the record as stored. With a `precondition`, the stored record (with its sets
    /// and children) must still have one of its versions.
    pub async fn update(
        &self,
        entity: EntityRef,
        key: Value,
        mut body: Record,
        actor: Actor,
        precondition: Option<Precondition>,
    ) -> Result<Record, Error> {
        let (wanted, given) = take_relations(&entity, &mut body, false)?;
        let references = references_in_body(&entity, &body);
        let result = self
            .write(entity.clone(), Operation::Write, actor, move |tx| {
                let (key, body, given, precondition, wanted) = (
                    key.clone(),
                    body.clone(),
                    given.clone(),
                    precondition.clone(),
                    wanted.clone(),
                );
                Box::pin(async move {
                    let existing = tx.get(key.clone(), true).await?.ok_or(Error::NotFound)?;
                    // A body that breaks a rule is answered as such (400, 422) whatever the
                    // version: resending it after a reload would fail again.
                    let (changes, plan) = checked(
                        schema::prepare_update(&tx.entity, &body, &existing),
                        inline::plan(&tx.entity, Some(&existing), given),
                    )?;
                    tx.check(precondition.as_ref(), &existing)?;
                    let passwords = audit::passwords(&tx.entity, &changes);
                    tx.apply_update(existing, key, changes, passwords, &wanted, plan)
                        .await
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
            let (key, precondition) = (key.clone(), precondition.clone());
            Box::pin(async move {
                let existing = tx.get(key.clone(), true).await?.ok_or(Error::NotFound)?;
                tx.check(precondition.as_ref(), &existing)?;
                let entity = tx.entity.clone();
                let snapshot = tx
                    .whole_records(&entity, std::slice::from_ref(&key))
                    .await?;
                let snapshot = snapshot.unwrap_or_else(|| vec![existing.clone()]);
                let changes = tx.delete_cascading(snapshot, &[key]).await?;
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
            let (keys, versions) = (keys.clone(), versions.clone());
            Box::pin(async move {
                let found = tx.existing(&keys).await?;
                let records = in_order(&tx.entity, found, &keys)?;
                let requested: Vec<Json> = keys.iter().map(key_json).collect();
                check_versions(&tx.entity, &records, &versions)?;
                let entity = tx.entity.clone();
                let records = tx.whole_records(&entity, &keys).await?.unwrap_or(records);
                let changes = tx.delete_cascading(records, &keys).await?;
                Ok(Written::new(requested, changes))
            })
        })
        .await
    }

    /// A foreign-key failure whose column the database did not name (SQLite never does):
    /// finds the reference among `written` that points nowhere, after the failed
    /// transaction is gone.
    pub(super) async fn name_missing_reference<T>(
        &self,
        entity: &EntityRef,
        written: Changes,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
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
    /// Writes an update prepared against `existing` (its own `changes`, the sets `wanted`,
    /// the children's `plan`); answers the record as stored with the changes to audit, none
    /// when nothing differs.
    pub(super) async fn apply_update(
        &mut self,
        existing: Record,
        key: Value,
        changes: Changes,
        passwords: Vec<String>,
        wanted: &sets::Wanted,
        plan: inline::Plan,
    ) -> Result<Written<Record>, Error> {
        if wanted.is_empty() && plan.is_empty() {
            if changes.is_empty() {
                return Ok(Written::new(existing, Vec::new()));
            }
            let mut record = self.update(key, changes).await?.ok_or(Error::NotFound)?;
            // A record always carries its sets and children (its version
            // covers them).
            let mut records = [record];
            self.attach_sets(&mut records).await?;
            self.attach_inline(&mut records).await?;
            [record] = records;
            let change = Change::updated(&self.entity, existing, record.clone(), passwords);
            return Ok(Written::new(record, vec![change]));
        }
        // Sets and children are part of the record: a change to them alone is
        // a write (a new version), and the record is read back with them.
        let owner = existing
            .get(&self.entity.primary_key)
            .cloned()
            .unwrap_or_default();
        let sets_changed =
            !wanted.is_empty() && self.write_sets(&owner, Some(&existing), wanted).await?;
        let children = self.apply_inline(&owner, plan).await?;
        if changes.is_empty() && !sets_changed && children.is_empty() {
            return Ok(Written::new(existing, Vec::new()));
        }
        let versioned = self.entity.version_index().is_some();
        let own = !changes.is_empty() || sets_changed || versioned;
        if !changes.is_empty() || versioned {
            self.update(key.clone(), changes).await?;
        }
        let record = self.get(key, false).await?.ok_or(Error::NotFound)?;
        let mut audited = Vec::new();
        if own {
            audited.push(Change::updated(
                &self.entity,
                existing,
                record.clone(),
                passwords,
            ));
        }
        audited.extend(children);
        Ok(Written::new(record, audited))
    }
}

/// `records` in the order of `keys`, or the keys that have none.
pub(super) fn in_order(
    entity: &EntityRef,
    records: Vec<Record>,
    keys: &[Value],
) -> Result<Vec<Record>, Error> {
    let mut by_key: std::collections::HashMap<String, Record> = records
        .into_iter()
        .filter_map(|r| Some((key_text(r.get(&entity.primary_key)?), r)))
        .collect();
    let mut ordered = Vec::with_capacity(keys.len());
    let mut missing: Vec<Json> = Vec::new();
    for key in keys {
        let sent = key_json(key);
        match by_key.remove(&key_text(&sent)) {
            Some(record) => ordered.push(record),
            None => missing.push(sent),
        }
    }
    if missing.is_empty() {
        Ok(ordered)
    } else {
        Err(Error::KeysNotFound(missing))
    }
}

/// Fails with every record of `records` whose version is no longer the one `versions` gives
/// for it (a batch's preconditions).
pub(super) fn check_versions(
    entity: &EntityRef,
    records: &[Record],
    versions: &[(Value, Precondition)],
) -> Result<(), Error> {
    let key_name = &entity.primary_key;
    let mut changed = Vec::new();
    for (key, precondition) in versions {
        let text = key_text(&key_json(key));
        let Some(record) = records
            .iter()
            .find(|r| r.get(key_name).map(key_text).as_ref() == Some(&text))
        else {
            continue;
        };
        let current = version::etag(entity, record);
        if !precondition.matches(&current) {
            changed.push((key_json(key), record.clone(), current));
        }
    }
    if changed.is_empty() {
        Ok(())
    } else {
        Err(Error::PreconditionsFailed(changed))
    }
}

/// Takes a write body's many-to-many sets and inline children out of it, checking their
/// shape: what is left is the record's own fields. On create, a refusal names the fields'
/// errors too.
pub(super) fn take_relations(
    entity: &EntityRef,
    body: &mut Record,
    creating: bool,
) -> Result<(sets::Wanted, inline::Given), Error> {
    let (wanted, given) = (sets::take(entity, body), inline::take(entity, body));
    let errors = match (wanted, given) {
        (Ok(wanted), Ok(given)) => return Ok((wanted, given)),
        (Err(mut errors), Err(more)) => {
            errors.extend(more);
            errors
        }
        (Err(errors), _) | (_, Err(errors)) => errors,
    };
    let fields = creating
        .then(|| schema::prepare_create(entity, body).err())
        .flatten();
    Err(sets::rejected(errors, fields))
}

/// A write's own values and its children's plan, or every error of both at once.
fn checked(
    fields: Result<Changes, schema::WriteError>,
    children: Result<inline::Plan, inline::Refused>,
) -> Result<(Changes, inline::Plan), Error> {
    match (fields, children) {
        (Ok(fields), Ok(children)) => Ok((fields, children)),
        (_, Err(refused)) if refused.forbidden => Err(Error::Rejected(
            schema::WriteError::Forbidden(refused.errors),
        )),
        (Err(fields), Ok(_)) => Err(Error::Rejected(fields)),
        (Ok(_), Err(refused)) if refused.only_missing => Err(Error::Missing(refused.errors)),
        (fields, Err(refused)) => Err(sets::rejected(refused.errors, fields.err())),
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
pub(super) fn references_in_body(entity: &EntityRef, body: &Record) -> Changes {
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
