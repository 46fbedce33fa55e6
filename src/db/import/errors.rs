//! A row's errors as the report lists them: each at its column and field, all of a row's at
//! once, in the order of its cells.

use super::super::Error;
use super::{Importer, Pending};
use crate::import::{Layout, RowError, Target};
use crate::query::ImportMode;
use crate::schema::{self, Entity, WriteError};

impl Importer {
    /// The errors a new record of `row`'s other cells would have: a row's errors all at
    /// once, not one per try.
    pub(super) fn other_errors(&self, layout: &Layout, row: &Pending) -> Vec<RowError> {
        if self.options.mode == ImportMode::Update {
            return Vec::new();
        }
        let reported: Vec<&str> = row
            .errors
            .iter()
            .filter_map(|e| e.field.as_deref())
            .collect();
        let mut body = row.body.clone();
        body.retain(|name, _| !reported.contains(&name.as_str()));
        for relation in self.entity.sets() {
            body.remove(&relation.name);
        }
        match schema::prepare_create(&self.entity, &body) {
            Err(WriteError::Invalid(errors)) => errors
                .into_iter()
                .filter(|(field, _)| !reported.contains(&field.as_str()))
                .flat_map(|(field, message)| {
                    let error = Error::Rejected(WriteError::Invalid([(field, message)].into()));
                    row_errors(&self.entity, layout, row.row, error)
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The field or relation a column goes to.
pub(super) fn target_name(entity: &Entity, target: &Target) -> Option<String> {
    match target {
        Target::Field(i) => Some(entity.fields[*i].name.clone()),
        Target::Set(i) => Some(entity.relations[*i].name.clone()),
        Target::Skip => None,
    }
}

/// Where a column is in the file, for errors in the order of the row's cells (the row's
/// own errors first).
pub(super) fn column_index(layout: &Layout, column: Option<&str>) -> usize {
    column
        .and_then(|name| layout.columns.iter().position(|(c, _)| c == name))
        .map_or(0, |i| i + 1)
}

/// A row's write error as the report lists it: a line per field, at its column.
pub(super) fn row_errors(
    entity: &Entity,
    layout: &Layout,
    row: u64,
    error: Error,
) -> Vec<RowError> {
    let column_of = |field: &str| {
        let name = field.split('.').next().unwrap_or(field);
        layout
            .columns
            .iter()
            .find(|(_, t)| target_name(entity, t).as_deref() == Some(name))
            .map(|(column, _)| column.clone())
    };
    let one = |field: Option<String>, message: String| RowError {
        row,
        column: field.as_deref().and_then(column_of),
        field,
        message,
    };
    match error {
        Error::Rejected(WriteError::Invalid(errors) | WriteError::Forbidden(errors))
        | Error::Missing(errors) => errors
            .into_iter()
            .map(|(field, message)| one(Some(field), message))
            .collect(),
        Error::Rejected(WriteError::UnknownKeys(keys)) => keys
            .into_iter()
            .map(|key| one(Some(key), "is not a field".into()))
            .collect(),
        Error::Conflict { field, message } | Error::InvalidValue { field, message } => {
            vec![one(field, message)]
        }
        other => vec![one(None, other.to_string())],
    }
}
