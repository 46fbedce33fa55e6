//! Inline children (ng-admin's embedded_list, Django's inlines): the records of a one-to-many
//! relation marked `inline` are part of their parent's record. A single record carries them
//! (`"comments": [{…}, …]`, in key order), so its version covers them, and a write takes them
//! in the same body and transaction: rows with a key are updated (only what they name), rows
//! without one are created for this parent, rows left out are deleted when the relation says
//! `inline_delete`. Every child's change is audited as its own row; errors come back at their
//! path (`comments.1.body`).

use std::collections::HashMap;

use serde_json::Value as Json;

use super::audit::Change;
use super::driver::Conn;
use super::sets;
use super::tx::Tx;
use super::{EntityRef, Error, Record, key_text, sql};
use crate::query::{Condition, Filter, ListQuery};
use crate::schema::{
    self, Direction, Entity, FieldErrors, FieldType, Relation, Value, WriteError, value,
};

/// The children a write body gives, per inline relation (its index in `entity.relations`).
pub(super) type Given = Vec<(usize, Vec<Record>)>;

/// Takes the inline relations out of a write body: each must be a list of objects.
pub(super) fn take(entity: &Entity, body: &mut Record) -> Result<Given, FieldErrors> {
    let mut given = Vec::new();
    let mut errors = FieldErrors::new();
    for (index, relation) in entity.relations.iter().enumerate() {
        if !relation.inline {
            continue;
        }
        let Some(rows) = body.remove(&relation.name) else {
            continue;
        };
        let Json::Array(rows) = rows else {
            errors.insert(relation.name.clone(), "must be a list of records".into());
            continue;
        };
        let mut records = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            match row {
                Json::Object(record) => records.push(record),
                _ => {
                    errors.insert(format!("{}.{i}", relation.name), "must be an object".into());
                }
            }
        }
        given.push((index, records));
    }
    if errors.is_empty() {
        Ok(given)
    } else {
        Err(errors)
    }
}

/// `record` without its inline children: the parent's own values, as its audit row keeps
/// them (each child is audited on its own).
pub(super) fn without_children(entity: &Entity, mut record: Record) -> Record {
    for relation in entity.inlines() {
        record.remove(&relation.name);
    }
    record
}

/// The children of `owners` (their keys, as the API sends them) through `relation`, every
/// one, in key order.
fn children_query(child: &Entity, relation: &Relation, owners: &[Value]) -> ListQuery {
    let position = |name: &str| child.fields.iter().position(|f| f.name == name);
    let fk = position(&relation.foreign_key).expect("checked by Schema::new");
    let key = position(&child.primary_key).expect("checked by Schema::new");
    let owned = Filter {
        field: fk,
        condition: Condition::In(owners.to_vec()),
    };
    ListQuery::rows(vec![owned], key, Direction::Asc, u64::MAX)
}

/// Adds to `records` of `parent` their inline children, with the keys those hold in their
/// own many-to-many relations (unless they carry them already). One statement per relation
/// for all of `records`.
pub(super) async fn attach(
    conn: &mut Conn<'_>,
    reader: sets::Reader<'_>,
    parent: &EntityRef,
    records: &mut [Record],
) -> Result<(), sqlx::Error> {
    for relation in parent.inlines() {
        if records.iter().all(|r| r.contains_key(&relation.name)) {
            continue;
        }
        let Some(child) = parent.sibling(&relation.target) else {
            continue;
        };
        let key_type = parent.key_field().value_type();
        let owners: Vec<Value> = records
            .iter()
            .filter_map(|r| r.get(&parent.primary_key))
            .filter_map(|k| value::from_json(key_type, k, &[]).ok())
            .collect();
        let mut by_owner: HashMap<String, Vec<Json>> = HashMap::new();
        if !owners.is_empty() {
            let query = children_query(&child, relation, &owners);
            let select = sql::list(reader.dialect, reader.catalog, &child, &query);
            let mut rows = conn.fetch_all(&select, &child).await?;
            if child.sets().next().is_some() {
                let keys: Vec<Json> = rows
                    .iter()
                    .map(|r| r.get(&child.primary_key).cloned().unwrap_or_default())
                    .collect();
                let held = reader.held(conn, &child, &keys).await?;
                for row in &mut rows {
                    sets::attach(&child, row, &held);
                }
            }
            for row in rows {
                let owner = row
                    .get(&relation.foreign_key)
                    .map(key_text)
                    .unwrap_or_default();
                by_owner.entry(owner).or_default().push(Json::Object(row));
            }
        }
        for record in records.iter_mut() {
            let owner = record
                .get(&parent.primary_key)
                .map(key_text)
                .unwrap_or_default();
            let children = by_owner.remove(&owner).unwrap_or_default();
            record.insert(relation.name.clone(), Json::Array(children));
        }
    }
    Ok(())
}

/// One planned write of a child.
#[derive(Clone)]
enum Step {
    Create(schema::Changes),
    Update(Value, Record, schema::Changes),
}

impl Tx {
    /// Adds to `records` (of the transaction's entity) their inline children (unless they
    /// carry them already: read in this transaction).
    pub(super) async fn attach_inline(&mut self, records: &mut [Record]) -> Result<(), Error> {
        let parent = self.entity.clone();
        self.attach_inline_of(&parent, records).await
    }

    /// [`Tx::attach_inline`] for records of `parent` (the transaction's entity, or another).
    pub(super) async fn attach_inline_of(
        &mut self,
        parent: &EntityRef,
        records: &mut [Record],
    ) -> Result<(), Error> {
        let parent = parent.clone();
        let db = self.db.clone();
        let reader = db.sets_reader();
        let result = {
            let mut conn = self.conn();
            attach(&mut conn, reader, &parent, records).await
        };
        result.map_err(|err| self.fail(err))
    }

    /// Applies a checked `plan` for the parent `owner` (its key): creates, updates, and
    /// deletes (with what the database's keys take), in order. Returns the changes to audit.
    pub(super) async fn apply_inline(
        &mut self,
        owner: &Json,
        plan: Plan,
    ) -> Result<Vec<Change>, Error> {
        let mut changes = Vec::new();
        for planned in plan.0 {
            let child = planned.child;
            let fk = &child.fields[planned.foreign_key];
            let owner = value::from_json(fk.value_type(), owner, &[]).map_err(Error::Internal)?;
            for step in planned.steps {
                match step {
                    Step::Create(mut values) => {
                        // The new child's parent: known now (it may have just been made).
                        values.retain(|(i, _)| *i != planned.foreign_key);
                        values.push((planned.foreign_key, owner.clone()));
                        let record = self.insert_into(&child, values).await?;
                        changes.push(Change::created(&child, record, Vec::new()));
                    }
                    Step::Update(key, before, values) => {
                        let after = self
                            .update_in(&child, key, values)
                            .await?
                            .ok_or(Error::NotFound)?;
                        changes.push(Change::updated(&child, before, after, Vec::new()));
                    }
                }
            }
            if !planned.removed.is_empty() {
                let key_type = child.key_field().value_type();
                let keys: Vec<Value> = planned
                    .removed
                    .iter()
                    .filter_map(|r| r.get(&child.primary_key))
                    .filter_map(|k| value::from_json(key_type, k, &[]).ok())
                    .collect();
                // The log keeps each child whole, also its fields hidden from the writer.
                let removed = self.whole_records(&child, &keys).await?;
                let removed = removed.unwrap_or(planned.removed);
                changes.extend(self.delete_cascading_of(&child, removed, &keys).await?);
            }
        }
        Ok(changes)
    }
}

/// The writes of a body's children, every row checked, to apply once the parent's key is
/// known.
#[derive(Clone, Default)]
pub(super) struct Plan(Vec<Planned>);

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One relation's writes: its child entity, the index of the child's field that references
/// the parent, the creates and updates, and the stored children to delete.
#[derive(Clone)]
struct Planned {
    child: EntityRef,
    foreign_key: usize,
    steps: Vec<Step>,
    removed: Vec<Record>,
}

/// Checks the children `given` against `stored` (the parent as read in the write's
/// transaction, with its children; `None` on create): nothing is written. The errors name
/// their path (`comments.1.body`).
pub(super) fn plan(
    parent: &EntityRef,
    stored: Option<&Record>,
    given: Given,
) -> Result<Plan, Refused> {
    let owner = match stored.and_then(|r| r.get(&parent.primary_key)) {
        Some(key) => key.clone(),
        // On create the key is not known yet: the rows are checked with a stand-in of its
        // type, replaced when they are written.
        None => match parent.key_field().value_type() {
            FieldType::Integer => Json::from(0),
            FieldType::Uuid => Json::String(uuid::Uuid::nil().to_string()),
            _ => Json::String(String::new()),
        },
    };
    let mut planned = Vec::new();
    let mut errors = FieldErrors::new();
    let mut missing = FieldErrors::new();
    let mut locked = FieldErrors::new();
    for (index, rows) in given {
        let relation = &parent.relations[index];
        let Some(child) = parent.sibling(&relation.target) else {
            continue;
        };
        let Some(foreign_key) = child
            .fields
            .iter()
            .position(|f| f.name == relation.foreign_key)
        else {
            continue;
        };
        let found = Found {
            errors: &mut errors,
            missing: &mut missing,
            locked: &mut locked,
        };
        let (steps, removed) = plan_rows(&child, relation, &owner, stored, rows, found);
        planned.push(Planned {
            child,
            foreign_key,
            steps,
            removed,
        });
    }
    if !locked.is_empty() {
        // The writer may not make this write at all: that is said first (403).
        return Err(Refused {
            errors: locked,
            only_missing: false,
            forbidden: true,
        });
    }
    match (errors.is_empty(), missing.is_empty()) {
        (true, true) => Ok(Plan(planned)),
        (true, false) => Err(Refused {
            errors: missing,
            only_missing: true,
            forbidden: false,
        }),
        (false, _) => {
            errors.extend(missing);
            Err(Refused {
                errors,
                only_missing: false,
                forbidden: false,
            })
        }
    }
}

/// Why children cannot be written: rule violations (with any missing children), or only
/// rows naming children that are not the record's (a conflict with what is stored).
pub(super) struct Refused {
    pub errors: FieldErrors,
    pub only_missing: bool,
    /// The errors are changes of fields locked for the writer (403), and nothing else.
    pub forbidden: bool,
}

/// Where [`plan_rows`] puts what it finds wrong.
struct Found<'a> {
    errors: &'a mut FieldErrors,
    missing: &'a mut FieldErrors,
    /// Changes of fields locked for the writer, at their paths.
    locked: &'a mut FieldErrors,
}

/// The writes of one relation's rows, and the stored children to delete; rule violations
/// and rows naming a child that is not the record's go to `found` at their path.
fn plan_rows(
    child: &Entity,
    relation: &Relation,
    owner: &Json,
    stored: Option<&Record>,
    rows: Vec<Record>,
    found: Found,
) -> (Vec<Step>, Vec<Record>) {
    let Found {
        errors,
        missing,
        locked,
    } = found;
    let stored: Vec<Record> = stored
        .and_then(|r| r.get(&relation.name))
        .and_then(Json::as_array)
        .map(|rows| rows.iter().filter_map(|r| r.as_object().cloned()).collect())
        .unwrap_or_default();
    let by_key: HashMap<String, &Record> = stored
        .iter()
        .filter_map(|r| r.get(&child.primary_key).map(|k| (key_text(k), r)))
        .collect();
    let mut kept: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    let at = |i: usize, name: &str| format!("{}.{i}.{name}", relation.name);
    for (i, mut row) in rows.into_iter().enumerate() {
        // The children are this parent's: the reference to it is not the row's to set.
        row.remove(&relation.foreign_key);
        let key = row.remove(&child.primary_key).filter(|k| !k.is_null());
        let prepared = match &key {
            Some(key) => {
                let text = key_text(key);
                let Some(before) = by_key.get(&text) else {
                    if !child.key_is_generated() {
                        // A key the client chooses: a new child, with it.
                        row.insert(child.primary_key.clone(), key.clone());
                        row.insert(relation.foreign_key.clone(), owner.clone());
                        kept.push(text);
                        match schema::prepare_create(child, &row) {
                            Ok(values) => steps.push(Step::Create(values)),
                            Err(error) => report(error, i, &at, errors, locked),
                        }
                        continue;
                    }
                    missing.insert(
                        at(i, &child.primary_key),
                        format!("{text} is not one of this record's {}", relation.name),
                    );
                    continue;
                };
                if kept.contains(&text) {
                    errors.insert(at(i, &child.primary_key), format!("{text} is given twice"));
                    continue;
                }
                kept.push(text);
                schema::prepare_update(child, &row, before).map(|values| {
                    let key = value::from_json(child.key_field().value_type(), key, &[]);
                    match (values.is_empty(), key) {
                        (true, _) | (_, Err(_)) => None,
                        (false, Ok(key)) => Some(Step::Update(key, (*before).clone(), values)),
                    }
                })
            }
            None => {
                row.insert(relation.foreign_key.clone(), owner.clone());
                schema::prepare_create(child, &row).map(|values| Some(Step::Create(values)))
            }
        };
        match prepared {
            Ok(step) => steps.extend(step),
            Err(error) => report(error, i, &at, errors, locked),
        }
    }
    let removed: Vec<Record> = if relation.inline_delete {
        stored
            .iter()
            .filter(|r| {
                r.get(&child.primary_key)
                    .is_some_and(|k| !kept.contains(&key_text(k)))
            })
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let created = steps
        .iter()
        .filter(|s| matches!(s, Step::Create(_)))
        .count();
    let total = stored.len() - removed.len() + created;
    if let Some(max) = relation.inline_max
        && total as u64 > max
    {
        errors.insert(
            relation.name.clone(),
            format!(
                "holds at most {max} {} (this write leaves {total})",
                relation.name
            ),
        );
    }
    (steps, removed)
}

/// A child row's rule violations, at their paths.
fn report(
    error: WriteError,
    i: usize,
    at: &dyn Fn(usize, &str) -> String,
    errors: &mut FieldErrors,
    locked: &mut FieldErrors,
) {
    match error {
        WriteError::Invalid(found) => {
            for (name, message) in found {
                errors.insert(at(i, &name), message);
            }
        }
        // A child's field locked for the writer: told at its path, as a 403.
        WriteError::Forbidden(found) => {
            for (name, message) in found {
                locked.insert(at(i, &name), message);
            }
        }
        WriteError::UnknownKeys(names) => {
            for name in names {
                errors.insert(at(i, &name), "is not a field".into());
            }
        }
    }
}
