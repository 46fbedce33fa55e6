//! A bulk update: the same fields and many-to-many sets written to every record of a batch,
//! in one transaction, all or nothing, each record validated and audited as a PATCH of it
//! would be.

use super::audit::{self, Actor};
use super::error::Operation;
use super::tx::Written;
use super::write::{
    check_versions, in_order, key_json, key_text, references_in_body, take_relations,
};
use super::{Db, EntityRef, Error, Record, inline};
use crate::query::Precondition;
use crate::schema::{self, FieldErrors, Value, WriteError};

impl Db {
    /// Merges `body` (fields and many-to-many sets; inline children are written one record
    /// at a time) into every record of `keys` and writes what differs, in one transaction.
    /// Nothing is written when any record is missing (`KeysNotFound`), no longer has the
    /// version `versions` gives for it (`PreconditionsFailed`), or would be invalid (every
    /// error, at `{key}.{field}`). Returns the records as stored, in the order of `keys`.
    /// `cause` (an action's name) is recorded with each change in the audit log.
    pub async fn update_many(
        &self,
        entity: EntityRef,
        keys: Vec<Value>,
        versions: Vec<(Value, Precondition)>,
        mut body: Record,
        actor: Actor,
        cause: Option<String>,
    ) -> Result<Vec<Record>, Error> {
        let (wanted, _) = take_relations(&entity, &mut body, false)?;
        if keys.is_empty() {
            schema::check_update(&entity, &body).map_err(Error::Rejected)?;
            return Ok(Vec::new());
        }
        let references = references_in_body(&entity, &body);
        let result = self
            .write(entity.clone(), Operation::Write, actor, move |tx| {
                let (keys, body, versions, wanted, cause) = (
                    keys.clone(),
                    body.clone(),
                    versions.clone(),
                    wanted.clone(),
                    cause.clone(),
                );
                Box::pin(async move {
                    let found = tx.existing(&keys).await?;
                    let records = in_order(&tx.entity, found, &keys)?;
                    // Every record is checked before any is written: all the errors at once,
                    // and before the versions (as a single update).
                    let mut prepared = Vec::with_capacity(records.len());
                    let mut errors = FieldErrors::new();
                    for (key, record) in keys.iter().zip(&records) {
                        match schema::prepare_update(&tx.entity, &body, record) {
                            Ok(changes) => prepared.push(changes),
                            Err(WriteError::Invalid(found)) => {
                                let id = key_text(&key_json(key));
                                errors.extend(
                                    found.into_iter().map(|(f, m)| (format!("{id}.{f}"), m)),
                                );
                            }
                            Err(other) => return Err(Error::Rejected(other)),
                        }
                    }
                    if !errors.is_empty() {
                        return Err(Error::Rejected(WriteError::Invalid(errors)));
                    }
                    check_versions(&tx.entity, &records, &versions)?;
                    let mut stored = Vec::with_capacity(records.len());
                    let mut audited = Vec::new();
                    for ((key, record), changes) in keys.into_iter().zip(records).zip(prepared) {
                        let passwords = audit::passwords(&tx.entity, &changes);
                        let plan = inline::Plan::default();
                        let written = tx
                            .apply_update(record, key, changes, passwords, &wanted, plan)
                            .await?;
                        stored.push(written.value);
                        audited.extend(written.changes.into_iter().map(|change| match &cause {
                            Some(cause) => change.caused_by(cause.clone()),
                            None => change,
                        }));
                    }
                    Ok(Written::new(stored, audited))
                })
            })
            .await;
        self.name_missing_reference(&entity, references, result)
            .await
    }
}
