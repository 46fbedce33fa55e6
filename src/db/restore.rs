//! Undo of a delete: the audit log keeps every deleted row (and every row its delete took
//! with it by cascade, or changed by SET NULL, with the delete as their cause), so a delete
//! can be brought back: the record with its id, its cascade with theirs, the changed rows
//! as they were, in one transaction, each restored row audited as a create (or update).
//! When that cannot be (the id is taken again, a record it references is gone), nothing is
//! restored and the answer says why (409).

use serde_json::{Map, Value as Json};

use super::audit::{Actor, Change};
use super::error::Operation;
use super::{Db, EntityRef, Error, Record, sql};
use crate::query::{Comparison, ListQuery};
use crate::schema::{Changes, Direction, Entity, FieldType, Value, value};

/// What a restore brought back: the record, and how many rows of each entity (or table)
/// came back with it.
#[derive(Debug)]
pub struct Restored {
    pub entity: String,
    pub record: Record,
    pub rows: Vec<(String, u64)>,
}

/// One audit row of a cascade, to restore.
#[derive(Clone)]
struct Entry {
    entity: Entity,
    action: String,
    record_id: String,
    before: Map<String, Json>,
}

impl Db {
    /// Restores the delete that `entry` (a row of the audit log, read by the caller)
    /// records. `audit` is the audit log's entity.
    pub async fn restore(
        &self,
        audit: &EntityRef,
        entry: Record,
        actor: Actor,
    ) -> Result<Restored, Error> {
        let text = |name: &str| entry.get(name).and_then(Json::as_str).unwrap_or_default();
        let refuse = |message: String| Error::Conflict {
            field: None,
            message,
        };
        if text("action") != "delete" {
            return Err(refuse(format!(
                "cannot restore: entry {} records a{} {}, not a delete (to revert it, write its old values back)",
                entry.get("id").cloned().unwrap_or_default(),
                if text("action") == "update" { "n" } else { "" },
                text("action")
            )));
        }
        let Some(root) = audit.sibling(text("entity")) else {
            return Err(refuse(format!(
                "cannot restore: \"{}\" is not an entity of this admin (a row a cascade took comes back with the record whose delete took it)",
                text("entity")
            )));
        };
        let Some(Json::Object(before)) = entry.get("before").cloned() else {
            return Err(refuse("cannot restore: the entry keeps no values".into()));
        };
        let cause = format!("{}/{}", root.name, text("record_id"));
        // What its delete took with it: same request, this record as the cause.
        let cascade = match (text("cause"), text("request_id")) {
            ("", request) if !request.is_empty() => self.cascade_of(audit, request, &cause).await?,
            _ => Vec::new(),
        };
        self.write(root.clone(), Operation::Write, actor, move |tx| {
            let (before, cause, cascade) = (before.clone(), cause.clone(), cascade.clone());
            Box::pin(async move {
                let changes = values(&tx.entity, &before)?;
                let entity = tx.entity.clone();
                let mut record = tx
                    .insert_into(&entity, changes)
                    .await
                    .map_err(|error| why(error, &entity.name, &cause))?;
                // Its many-to-many relations as they were (a member deleted since: 409).
                let mut kept = before.clone();
                if let Ok(wanted) = super::sets::take(&entity, &mut kept)
                    && !wanted.is_empty()
                {
                    let key = record.get(&entity.primary_key).cloned().unwrap_or_default();
                    tx.write_sets(&key, None, &wanted).await.map_err(|error| match error {
                        Error::Rejected(crate::schema::WriteError::Invalid(errors))
                        | Error::Missing(errors) => {
                            Error::Conflict {
                                field: None,
                                message: format!(
                                    "cannot restore {cause}: {}",
                                    errors.into_values().collect::<Vec<_>>().join("; ")
                                ),
                            }
                        }
                        other => other,
                    })?;
                    tx.attach_sets(std::slice::from_mut(&mut record)).await?;
                }
                let mut audited = vec![Change::created(&entity, record.clone(), Vec::new())];
                let mut counts: Vec<(String, u64)> = Vec::new();
                // Parents first; a row whose parent is not back yet waits for the next round.
                let mut pending = cascade;
                loop {
                    let before_round = pending.len();
                    let mut waiting = Vec::new();
                    for entry in pending {
                        let statement = entry.statement(&tx.db)?;
                        match tx.attempt(&statement).await {
                            Ok(_) => {
                                let change = entry.change();
                                match counts.iter_mut().find(|(n, _)| *n == entry.entity.name) {
                                    Some((_, n)) => *n += 1,
                                    None => counts.push((entry.entity.name.clone(), 1)),
                                }
                                audited.push(change.caused_by(cause.clone()));
                            }
                            Err(Error::Conflict { message, .. })
                                if message == super::error::MISSING_REFERENCE =>
                            {
                                waiting.push(entry);
                            }
                            Err(error) => {
                                return Err(why(error, &entry.entity.name, &entry.record_id));
                            }
                        }
                    }
                    pending = waiting;
                    if pending.is_empty() || pending.len() == before_round {
                        break;
                    }
                }
                if let Some(stuck) = pending.first() {
                    return Err(Error::Conflict {
                        field: None,
                        message: format!(
                            "cannot restore: {} row(s) of {} reference records that are gone (first: {})",
                            pending.len(),
                            stuck.entity.name,
                            stuck.record_id
                        ),
                    });
                }
                let restored = Restored {
                    entity: entity.name.clone(),
                    record,
                    rows: counts,
                };
                Ok(super::tx::Written::new(restored, audited))
            })
        })
        .await
    }

    /// The audit rows of what the delete of `cause` took with it in `request`, in the order
    /// they were written (parents first).
    async fn cascade_of(
        &self,
        audit: &EntityRef,
        request: &str,
        cause: &str,
    ) -> Result<Vec<Entry>, Error> {
        let equals = |name: &str, text: &str| {
            super::compare(audit, name, Comparison::Eq, Value::Text(text.to_owned()))
        };
        let list_query = ListQuery::rows(
            vec![equals("request_id", request), equals("cause", cause)],
            super::field_index(audit, "id"),
            Direction::Asc,
            self.max_cascade_rows.saturating_add(1),
        );
        let rows = self.all(audit, &list_query).await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let text = |name: &str| row.get(name).and_then(Json::as_str).unwrap_or_default();
            let entity = audit
                .sibling(text("entity"))
                .map(|e| (*e).clone())
                .or_else(|| self.graph.entity(text("entity")).cloned());
            let (Some(entity), Some(Json::Object(before))) = (entity, row.get("before").cloned())
            else {
                continue;
            };
            entries.push(Entry {
                entity,
                action: text("action").to_owned(),
                record_id: text("record_id").to_owned(),
                before,
            });
        }
        Ok(entries)
    }
}

impl Entry {
    /// A deleted row inserted again; a changed row's fields set back.
    fn statement(&self, db: &Db) -> Result<sql::Sql, Error> {
        let changes = values(&self.entity, &self.before)?;
        if self.action == "delete" {
            return Ok(sql::insert(
                db.dialect(),
                &db.catalog,
                &self.entity,
                changes,
            ));
        }
        let key = value::parse_key(self.entity.key_field().value_type(), &self.record_id)
            .map_err(|message| Error::Internal(format!("audit record id: {message}")))?;
        Ok(sql::update(
            db.dialect(),
            &db.catalog,
            &self.entity,
            key,
            changes,
        ))
    }

    /// How the restore of this row is audited.
    fn change(&self) -> Change {
        let mut change = if self.action == "delete" {
            Change::created(&self.entity, self.before.clone(), Vec::new())
        } else {
            // Back from what the cascade made of them (NULL, a default) to what they were.
            let made: Map<String, Json> = self
                .before
                .keys()
                .map(|name| (name.clone(), Json::Null))
                .collect();
            Change::updated(&self.entity, made, self.before.clone(), Vec::new())
        };
        change.record_id = self.record_id.clone();
        change
    }
}

/// The values of `before` for the fields of `entity` it has, to write as they were.
pub(super) fn values(entity: &Entity, before: &Map<String, Json>) -> Result<Changes, Error> {
    let mut changes = Changes::new();
    for (index, field) in entity.fields.iter().enumerate() {
        let Some(json) = before.get(&field.name) else {
            continue;
        };
        // A kept choice is text the database held: back it goes, whatever the choices now.
        let value_type = match field.value_type() {
            FieldType::Choice => FieldType::String,
            other => other,
        };
        let value = value::from_json(value_type, json, &[]).map_err(|message| Error::Conflict {
            field: Some(field.name.clone()),
            message: format!("cannot restore: the kept value {message}"),
        })?;
        changes.push((index, value));
    }
    Ok(changes)
}

/// A restore's failure in words: the id taken again, a referenced record gone.
fn why(error: Error, entity: &str, id: &str) -> Error {
    match error {
        Error::Conflict { message, .. } if message == super::error::MISSING_REFERENCE => {
            Error::Conflict {
                field: None,
                message: format!("cannot restore {entity} {id}: a record it references is gone"),
            }
        }
        Error::Conflict { .. } => Error::Conflict {
            field: None,
            message: format!(
                "cannot restore {entity} {id}: its id (or another unique value) is taken again"
            ),
        },
        other => other,
    }
}
