//! What a delete takes, said before and done in the open: [`Db::dependents`] counts, per
//! foreign key reached, the rows a delete would delete by cascade, set to NULL or to their
//! default, or be refused by; a delete in its transaction ([`Tx::delete_cascading`]) reads
//! those rows first (locked), refuses with 409 what a restricting key or `max_cascade_rows`
//! forbids, and returns a change for every row the database will touch, so each is audited
//! with the delete that caused it.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use super::audit::{Change, record_id};
use super::graph::{Plan, bare};
use super::introspect::OnDelete;
use super::sql::graph::Statements;
use super::tx::Tx;
use super::{Db, EntityRef, Error, Record, sql};
use crate::schema::{Entity, Value};

/// How many records of each relation [`Db::dependents`] names.
const LABELS: u64 = 10;

/// One foreign key a delete reaches, and what the delete does through it.
#[derive(Clone, Debug, PartialEq)]
pub struct Dependent {
    /// The entity of the rows (or their table's name, when no entity describes it).
    pub entity: String,
    /// Whether `entity` is one of the admin's (the app can link to its rows).
    pub declared: bool,
    pub table: String,
    /// The referencing columns.
    pub via: Vec<String>,
    /// The entity (or table) they reference.
    pub of: String,
    pub action: OnDelete,
    pub count: u64,
    /// Up to ten of the rows: their key and their label.
    pub labels: Vec<(Json, Json)>,
    /// 1 for rows referencing the deleted records, 2 for rows referencing those...
    pub depth: usize,
}

impl Db {
    /// What deleting the records of `keys` would take, per foreign key, transitively.
    pub async fn dependents(
        &self,
        entity: &EntityRef,
        keys: &[Value],
    ) -> Result<Vec<Dependent>, Error> {
        let dialect = self.dialect();
        if entity.row_scope.is_some() {
            // Of the rows the user may reach only: another's is not found, as deleting it
            // would be (the statements below follow foreign keys, not the scope).
            let select = super::sql::existing_records(dialect, &self.catalog, entity, keys, false);
            let fail = |err| Error::from_sqlx(err, dialect, entity, super::error::Operation::Read);
            let found = read!(self, &fail, |conn| conn.fetch_all(&select, entity))?;
            super::write::in_order(entity, found, keys)?;
        }
        let plan = self.graph.plan(entity);
        let statements = Statements {
            dialect,
            catalog: &self.catalog,
            plan: &plan,
            root: entity,
            keys,
        };
        let mut dependents = Vec::with_capacity(plan.steps.len());
        for (index, step) in plan.steps.iter().enumerate() {
            let Some(child) = self.graph.entity(&step.link.child) else {
                continue;
            };
            let count = statements.count(index, child);
            let sample = statements.rows(index, child, Some(LABELS));
            let fail = |err| Error::from_sqlx(err, dialect, child, super::error::Operation::Read);
            let (count, rows) = read!(self, &fail, |conn| async {
                let n = conn.fetch_count(&count).await?;
                let rows = if n > 0 {
                    conn.fetch_all(&sample, child).await?
                } else {
                    Vec::new()
                };
                Ok((n, rows))
            })?;
            let label = self.graph.label(child);
            dependents.push(Dependent {
                entity: child.name.clone(),
                declared: entity.sibling(&child.name).is_some(),
                table: step.link.child.clone(),
                via: step.link.columns.clone(),
                of: self.graph.name_of(&step.link.parent),
                action: step.link.on_delete,
                count,
                labels: rows
                    .iter()
                    .map(|r| {
                        let key = r.get(&child.primary_key).cloned().unwrap_or(Json::Null);
                        let text = r.get(label).cloned().unwrap_or_else(|| key.clone());
                        (key, text)
                    })
                    .collect(),
                depth: step.depth,
            });
        }
        Ok(dependents)
    }
}

impl Tx {
    /// Deletes `records` (the rows of `keys`, read and locked) and returns a change for each,
    /// and for each row the database deletes or changes through foreign keys, read (locked)
    /// before. Refuses (409, before anything is written) when a restricting key still
    /// references a row, or when more than `max_cascade_rows` rows would go with them.
    pub(super) async fn delete_cascading(
        &mut self,
        records: Vec<Record>,
        keys: &[Value],
    ) -> Result<Vec<Change>, Error> {
        let entity = self.entity.clone();
        self.delete_cascading_of(&entity, records, keys).await
    }

    /// [`Tx::delete_cascading`] of records of `entity` (the transaction's, or another: the
    /// inline children a write leaves out).
    pub(super) async fn delete_cascading_of(
        &mut self,
        entity: &EntityRef,
        records: Vec<Record>,
        keys: &[Value],
    ) -> Result<Vec<Change>, Error> {
        let db = self.db.clone();
        let entity = entity.clone();
        let plan = db.graph.plan(&entity);
        let dialect = db.dialect();
        let statements = Statements {
            dialect,
            catalog: &db.catalog,
            plan: &plan,
            root: &entity,
            keys,
        };
        let mut reached: Vec<(usize, Vec<Record>)> = Vec::new();
        let mut total = 0u64;
        let mut seen: HashSet<(String, String)> = records
            .iter()
            .map(|r| (bare(&entity.table).to_owned(), record_id(&entity, r)))
            .collect();
        for (index, step) in plan.steps.iter().enumerate() {
            let Some(child) = db.graph.entity(&step.link.child) else {
                continue;
            };
            if step.link.on_delete == OnDelete::Restrict {
                let n = self.count(&statements.count(index, child)).await?;
                if n > 0 {
                    let whom = match (step.depth, keys.len()) {
                        (1, 1) => "this record",
                        (1, _) => "these records",
                        _ => "rows this delete would take with it",
                    };
                    let (records, verb) = if n == 1 {
                        ("record", "references")
                    } else {
                        ("records", "reference")
                    };
                    return Err(Error::Conflict {
                        field: None,
                        message: format!(
                            "cannot delete: {n} {records} of {} {verb} {whom} (by {})",
                            child.name,
                            step.link.columns.join(", "),
                        ),
                    });
                }
                continue;
            }
            let mut rows = self
                .fetch_all(&statements.rows(index, child, None), child)
                .await?;
            // A row two keys reach (a diamond) is taken once.
            rows.retain(|row| {
                seen.insert((bare(&child.table).to_owned(), db.graph.row_id(child, row)))
            });
            total += rows.len() as u64;
            if total > db.max_cascade_rows {
                return Err(Error::Conflict {
                    field: None,
                    message: format!(
                        "this delete would also delete or change more than {} rows (max_cascade_rows); nothing was deleted",
                        db.max_cascade_rows
                    ),
                });
            }
            reached.push((index, rows));
        }
        self.clear_sets(&entity, keys).await?;
        self.delete_keys(&entity, keys).await?;
        let causes = causes(&entity, &records, &plan, &reached, &db);
        let mut changes: Vec<Change> = records
            .into_iter()
            .map(|record| Change::deleted(&entity, record))
            .collect();
        for ((index, rows), row_causes) in reached.into_iter().zip(causes) {
            let step = &plan.steps[index];
            let Some(child) = db.graph.entity(&step.link.child) else {
                continue;
            };
            for (row, cause) in rows.into_iter().zip(row_causes) {
                let change = match step.link.on_delete {
                    OnDelete::Cascade => Change::deleted(child, row),
                    OnDelete::SetNull => {
                        let mut after = row.clone();
                        for field in child
                            .fields
                            .iter()
                            .filter(|f| step.link.columns.contains(&f.column))
                        {
                            after.insert(field.name.clone(), Json::Null);
                        }
                        Change::updated(child, row, after, Vec::new())
                    }
                    OnDelete::SetDefault | OnDelete::Restrict => {
                        // What the default is, the row says now.
                        let key = row.get(&child.primary_key).cloned().unwrap_or(Json::Null);
                        let after = match crate::schema::value::from_json(
                            child.key_field().value_type(),
                            &key,
                            &[],
                        ) {
                            Ok(key) => {
                                let get = sql::get(dialect, &db.catalog, child, key, false);
                                self.fetch_all(&get, child).await?.pop()
                            }
                            Err(_) => None,
                        };
                        Change::updated(child, row.clone(), after.unwrap_or(row), Vec::new())
                    }
                };
                let mut change = change.caused_by(cause);
                change.record_id = db
                    .graph
                    .row_id(child, change.before.as_ref().unwrap_or(&Record::new()));
                changes.push(change);
            }
        }
        Ok(changes)
    }
}

/// Which deleted record each reached row is there because of (`posts/7`), in the order of
/// `reached`: the root record it references, or the cause of the row it references (a row
/// of the step it came from, or, for a table referencing itself, one of its own step).
fn causes(
    entity: &Entity,
    records: &[Record],
    plan: &Plan,
    reached: &[(usize, Vec<Record>)],
    db: &Db,
) -> Vec<Vec<String>> {
    let cause_of = |record: &Record| format!("{}/{}", entity.name, record_id(entity, record));
    let fallback = records.first().map(&cause_of).unwrap_or_default();
    // Per step (`None`: the deleted records), the cause of each row by the values of each
    // set of its columns that something references.
    let mut known: HashMap<Option<usize>, HashMap<String, String>> = HashMap::new();
    let mut roots = HashMap::new();
    for step in plan.steps.iter().filter(|s| s.from.is_none()) {
        for record in records {
            if let Some(values) = values(record, entity, &step.link.parent_columns) {
                roots.insert(values, cause_of(record));
            }
        }
    }
    known.insert(None, roots);
    let mut out = Vec::with_capacity(reached.len());
    for (index, rows) in reached {
        let step = &plan.steps[*index];
        let Some(child) = db.graph.entity(&step.link.child) else {
            out.push(vec![fallback.clone(); rows.len()]);
            continue;
        };
        let referenced_by: Vec<&Vec<String>> = plan
            .steps
            .iter()
            .filter(|s| s.from == Some(*index))
            .map(|s| &s.link.parent_columns)
            .chain(std::iter::once(&step.link.parent_columns))
            .collect();
        let mut found: Vec<Option<String>> = vec![None; rows.len()];
        let mut own: HashMap<String, String> = HashMap::new();
        loop {
            let mut progress = false;
            for (i, row) in rows.iter().enumerate() {
                if found[i].is_some() {
                    continue;
                }
                let Some(referenced) = values(row, child, &step.link.columns) else {
                    continue;
                };
                let cause = known
                    .get(&step.from)
                    .and_then(|k| k.get(&referenced))
                    .or_else(|| own.get(&referenced))
                    .cloned();
                if let Some(cause) = cause {
                    for columns in &referenced_by {
                        if let Some(values) = values(row, child, columns) {
                            own.insert(values, cause.clone());
                        }
                    }
                    found[i] = Some(cause);
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        known.insert(Some(*index), own);
        out.push(
            found
                .into_iter()
                .map(|c| c.unwrap_or_else(|| fallback.clone()))
                .collect(),
        );
    }
    out
}

/// The values of `columns` of a record of `entity`, as one text (`[7]`, `[7,"a"]`); `None`
/// when a column is not among its fields or is NULL.
fn values(record: &Record, entity: &Entity, columns: &[String]) -> Option<String> {
    let mut out = Vec::with_capacity(columns.len());
    for column in columns {
        let field = entity.fields.iter().find(|f| &f.column == column)?;
        let value = record.get(&field.name)?;
        if value.is_null() {
            return None;
        }
        out.push(value.clone());
    }
    Some(Json::Array(out).to_string())
}
