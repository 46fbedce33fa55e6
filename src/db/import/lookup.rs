//! The records that an import's references and many-to-many cells name, by key or by the
//! value that names them: a batch's worth in one statement per column, the names as they are
//! first (an index finds them), then those that found nothing, case aside.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use serde_json::Value as Json;

use super::super::tx::Tx;
use super::super::write::key_text;
use super::super::{EntityRef, Error, sql};
use super::{BATCH, ImportError, Importer, Pending};
use crate::import::{Layout, RowError, Target};
use crate::schema::{Entity, Field, FieldType, Value, value};

/// A column whose cells name records of another entity: a reference, or a many-to-many
/// relation's members.
pub(super) struct Lookup {
    /// The field or relation's name (the body's key).
    pub name: String,
    target: Entity,
    /// The target's field that names its records.
    shown: Field,
}

/// The records a lookup found: key text → key, and name → keys.
pub(super) struct Found {
    keys: HashMap<String, Json>,
    names: HashMap<String, Vec<Json>>,
    target: String,
}

impl Lookup {
    pub fn of(entity: &EntityRef, target: &Target) -> Option<Lookup> {
        let (name, target_name, display) = match target {
            Target::Field(i) => {
                let field = &entity.fields[*i];
                if field.field_type != FieldType::Reference {
                    return None;
                }
                (
                    field.name.clone(),
                    field.target.clone()?,
                    field.display.clone(),
                )
            }
            Target::Set(i) => {
                let relation = &entity.relations[*i];
                (
                    relation.name.clone(),
                    relation.target.clone(),
                    relation.display.clone(),
                )
            }
            Target::Skip => return None,
        };
        let target = entity.schema().entity(&target_name)?.clone();
        let shown_name = display.unwrap_or_else(|| target.naming_field(entity.schema().entities()));
        let shown = target.find_field(&shown_name)?.clone();
        Some(Lookup {
            name,
            target,
            shown,
        })
    }

    /// The records of the target that `texts` name, by key or by name: the names as they
    /// are first (an index finds them), then those that found nothing, case aside.
    pub async fn find(&self, tx: &mut Tx, texts: &[String]) -> Result<Found, Error> {
        let mut found = Found {
            keys: HashMap::new(),
            names: HashMap::new(),
            target: self.target.name.clone(),
        };
        // Keys first (an index finds them, and a key wins over a name), then names as they
        // are, then names case aside, each only for the texts that found nothing yet.
        for part in texts.chunks(BATCH) {
            let keys: Vec<Value> = part
                .iter()
                .filter_map(|t| value::parse_key(self.target.key_field().field_type, t).ok())
                .collect();
            self.read(tx, &keys, &[], false, &mut found).await?;
        }
        if self.shown.name == self.target.primary_key {
            return Ok(found);
        }
        let missing = |found: &Found| -> Vec<String> {
            texts
                .iter()
                .filter(|t| !found.keys.contains_key(*t) && !found.names.contains_key(*t))
                .cloned()
                .collect()
        };
        for part in missing(&found).chunks(BATCH) {
            let names = self.names(part);
            self.read(tx, &[], &names, false, &mut found).await?;
        }
        if self.shown.field_type.is_textual() {
            let lower: Vec<String> = missing(&found).iter().map(|t| t.to_lowercase()).collect();
            for part in lower.chunks(BATCH) {
                let names = self.names(part);
                self.read(tx, &[], &names, true, &mut found).await?;
            }
        }
        Ok(found)
    }

    /// `texts` as values of the shown field (those that can be).
    fn names(&self, texts: &[String]) -> Vec<Value> {
        texts
            .iter()
            .filter_map(|t| {
                value::from_json(self.shown.value_type(), &Json::String(t.clone()), &[]).ok()
            })
            .collect()
    }

    /// Adds to `found` the records that `keys` or `names` name.
    async fn read(
        &self,
        tx: &mut Tx,
        keys: &[Value],
        names: &[Value],
        fold: bool,
        found: &mut Found,
    ) -> Result<(), Error> {
        if keys.is_empty() && names.is_empty() {
            return Ok(());
        }
        let key_type = self.target.key_field().value_type();
        let db = tx.db.clone();
        let select = sql::import::named(
            db.dialect(),
            &db.catalog,
            &self.target,
            &self.shown,
            keys,
            names,
            fold,
        );
        let result = async {
            let mut conn = tx.conn();
            let mut rows = conn.fetch(&select);
            let mut read = Vec::new();
            while let Some(row) = rows.try_next().await? {
                let key = row.decode(0, key_type)?;
                let name = row.decode(1, self.shown.value_type())?;
                read.push((key, name));
            }
            Ok::<_, sqlx::Error>(read)
        }
        .await;
        for (key, name) in result.map_err(|err| tx.fail(err))? {
            let names = found.names.entry(key_text(&name)).or_default();
            if !names.contains(&key) {
                names.push(key.clone());
            }
            found.keys.insert(key_text(&key), key);
        }
        Ok(())
    }
}

impl Found {
    /// The key that `text` names: a key of the target, else the name of one record.
    pub fn key(&self, text: &str) -> Result<Json, String> {
        if let Some(key) = self.keys.get(text) {
            return Ok(key.clone());
        }
        let named = self.names.get(text).map(Vec::as_slice).or_else(|| {
            let lower = text.to_lowercase();
            self.names
                .iter()
                .find(|(name, _)| name.to_lowercase() == lower)
                .map(|(_, keys)| keys.as_slice())
        });
        match named {
            Some([key]) => Ok(key.clone()),
            Some(keys) if keys.len() > 1 => Err(format!(
                "\"{text}\" names {} records of \"{}\": give the id of one",
                keys.len(),
                self.target
            )),
            _ => Err(format!(
                "\"{text}\" names no record of \"{}\" (by id or by name)",
                self.target
            )),
        }
    }
}

impl Importer {
    /// Finds the records that the references and members of `rows` name, and puts their
    /// keys in the bodies; a name that finds none, or several, is the row's error.
    pub(super) async fn resolve(
        &mut self,
        layout: &Layout,
        rows: &mut [Pending],
    ) -> Result<(), Error> {
        let entity = self.entity.clone();
        for (column, target) in &layout.columns {
            let Some(lookup) = Lookup::of(&entity, target) else {
                continue;
            };
            let mut texts: Vec<String> = Vec::new();
            for row in rows.iter() {
                match row.body.get(&lookup.name) {
                    Some(Json::String(text)) => texts.push(text.clone()),
                    Some(Json::Array(items)) => {
                        texts.extend(items.iter().filter_map(Json::as_str).map(str::to_owned));
                    }
                    _ => {}
                }
            }
            texts.sort();
            texts.dedup();
            if texts.is_empty() {
                continue;
            }
            let tx = match self.tx().await {
                Ok(tx) => tx,
                Err(ImportError::Db(error)) => return Err(error),
                Err(_) => return Err(Error::Internal("no transaction".into())),
            };
            let found = lookup.find(tx, &texts).await?;
            for row in rows.iter_mut() {
                let Some(given) = row.body.get_mut(&lookup.name) else {
                    continue;
                };
                let mut missing = Vec::new();
                match given {
                    Json::String(text) => match found.key(text) {
                        Ok(key) => *given = key,
                        Err(why) => missing.push(why),
                    },
                    Json::Array(items) => {
                        for item in items.iter_mut() {
                            let Json::String(text) = item else { continue };
                            match found.key(text) {
                                Ok(key) => *item = key,
                                Err(why) => missing.push(why),
                            }
                        }
                    }
                    _ => {}
                }
                for message in missing {
                    row.errors.push(RowError {
                        row: row.row,
                        column: Some(column.clone()),
                        field: Some(lookup.name.clone()),
                        message,
                    });
                }
            }
        }
        Ok(())
    }
}
