//! Revert of an import, from the audit log: every change an import made is an audit row of
//! its request (`cause = 'import'`), so it can be undone, newest first, in one transaction:
//! a record it created is deleted (with what the database's foreign keys take with it, each
//! row audited), a record it updated gets its old values back. A record changed since the
//! import (by anyone: its stored values are no longer what the import wrote) is not
//! overwritten: the revert is refused (409) and nothing is undone. The import's row in the
//! table of imports becomes `reverted` in the same transaction, so a revert happens once.

use serde_json::{Map, Value as Json};

use super::audit::{self, Actor, Change};
use super::error::Operation;
use super::sql::{self, Sql};
use super::tx::{Tx, Written};
use super::{Db, EntityRef, Error, Record};
use crate::query::{Comparison, ListQuery};
use crate::schema::{Direction, Entity, FieldType, Value, value};

/// What a revert undid.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reverted {
    /// Records the import created, deleted.
    pub deleted: u64,
    /// Records the import updated, given their old values back.
    pub restored: u64,
    /// Records the import created that were deleted since: nothing to undo.
    pub gone: u64,
}

/// Audit rows read at a time.
const PAGE: u64 = 500;

/// The most conflicts a refusal names.
const NAMED: usize = 10;

impl Db {
    /// Reverts import `id` of `entity` (its job ended: `done`, `failed` or `cancelled`), as
    /// `actor`; the audit rows of the revert have the cause `revert`.
    pub async fn revert_import(
        &self,
        entity: EntityRef,
        id: String,
        actor: Actor,
    ) -> Result<Reverted, Error> {
        let Some(audit) = entity.sibling(audit::ENTITY) else {
            return Err(Error::Conflict {
                field: None,
                message: "cannot revert: this admin keeps no audit log".into(),
            });
        };
        let writer = actor.clone();
        self.write(entity, Operation::Write, actor, move |tx| {
            let (id, audit, writer) = (id.clone(), audit.clone(), writer.clone());
            Box::pin(async move {
                claim(tx, &id).await?;
                let mut reverted = Reverted::default();
                let mut conflicts = Vec::new();
                let mut last = None;
                loop {
                    let page = tx
                        .fetch_all(&changes_of(tx, &audit, &id, last), &audit)
                        .await?;
                    for entry in &page {
                        for change in undo(tx, entry, &mut reverted, &mut conflicts).await? {
                            tx.audit(&writer, &change).await?;
                        }
                    }
                    last = page.last().and_then(|e| e.get("id")).and_then(Json::as_i64);
                    if (page.len() as u64) < PAGE || last.is_none() {
                        break;
                    }
                }
                if !conflicts.is_empty() {
                    return Err(refusal(&tx.entity.name, &conflicts));
                }
                Ok(Written::new(reverted, Vec::new()))
            })
        })
        .await
    }
}

/// Marks import `id` reverted, once: refused when it is running, reverted already, or not
/// an import of this entity.
async fn claim(tx: &mut Tx, id: &str) -> Result<(), Error> {
    let dialect = tx.db.dialect();
    let mut text = "UPDATE autoadmin_imports SET status = 'reverted' \
                    WHERE status IN ('done', 'failed', 'cancelled') AND id = "
        .to_owned();
    dialect.placeholder(1, &mut text);
    text.push_str(" AND entity = ");
    dialect.placeholder(2, &mut text);
    let binds = vec![
        Value::Text(id.to_owned()),
        Value::Text(tx.entity.name.clone()),
    ];
    let claimed = tx.execute(&Sql::new(text, binds)).await?.rows_affected;
    if claimed == 1 {
        return Ok(());
    }
    Err(Error::Conflict {
        field: None,
        message: format!(
            "cannot revert import {id}: it is running or reverted already (only an ended import is reverted, once)"
        ),
    })
}

/// The next page of the import's audit rows, newest first, before the row `last`.
fn changes_of(tx: &Tx, audit: &Entity, id: &str, last: Option<i64>) -> Sql {
    let equals = |name: &str, text: &str| {
        super::compare(audit, name, Comparison::Eq, Value::Text(text.to_owned()))
    };
    let mut filters = vec![
        equals("request_id", id),
        equals("cause", "import"),
        equals("entity", &tx.entity.name),
    ];
    filters.extend(last.map(|last| super::compare(audit, "id", Comparison::Lt, Value::Int(last))));
    let list_query = ListQuery::rows(
        filters,
        super::field_index(audit, "id"),
        Direction::Desc,
        PAGE,
    );
    sql::list(tx.db.dialect(), &tx.db.catalog, audit, &list_query)
}

/// Undoes one audit row's change; the changes to audit. A record changed since is added to
/// `conflicts` instead (nothing is written for it).
async fn undo(
    tx: &mut Tx,
    entry: &Record,
    reverted: &mut Reverted,
    conflicts: &mut Vec<String>,
) -> Result<Vec<Change>, Error> {
    let text = |name: &str| entry.get(name).and_then(Json::as_str).unwrap_or_default();
    let object = |name: &str| match entry.get(name) {
        Some(Json::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let entity = tx.entity.clone();
    let record_id = text("record_id").to_owned();
    let key = value::parse_key(entity.key_field().value_type(), &record_id)
        .map_err(|message| Error::Internal(format!("audit record id: {message}")))?;
    let mut current = tx.get(key.clone(), true).await?;
    // With its many-to-many members, as the log has them.
    if let Some(record) = current.as_mut() {
        tx.attach_sets(std::slice::from_mut(record)).await?;
    }
    let after = object("after");
    match (text("action"), current) {
        ("create", None) => {
            reverted.gone += 1;
            Ok(Vec::new())
        }
        ("create", Some(current)) if unchanged(&entity, &current, &after) => {
            reverted.deleted += 1;
            let changes = tx.delete_cascading(vec![current], &[key]).await?;
            Ok(changes.into_iter().map(revert_cause).collect())
        }
        ("update", Some(current)) if unchanged(&entity, &current, &after) => {
            let mut before = object("before");
            let wanted = super::sets::take(&entity, &mut before).map_err(|errors| {
                cannot(
                    &record_id,
                    errors.into_values().collect::<Vec<_>>().join("; "),
                )
            })?;
            let changes = old_values(&entity, &before)?;
            if !changes.is_empty() {
                tx.update(key.clone(), changes)
                    .await?
                    .ok_or(Error::NotFound)?;
            }
            if !wanted.is_empty() {
                let owner = current
                    .get(&entity.primary_key)
                    .cloned()
                    .unwrap_or_default();
                tx.write_sets(&owner, Some(&current), &wanted)
                    .await
                    .map_err(|error| match error {
                        Error::Rejected(crate::schema::WriteError::Invalid(errors))
                        | Error::Missing(errors) => cannot(
                            &record_id,
                            errors.into_values().collect::<Vec<_>>().join("; "),
                        ),
                        other => other,
                    })?;
            }
            let mut stored = tx.get(key, false).await?.ok_or(Error::NotFound)?;
            tx.attach_sets(std::slice::from_mut(&mut stored)).await?;
            reverted.restored += 1;
            Ok(vec![revert_cause(Change::updated(
                &entity,
                current,
                stored,
                Vec::new(),
            ))])
        }
        ("update", None) => {
            conflicts.push(format!("{record_id} (deleted since)"));
            Ok(Vec::new())
        }
        _ => {
            conflicts.push(record_id);
            Ok(Vec::new())
        }
    }
}

/// A record whose old values cannot go back (a member deleted since, say).
fn cannot(record_id: &str, why: String) -> Error {
    Error::Conflict {
        field: None,
        message: format!("cannot revert record {record_id}: {why}"),
    }
}

/// Whether `current` still holds the values the import wrote (`after`), many-to-many
/// members included; password fields (never in the log) aside.
fn unchanged(entity: &Entity, current: &Record, after: &Map<String, Json>) -> bool {
    after.iter().all(|(name, wrote)| {
        let password = entity
            .find_field(name)
            .is_some_and(|f| f.field_type == FieldType::Password);
        password || current.get(name).is_none_or(|now| now == wrote)
    })
}

/// The old values of the fields `before` names, to write back (passwords aside: the log
/// never holds them).
fn old_values(
    entity: &Entity,
    before: &Map<String, Json>,
) -> Result<crate::schema::Changes, Error> {
    let mut kept = before.clone();
    kept.retain(|name, _| {
        entity
            .find_field(name)
            .is_some_and(|f| f.field_type != FieldType::Password)
    });
    super::restore::values(entity, &kept)
}

/// A change of the revert itself (a cascade's rows keep the delete that took them).
fn revert_cause(change: Change) -> Change {
    if change.cause.is_some() {
        change
    } else {
        change.caused_by("revert".into())
    }
}

fn refusal(entity: &str, conflicts: &[String]) -> Error {
    let named: Vec<&str> = conflicts.iter().take(NAMED).map(String::as_str).collect();
    let more = conflicts.len().saturating_sub(NAMED);
    Error::Conflict {
        field: None,
        message: format!(
            "cannot revert: {} record(s) of {entity} changed since the import ({}{}); nothing was reverted",
            conflicts.len(),
            named.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
    }
}
