//! The options of an import (`POST /{entity}/import?…`): how the file's columns map to the
//! entity's fields, what each row does (insert, update or either), what an invalid row does
//! to the rest, and whether anything is written at all. Checked against the entity here, so
//! that an import that cannot run is refused before its file is read.

use serde_json::Value as Json;

use super::Error;
use super::params::Params;
use crate::schema::{Entity, FieldType};

/// What each row of an import does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportMode {
    /// A new record per row.
    Insert,
    /// The record whose key the row holds is updated; a row whose key matches none is
    /// inserted.
    Upsert,
    /// The record whose key the row holds is updated; a row whose key matches none fails.
    Update,
}

impl ImportMode {
    pub const NAMES: [&'static str; 3] = ["insert", "upsert", "update"];

    pub fn name(self) -> &'static str {
        match self {
            ImportMode::Insert => "insert",
            ImportMode::Upsert => "upsert",
            ImportMode::Update => "update",
        }
    }
}

/// What an invalid row does to the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Nothing is written: the import is one transaction.
    Abort,
    /// The valid rows are written; the others are reported.
    Skip,
}

impl OnError {
    pub const NAMES: [&'static str; 2] = ["abort", "skip"];

    pub fn name(self) -> &'static str {
        match self {
            OnError::Abort => "abort",
            OnError::Skip => "skip",
        }
    }
}

/// `delimiter`: the names it takes and the separator each stands for.
pub const IMPORT_DELIMITERS: &[(&str, u8)] =
    &[("comma", b','), ("semicolon", b';'), ("tab", b'\t')];

/// An import's options, checked against the entity.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportOptions {
    pub mode: ImportMode,
    /// The field that finds a row's record in `upsert` and `update` mode: the primary key,
    /// or a field declared `unique`.
    pub key: String,
    pub on_error: OnError,
    pub dry_run: bool,
    /// Column (as the header names it) → field or many-to-many relation, or `None` to leave
    /// the column out. Columns it does not name are matched by name or label.
    pub mapping: Vec<(String, Option<String>)>,
    /// The cells' separator; `None`: found in the header line.
    pub delimiter: Option<u8>,
    /// How long the request waits, once the file has arrived, for the import to end before
    /// it answers 202 (the import goes on).
    pub wait: std::time::Duration,
    /// A workbook's sheet, by name; `None`: the first.
    pub sheet: Option<String>,
    /// Rows to preview (0: none): only these first rows are read and checked, nothing is
    /// written, and the report has them as they would be stored.
    pub preview: usize,
}

/// The most rows a preview shows.
pub const MAX_PREVIEW: usize = 100;

/// The longest `wait`, in seconds.
pub const MAX_WAIT_SECS: u64 = 3600;

/// Parses an import's query string.
pub fn parse_import(entity: &Entity, query_string: &str) -> Result<ImportOptions, Error> {
    let mut params = Params::decode(query_string)?;
    let mode = match params.one("mode")? {
        None => ImportMode::Insert,
        Some(name) => *[ImportMode::Insert, ImportMode::Upsert, ImportMode::Update]
            .iter()
            .find(|mode| mode.name() == name)
            .ok_or_else(|| bad("mode", one_of(&ImportMode::NAMES, &name)))?,
    };
    let on_error = match params.one("on_error")? {
        None => OnError::Abort,
        Some(name) => *[OnError::Abort, OnError::Skip]
            .iter()
            .find(|choice| choice.name() == name)
            .ok_or_else(|| bad("on_error", one_of(&OnError::NAMES, &name)))?,
    };
    let dry_run = match params.one("dry_run")?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(bad("dry_run", one_of(&["true", "false"], other))),
    };
    let key = match params.one("key")? {
        None => entity.primary_key.clone(),
        Some(name) => key_field(entity, mode, &name)?,
    };
    let mapping = match params.one("mapping")? {
        None => Vec::new(),
        Some(text) => parse_mapping(entity, &text)?,
    };
    let delimiter = match params.one("delimiter")? {
        None => None,
        Some(name) => Some(
            IMPORT_DELIMITERS
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, byte)| *byte)
                .ok_or_else(|| {
                    let names: Vec<&str> = IMPORT_DELIMITERS.iter().map(|(n, _)| *n).collect();
                    bad("delimiter", one_of(&names, &name))
                })?,
        ),
    };
    let wait = match params.one("wait")? {
        None => 10,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|secs| *secs <= MAX_WAIT_SECS)
            .ok_or_else(|| {
                bad(
                    "wait",
                    format!("must be a whole number of seconds from 0 to {MAX_WAIT_SECS}, not \"{text}\""),
                )
            })?,
    };
    let preview = match params.one("preview")? {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PREVIEW).contains(n))
            .ok_or_else(|| {
                bad(
                    "preview",
                    format!("must be a number of rows from 1 to {MAX_PREVIEW}, not \"{text}\""),
                )
            })?,
    };
    let sheet = match params.one("sheet")? {
        Some(name) if name.trim().is_empty() => {
            return Err(bad("sheet", "must name a sheet of the workbook".into()));
        }
        sheet => sheet,
    };
    if let Some((name, _)) = params.rest().into_iter().next() {
        return Err(Error::UnknownParameter(name));
    }
    Ok(ImportOptions {
        sheet,
        // A preview writes nothing.
        dry_run: dry_run || preview > 0,
        preview,
        wait: std::time::Duration::from_secs(wait),
        mode,
        key,
        on_error,
        mapping,
        delimiter,
    })
}

/// The most imports `GET /_imports` lists.
pub const MAX_LISTED_IMPORTS: u64 = 100;

/// Parses the query of `GET /_imports`: `entity` (any name: an import may outlive its
/// entity) and `limit` (1 to [`MAX_LISTED_IMPORTS`], default 20).
pub fn parse_imports_list(query_string: &str) -> Result<(Option<String>, u64), Error> {
    let mut params = Params::decode(query_string)?;
    let entity = params.one("entity")?;
    let limit = match params.one("limit")? {
        None => 20,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_LISTED_IMPORTS).contains(n))
            .ok_or_else(|| {
                bad(
                    "limit",
                    format!("must be a number from 1 to {MAX_LISTED_IMPORTS}, not \"{text}\""),
                )
            })?,
    };
    if let Some((name, _)) = params.rest().into_iter().next() {
        return Err(Error::UnknownParameter(name));
    }
    Ok((entity, limit))
}

/// `key=`: the primary key or a unique field, and only where rows find records.
fn key_field(entity: &Entity, mode: ImportMode, name: &str) -> Result<String, Error> {
    if mode == ImportMode::Insert {
        return Err(bad(
            "key",
            "finds the records that rows update: it takes mode=upsert or mode=update".into(),
        ));
    }
    let field = entity.find_field(name).ok_or_else(|| Error::UnknownField {
        field: name.to_owned(),
        place: "key",
        entity: entity.name.clone(),
    })?;
    let findable = field.name == entity.primary_key
        || (field.unique && field.is_readable() && field.field_type != FieldType::Password);
    if findable {
        Ok(field.name.clone())
    } else {
        Err(bad(
            "key",
            format!(
                "must be the primary key \"{}\" or a field declared unique, not \"{name}\"",
                entity.primary_key
            ),
        ))
    }
}

/// `mapping={"Column": "field", "Other": null}`.
fn parse_mapping(entity: &Entity, text: &str) -> Result<Vec<(String, Option<String>)>, Error> {
    let shape = "must be a JSON object of column → field name (or null to leave the column out)";
    let Ok(Json::Object(object)) = serde_json::from_str::<Json>(text) else {
        return Err(bad("mapping", shape.into()));
    };
    let mut mapping = Vec::with_capacity(object.len());
    for (column, target) in object {
        let target = match target {
            Json::Null => None,
            Json::String(name) => {
                let known = entity
                    .find_field(&name)
                    .is_some_and(|f| !f.read_only || f.name == entity.primary_key)
                    || entity.find_set(&name).is_some();
                if !known {
                    return Err(bad(
                        "mapping",
                        format!(
                            "maps column \"{column}\" to \"{name}\", which is not a field of \
                             \"{}\" that takes values",
                            entity.name
                        ),
                    ));
                }
                Some(name)
            }
            _ => return Err(bad("mapping", shape.into())),
        };
        mapping.push((column, target));
    }
    Ok(mapping)
}

fn bad(name: &str, message: String) -> Error {
    Error::BadParameter {
        name: name.into(),
        message,
    }
}

fn one_of(names: &[&str], given: &str) -> String {
    format!("must be one of {}, not \"{given}\"", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Entity, Field};

    fn posts() -> Entity {
        Entity::new("posts")
            .field(Field::integer("id"))
            .field(Field::string("title").required())
            .field(Field::string("slug").unique())
            .field(Field::datetime("created_at").read_only())
    }

    #[test]
    fn defaults_and_every_option() {
        let options = parse_import(&posts(), "").unwrap();
        assert_eq!(options.mode, ImportMode::Insert);
        assert_eq!(options.on_error, OnError::Abort);
        assert!(!options.dry_run && options.mapping.is_empty() && options.delimiter.is_none());
        assert_eq!(options.key, "id");
        let options = parse_import(
            &posts(),
            "mode=upsert&key=slug&on_error=skip&dry_run=true&delimiter=tab\
             &mapping=%7B%22Title%22%3A%22title%22%2C%22Notes%22%3Anull%7D",
        )
        .unwrap();
        assert_eq!(options.mode, ImportMode::Upsert);
        assert_eq!(options.key, "slug");
        assert_eq!(options.on_error, OnError::Skip);
        assert!(options.dry_run);
        assert_eq!(options.delimiter, Some(b'\t'));
        assert_eq!(
            options.mapping,
            vec![
                ("Title".into(), Some("title".into())),
                ("Notes".into(), None)
            ]
        );
    }

    #[test]
    fn every_bad_option_is_named() {
        let cases = [
            ("mode=merge", "mode"),
            ("on_error=ignore", "on_error"),
            ("dry_run=yes", "dry_run"),
            ("delimiter=pipe", "delimiter"),
            ("mapping=[1]", "mapping"),
            ("mapping=%7B%22A%22%3A%22created_at%22%7D", "created_at"),
            ("mapping=%7B%22A%22%3A3%7D", "mapping"),
            ("key=slug", "mode=upsert"),
            ("mode=update&key=title", "unique"),
            ("mode=update&key=nope", "nope"),
            ("mode=insert&mode=update", "more than once"),
            ("wait=-1", "wait"),
            ("wait=3601", "wait"),
            ("wait=2&x=1", "unknown query parameter \"x\""),
        ];
        for (query, named) in cases {
            let error = parse_import(&posts(), query).unwrap_err().to_string();
            assert!(error.contains(named), "{query}: {error}");
        }
    }
}
