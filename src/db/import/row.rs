//! One row of an import written: inserted, or found by its key and updated, as a POST or a
//! PATCH of it would be, with its many-to-many sets and its audit rows.

use serde_json::Value as Json;

use super::super::audit::{self, Actor, Change};
use super::super::tx::Tx;
use super::super::write::{key_text, take_relations};
use super::super::{Error, Record, inline, sql};
use super::CAUSE;
use crate::query::{ImportMode, ImportOptions};
use crate::schema::{self, Field, FieldErrors, Value, WriteError, value};

/// What a written row did, with the record as stored when asked (`keep`).
pub(super) enum Outcome {
    Inserted(Option<Record>),
    Updated(Option<Record>),
    Unchanged(Option<Record>),
}

/// Writes one row's body (`write`: else only checks it).
pub(super) async fn write_row(
    tx: &mut Tx,
    options: &ImportOptions,
    actor: &Actor,
    mut body: Record,
    write: bool,
    keep: bool,
) -> Result<Outcome, Error> {
    let entity = tx.entity.clone();
    let existing = match options.mode {
        ImportMode::Insert => None,
        ImportMode::Upsert | ImportMode::Update => find(tx, &options.key, &body).await?,
    };
    let Some(existing) = existing else {
        if options.mode == ImportMode::Update {
            let given = body.get(&options.key).map(key_text).unwrap_or_default();
            let message = format!("finds no record (no {} is \"{given}\")", options.key);
            return Err(Error::Missing([(options.key.clone(), message)].into()));
        }
        let (wanted, _) = take_relations(&entity, &mut body, true)?;
        let changes = schema::prepare_create(&entity, &body).map_err(Error::Rejected)?;
        if !write {
            return Ok(Outcome::Inserted(None));
        }
        let passwords = audit::passwords(&entity, &changes);
        let record = tx.insert(changes).await?;
        let key = record.get(&entity.primary_key).cloned().unwrap_or_default();
        if !wanted.is_empty() {
            tx.write_sets(&key, None, &wanted).await?;
        }
        let mut records = [record];
        tx.attach_sets(&mut records).await?;
        let [record] = records;
        let kept = keep.then(|| record.clone());
        let change = Change::created(&entity, record, passwords).caused_by(CAUSE.into());
        tx.audit(actor, &change).await?;
        return Ok(Outcome::Inserted(kept));
    };
    let (wanted, _) = take_relations(&entity, &mut body, false)?;
    let changes = schema::prepare_update(&entity, &body, &existing).map_err(Error::Rejected)?;
    if !write {
        return Ok(if changes.is_empty() {
            Outcome::Unchanged(None)
        } else {
            Outcome::Updated(None)
        });
    }
    let key_field = entity.key_field();
    let key = existing
        .get(&entity.primary_key)
        .and_then(|json| value::from_json(key_field.value_type(), json, &[]).ok())
        .ok_or_else(|| Error::Internal("a stored record without its key".into()))?;
    let passwords = audit::passwords(&entity, &changes);
    let plan = inline::Plan::default();
    let written = tx
        .apply_update(existing, key, changes, passwords, &wanted, plan)
        .await?;
    let kept = keep.then(|| written.value.clone());
    if written.changes.is_empty() {
        return Ok(Outcome::Unchanged(kept));
    }
    for change in written.changes {
        tx.audit(actor, &change.caused_by(CAUSE.into())).await?;
    }
    Ok(Outcome::Updated(kept))
}

/// The stored record whose `key` field holds the body's value (none when the body has none).
async fn find(tx: &mut Tx, key: &str, body: &Record) -> Result<Option<Record>, Error> {
    let entity = tx.entity.clone();
    let Some(field) = entity.find_field(key) else {
        return Ok(None);
    };
    let given = body.get(key).cloned().unwrap_or(Json::Null);
    if given.is_null() || given == Json::String(String::new()) {
        return Ok(None);
    }
    let value = value::from_json(field.value_type(), &given, &field.choices)
        .map_err(|message| invalid(key, message))?;
    if field.name == entity.primary_key {
        return tx.get(value, true).await;
    }
    tx.find_by(field, value).await
}

fn invalid(field: &str, message: String) -> Error {
    let mut errors = FieldErrors::new();
    errors.insert(field.to_owned(), message);
    Error::Rejected(WriteError::Invalid(errors))
}

impl Tx {
    /// The record whose `field` (unique) holds `value`, its row locked, with its sets.
    async fn find_by(&mut self, field: &Field, value: Value) -> Result<Option<Record>, Error> {
        let db = self.db.clone();
        let select =
            sql::import::find_by(db.dialect(), &db.catalog, &self.entity, field, value, true);
        let Some(record) = self.fetch_optional(&select).await? else {
            return Ok(None);
        };
        let mut records = [record];
        self.attach_sets(&mut records).await?;
        let [record] = records;
        Ok(Some(record))
    }
}
