//! Many-to-many relations in records: the keys each record holds in each of its entity's
//! relations (`"tags": [3, 7]`), read with one statement per relation for a whole page (never
//! one per row), and written in the record's transaction as the difference from what is
//! stored.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use serde_json::Value as Json;

use super::driver::Conn;
use super::sql::sets as statements;
use super::tx::Tx;
use super::{Catalog, Dialect, Error, Record};
use crate::schema::{Entity, FieldErrors, Relation, Value, WriteError, value};

/// The keys held by records, per relation (in `entity.sets()` order): owner's key as JSON
/// text → the member keys, in order.
pub(super) type Held = Vec<HashMap<String, Vec<Json>>>;

/// What one statement needs: the backend and its catalog.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a> {
    pub dialect: Dialect,
    pub catalog: &'a Catalog,
}

impl Reader<'_> {
    /// The keys `owners` hold in each relation of `entity`.
    pub async fn held(
        &self,
        conn: &mut Conn<'_>,
        entity: &Entity,
        owners: &[Json],
    ) -> Result<Held, sqlx::Error> {
        let key = entity.key_field();
        let owners: Vec<Value> = owners
            .iter()
            .filter_map(|k| value::from_json(key.value_type(), k, &[]).ok())
            .collect();
        let mut held = Vec::new();
        for relation in entity.sets() {
            let mut map: HashMap<String, Vec<Json>> = HashMap::new();
            let junction = relation.junction().expect("checked by Schema::new");
            if !owners.is_empty() {
                let select =
                    statements::members(self.dialect, self.catalog, entity, junction, &owners);
                let mut rows = conn.fetch(&select);
                while let Some(row) = rows.try_next().await? {
                    let owner = row.decode(0, junction.owner.value_type())?;
                    let member = row.decode(1, junction.member.value_type())?;
                    map.entry(owner.to_string()).or_default().push(member);
                }
            }
            // One order everywhere (a stream sorts its members so too), whatever the
            // database's collation.
            for members in map.values_mut() {
                members.sort_by(order);
            }
            held.push(map);
        }
        Ok(held)
    }
}

/// A streamed record's members of one relation (a JSON array, in no given order): the keys
/// in order, or with `labels` the display values in order, as one text (`rust; sql`).
pub(super) fn streamed(members: Json, labels: bool) -> Json {
    let mut members = match members {
        Json::Array(items) => items,
        Json::Null => Vec::new(),
        other => vec![other],
    };
    members.sort_by(order);
    if labels {
        let texts: Vec<String> = members.iter().map(super::key_text).collect();
        Json::String(texts.join("; "))
    } else {
        Json::Array(members)
    }
}

/// The order of members: numbers by value, texts by their characters.
fn order(a: &Json, b: &Json) -> std::cmp::Ordering {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        _ => super::key_text(a).cmp(&super::key_text(b)),
    }
}

/// Adds to `record` the keys it holds in each relation (`held` is for it alone).
pub(super) fn attach(entity: &Entity, record: &mut Record, held: &Held) {
    let key = record
        .get(&entity.primary_key)
        .cloned()
        .unwrap_or(Json::Null)
        .to_string();
    for (relation, map) in entity.sets().zip(held) {
        let keys = map.get(&key).cloned().unwrap_or_default();
        record.insert(relation.name.clone(), Json::Array(keys));
    }
}

/// Writes each record's relations into a JSON array of records: `rows` are each record's key
/// and the position of its object's closing brace in `json`, in order.
pub(super) fn splice(entity: &Entity, json: &mut Vec<u8>, rows: &[(Json, usize)], held: &Held) {
    if rows.is_empty() {
        return;
    }
    let names: Vec<Vec<u8>> = entity
        .sets()
        .map(|r| serde_json::to_vec(&r.name).unwrap_or_default())
        .collect();
    let mut out = Vec::with_capacity(json.len() + rows.len() * 24);
    let mut from = 0;
    for (key, end) in rows {
        out.extend_from_slice(&json[from..*end]);
        let key = key.to_string();
        for (name, map) in names.iter().zip(held) {
            out.push(b',');
            out.extend_from_slice(name);
            out.push(b':');
            let keys = map.get(&key).map(Vec::as_slice).unwrap_or_default();
            // Writing JSON values to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, keys);
        }
        from = *end;
    }
    out.extend_from_slice(&json[from..]);
    *json = out;
}

/// The sets a write body names, taken out of it: relation index in `entity.sets()` order
/// and the keys, each once, in the order given.
pub(super) type Wanted = Vec<(usize, Vec<Value>)>;

/// Takes the relations out of a write body, checking that each is a list of keys of the
/// target's type; the rest of the body is the record's fields.
pub(super) fn take(entity: &Entity, body: &mut Record) -> Result<Wanted, FieldErrors> {
    let mut wanted = Vec::new();
    let mut errors = FieldErrors::new();
    for (index, relation) in entity.sets().enumerate() {
        let Some(given) = body.remove(&relation.name) else {
            continue;
        };
        let items = match given {
            Json::Array(items) => items,
            Json::Null => Vec::new(),
            _ => {
                errors.insert(relation.name.clone(), "must be a list of keys".into());
                continue;
            }
        };
        let mut keys: Vec<Value> = Vec::with_capacity(items.len());
        for item in &items {
            match value::from_json(relation.key_type(), item, &[]) {
                Ok(key) if key.is_null() => {
                    errors.insert(relation.name.clone(), "holds keys, never null".into());
                }
                Ok(key) => {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                Err(message) => {
                    errors.insert(relation.name.clone(), format!("holds keys: {message}"));
                }
            }
        }
        wanted.push((index, keys));
    }
    if errors.is_empty() {
        Ok(wanted)
    } else {
        Err(errors)
    }
}

/// The errors of a body whose relations and fields may both be wrong, as one answer.
pub(super) fn rejected(sets: FieldErrors, fields: Option<WriteError>) -> Error {
    match fields {
        Some(WriteError::Invalid(mut errors)) => {
            errors.extend(sets);
            Error::Rejected(WriteError::Invalid(errors))
        }
        Some(other) => Error::Rejected(other),
        None => Error::Rejected(WriteError::Invalid(sets)),
    }
}

impl Tx {
    /// Adds to `records` (of the transaction's entity) the keys they hold in its relations
    /// (unless they carry them already: read in this transaction).
    pub(super) async fn attach_sets(&mut self, records: &mut [Record]) -> Result<(), Error> {
        let entity = self.entity.clone();
        self.attach_sets_of(&entity, records).await
    }

    /// [`Tx::attach_sets`] for records of `entity` (the transaction's, or an inline child's).
    pub(super) async fn attach_sets_of(
        &mut self,
        entity: &Entity,
        records: &mut [Record],
    ) -> Result<(), Error> {
        let Some(first) = entity.sets().next() else {
            return Ok(());
        };
        if records.iter().all(|r| r.contains_key(&first.name)) {
            return Ok(());
        }
        let keys: Vec<Json> = records
            .iter()
            .map(|r| r.get(&entity.primary_key).cloned().unwrap_or(Json::Null))
            .collect();
        let db = self.db.clone();
        let reader = Reader {
            dialect: db.dialect(),
            catalog: &db.catalog,
        };
        let held = {
            let mut conn = self.conn();
            reader.held(&mut conn, entity, &keys).await
        };
        let held = held.map_err(|err| self.fail(err))?;
        for record in records {
            attach(entity, record, &held);
        }
        Ok(())
    }

    /// Empties the sets of the records of `owners` (not empty), which are being deleted:
    /// junction rows are part of their records, whatever the junction's foreign keys say
    /// (Django's are NO ACTION, and Django deletes them itself).
    pub(super) async fn clear_sets(
        &mut self,
        entity: &Entity,
        owners: &[Value],
    ) -> Result<(), Error> {
        let (dialect, catalog) = (self.db.dialect(), self.db.catalog.clone());
        for junction in entity.sets().filter_map(Relation::junction) {
            let delete = statements::clear(dialect, &catalog, entity, junction, owners);
            self.execute(&delete).await?;
        }
        Ok(())
    }

    /// Makes the sets of the record `owner` what `wanted` says (each named relation; the
    /// others stay), inserting and deleting only the difference from `stored` (the record as
    /// read, with its sets). Keys the target does not have are refused at their relation.
    /// Returns whether anything changed.
    pub(super) async fn write_sets(
        &mut self,
        owner: &Json,
        stored: Option<&Record>,
        wanted: &Wanted,
    ) -> Result<bool, Error> {
        let entity = self.entity.clone();
        let owner = value::from_json(entity.key_field().value_type(), owner, &[])
            .map_err(Error::Internal)?;
        let relations: Vec<&Relation> = entity.sets().collect();
        let (dialect, catalog) = (self.db.dialect(), self.db.catalog.clone());
        let mut changed = false;
        for (index, keys) in wanted {
            let relation = relations[*index];
            let junction = relation.junction().expect("checked by Schema::new");
            let held: Vec<Value> = stored
                .and_then(|r| r.get(&relation.name))
                .and_then(Json::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|k| value::from_json(relation.key_type(), k, &[]).ok())
                        .collect()
                })
                .unwrap_or_default();
            let added: Vec<Value> = keys.iter().filter(|k| !held.contains(k)).cloned().collect();
            let removed: Vec<Value> = held.iter().filter(|k| !keys.contains(k)).cloned().collect();
            if !added.is_empty() {
                let check =
                    statements::existing_targets(dialect, &catalog, &entity, junction, &added);
                let found = self.keys(&check, relation.key_type()).await?;
                let missing: Vec<String> = added
                    .iter()
                    .filter(|k| !found.contains(k))
                    .map(|k| super::key_text(&super::key_json(k)))
                    .collect();
                if !missing.is_empty() {
                    let mut errors = FieldErrors::new();
                    errors.insert(
                        relation.name.clone(),
                        format!(
                            "{} has no record with key {}",
                            relation.target,
                            missing.join(", ")
                        ),
                    );
                    return Err(Error::Missing(errors));
                }
                let insert = statements::add(dialect, &catalog, &entity, junction, &owner, &added);
                self.execute(&insert).await?;
                changed = true;
            }
            if !removed.is_empty() {
                let delete = statements::remove(
                    dialect,
                    &catalog,
                    &entity,
                    junction,
                    owner.clone(),
                    &removed,
                );
                self.execute(&delete).await?;
                changed = true;
            }
        }
        Ok(changed)
    }
}
