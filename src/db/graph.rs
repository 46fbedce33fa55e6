//! What a delete takes: the database's foreign keys with their `ON DELETE` rules (read from
//! its catalog when the admin is built, those no descriptor declares included), and the
//! plan of a delete: every table a delete of some records reaches, by which key, and what
//! happens there (rows deleted by cascade, set to NULL or to their default, or the delete
//! refused). Cascades are followed transitively; a table that references itself is followed
//! to the end (a recursive query), a longer cycle once round.
//!
//! The rows of a step are described by SQL, not fetched: `db/sql/graph.rs` writes a step's
//! condition as nested subqueries down to the keys of the delete, so a count, a sample of
//! labels and the rows a cascade deletes are each one statement.

use std::collections::HashMap;

use super::introspect::{OnDelete, Table};
use crate::schema::{Entity, Field, FieldType};

/// How deep a plan follows cascades (a guard against pathological schemas).
const MAX_DEPTH: usize = 8;

/// A foreign key: `child (columns) REFERENCES parent (parent_columns) ON DELETE on_delete`.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub child: String,
    pub columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    pub on_delete: OnDelete,
}

/// The foreign keys of the database, and an entity for every table that takes part in them,
/// to read its rows: the declared one, or one made from the catalog (every column, as it
/// is, no rules).
#[derive(Clone, Debug, Default)]
pub struct Graph {
    links: Vec<Link>,
    /// By unqualified table name.
    tables: HashMap<String, Entity>,
    /// The field that names a record of each of them (by unqualified table name).
    labels: HashMap<String, String>,
    /// The primary keys of more than one column (by unqualified table name).
    composite_keys: HashMap<String, Vec<String>>,
}

/// One step of a delete's plan: the rows of `link.child` that reference the rows of the
/// step `from` (the deleted records themselves when `None`).
#[derive(Clone, Debug)]
pub struct Step {
    pub link: Link,
    pub from: Option<usize>,
    /// The rows of a table that references itself: every descendant, not only children.
    pub recursive: bool,
    pub depth: usize,
}

/// Every step a delete of some records of `root` reaches, parents before children.
#[derive(Clone, Debug)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// A table's unqualified name: `shop.orders` → `orders`.
pub fn bare(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

impl Graph {
    /// The graph of `tables` (as introspection read them); `entities` describe some of them.
    pub fn new(tables: &[Table], entities: &[Entity]) -> Graph {
        let mut graph = Graph::default();
        let qualified: HashMap<&str, &str> = tables
            .iter()
            .map(|t| (t.name.as_str(), t.qualified.as_str()))
            .collect();
        for table in tables {
            for fk in &table.foreign_keys {
                let Some(parent) = qualified.get(bare(&fk.target)) else {
                    continue;
                };
                graph.links.push(Link {
                    child: table.qualified.clone(),
                    columns: fk.columns.clone(),
                    parent: (*parent).to_owned(),
                    parent_columns: fk.target_columns.clone(),
                    on_delete: fk.on_delete,
                });
            }
        }
        for table in tables {
            let declared = entities
                .iter()
                .find(|e| bare(&e.table) == table.name && e.table == table.qualified)
                .cloned();
            if table.primary_key.len() > 1 {
                graph
                    .composite_keys
                    .insert(table.name.clone(), table.primary_key.clone());
            }
            if let Some(entity) = declared.or_else(|| plain_entity(table)) {
                graph
                    .labels
                    .insert(table.name.clone(), entity.naming_field(entities));
                graph.tables.insert(table.name.clone(), entity);
            }
        }
        graph
    }

    /// The field that names records of `entity` (one of the graph's).
    pub fn label<'a>(&'a self, entity: &'a Entity) -> &'a str {
        self.labels
            .get(bare(&entity.table))
            .map_or(entity.primary_key.as_str(), String::as_str)
    }

    /// What tells a row of `entity`'s table from the others: its key, or, for a key of
    /// several columns, `{"a":1,"b":2}`.
    pub fn row_id(&self, entity: &Entity, record: &super::Record) -> String {
        match self.composite_keys.get(bare(&entity.table)) {
            Some(columns) => {
                let values: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .filter_map(|column| {
                        let field = entity.fields.iter().find(|f| &f.column == column)?;
                        Some((field.name.clone(), record.get(&field.name)?.clone()))
                    })
                    .collect();
                serde_json::Value::Object(values).to_string()
            }
            None => super::audit::record_id(entity, record),
        }
    }

    /// The name of the entity that reads `table`, or the table's.
    pub fn name_of(&self, table: &str) -> String {
        self.entity(table)
            .map_or_else(|| bare(table).to_owned(), |e| e.name.clone())
    }

    /// The entity that reads rows of `table`.
    pub fn entity(&self, table: &str) -> Option<&Entity> {
        self.tables.get(bare(table))
    }

    /// The plan of deleting records of `root`.
    pub fn plan(&self, root: &Entity) -> Plan {
        // The junction rows of the root's many-to-many relations are part of its records:
        // deleted with them (`Tx::delete_cascading`), not reported as dependents.
        let owned: Vec<(&str, &str)> = root
            .sets()
            .filter_map(|r| r.junction())
            .map(|j| (bare(&j.table), j.owner.column.as_str()))
            .collect();
        let root = root.table.as_str();
        let mut steps: Vec<Step> = Vec::new();
        // (table, step it came from, the tables on the way there)
        let mut pending: Vec<(String, Option<usize>, Vec<String>)> =
            vec![(root.to_owned(), None, vec![bare(root).to_owned()])];
        while let Some((table, from, path)) = pending.pop() {
            let depth = path.len();
            if depth > MAX_DEPTH {
                continue;
            }
            let came_by_self = from.is_some_and(|i| steps[i].recursive);
            for link in self
                .links
                .iter()
                .filter(|l| bare(&l.parent) == bare(&table))
            {
                let junction = owned
                    .iter()
                    .any(|(t, c)| *t == bare(&link.child) && link.columns == [*c]);
                if from.is_none() && junction {
                    continue;
                }
                let itself = bare(&link.child) == bare(&link.parent);
                // A table referencing itself: one recursive step covers every generation.
                if itself && came_by_self {
                    continue;
                }
                if !itself && path.iter().any(|t| t == bare(&link.child)) {
                    continue;
                }
                let recursive = itself && link.on_delete == OnDelete::Cascade;
                steps.push(Step {
                    link: link.clone(),
                    from,
                    recursive,
                    depth,
                });
                if link.on_delete == OnDelete::Cascade {
                    let mut next = path.clone();
                    if !itself {
                        next.push(bare(&link.child).to_owned());
                    }
                    pending.push((link.child.clone(), Some(steps.len() - 1), next));
                }
            }
        }
        Plan { steps }
    }
}

/// An entity for a table no descriptor describes: every column with a field type, as it is
/// (no rules, no password hiding: its rows are read to be audited and restored). Its key is
/// the primary key's first column, or the first column.
fn plain_entity(table: &Table) -> Option<Entity> {
    let mut entity = Entity::new(table.name.clone()).table(table.qualified.clone());
    for column in &table.columns {
        let Some(field_type) = column.field_type else {
            continue;
        };
        let field_type = match field_type {
            FieldType::Choice if column.choices.is_empty() => FieldType::String,
            other => other,
        };
        let mut field = Field::new(column.name.clone(), field_type);
        field.choices = column.choices.clone();
        field.nullable = Some(column.nullable);
        entity.fields.push(field);
    }
    let key = table
        .primary_key
        .first()
        .filter(|k| entity.find_field(k).is_some())
        .or_else(|| entity.fields.first().map(|f| &f.name))?
        .clone();
    entity.primary_key = key;
    Some(entity)
}
