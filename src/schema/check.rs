//! The checks of a whole schema: each entity and field on its own, then what crosses
//! entities (reference targets and their key types, display fields, relations). Every message
//! names the file, the entity and the field.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::{Entity, Field, FieldType, Schema, value};

impl Schema {
    /// Checks every entity (see [`Error`]) and resolves reference key types.
    pub fn new(entities: Vec<Entity>) -> Result<Schema, Error> {
        Schema::check(entities, "<code>")
    }

    pub(crate) fn check(mut entities: Vec<Entity>, origin: &str) -> Result<Schema, Error> {
        let at = |entity: &str, field: Option<&str>, message: String| Error {
            file: origin.to_owned(),
            entity: Some(entity.to_owned()),
            field: field.map(str::to_owned),
            message,
        };
        let mut seen = std::collections::HashSet::new();
        for entity in &entities {
            if !seen.insert(entity.name.as_str()) {
                return Err(at(&entity.name, None, "duplicate entity name".into()));
            }
            check_entity(entity).map_err(|(field, message)| at(&entity.name, field, message))?;
            for action in &entity.actions {
                action
                    .check(entity)
                    .map_err(|(field, message)| at(&entity.name, field.as_deref(), message))?;
            }
        }
        // References: the target must exist, and its key type becomes the field's value type.
        let key_types: BTreeMap<String, FieldType> = entities
            .iter()
            .map(|e| (e.name.clone(), e.key_field().field_type))
            .collect();
        let by_name: BTreeMap<String, Vec<String>> = entities
            .iter()
            .map(|e| {
                let names = e.readable_fields().map(|f| f.name.clone()).collect();
                (e.name.clone(), names)
            })
            .collect();
        // The field that names each entity's records, for the relations that show them.
        let namings: BTreeMap<String, String> = entities
            .iter()
            .map(|e| (e.name.clone(), e.naming_field(&entities)))
            .collect();
        // Where each entity's fields live, for the values references show.
        let homes: BTreeMap<String, (String, String, Vec<Field>)> = entities
            .iter()
            .map(|e| {
                let fields = e.readable_fields().cloned().collect();
                (
                    e.name.clone(),
                    (e.table.clone(), e.key_field().column.clone(), fields),
                )
            })
            .collect();
        for entity in &mut entities {
            if let Some(version) = entity.version_field.clone() {
                for field in entity.fields.iter_mut().filter(|f| f.name == version) {
                    field.read_only = true;
                }
            }
            for field in &mut entity.fields {
                if field.field_type != FieldType::Reference {
                    continue;
                }
                let target = field.target.clone().unwrap_or_default();
                let Some(key_type) = key_types.get(&target) else {
                    return Err(at(
                        &entity.name,
                        Some(&field.name),
                        format!("reference target \"{target}\" is not an entity"),
                    ));
                };
                field.key_type = Some(*key_type);
                if let Some(display) = &field.display {
                    let (table, key_column, fields) = &homes[&target];
                    let Some(shown) = fields.iter().find(|f| &f.name == display) else {
                        return Err(at(
                            &entity.name,
                            Some(&field.name),
                            format!("display field \"{display}\" is not a field of \"{target}\""),
                        ));
                    };
                    let mut shown = shown.clone();
                    // A display field that is itself a reference shows its key.
                    if shown.field_type == FieldType::Reference {
                        let target = shown.target.as_deref().unwrap_or_default();
                        shown.key_type = key_types.get(target).copied();
                    }
                    shown.shown = None;
                    field.shown = Some(Box::new(super::Shown {
                        table: table.clone(),
                        key_column: key_column.clone(),
                        field: shown,
                    }));
                }
            }
            if let Some((name, _)) = &entity.default_sort
                && entity.sort_target(name).is_none()
            {
                let message = if name.contains('.') {
                    "default_sort names neither a field nor a reference's display field (reference.display)"
                } else {
                    "default_sort names an unknown field"
                };
                return Err(at(&entity.name, Some(name), message.into()));
            }
            let owner_key = entity.key_field().clone();
            let field_names: Vec<String> = entity.fields.iter().map(|f| f.name.clone()).collect();
            for relation in &mut entity.relations {
                let Some(fields) = by_name.get(&relation.target) else {
                    return Err(at(
                        &entity.name,
                        Some(&relation.name),
                        format!("relation target \"{}\" is not an entity", relation.target),
                    ));
                };
                if let Err(message) = check_inline(relation, &field_names) {
                    return Err(at(&entity.name, Some(&relation.name), message));
                }
                if relation.through.is_some() || relation.target_key.is_some() {
                    let mut junction = junction(relation, &owner_key, &homes, &field_names)
                        .map_err(|message| at(&entity.name, Some(&relation.name), message))?;
                    match &relation.display {
                        Some(display) if !fields.contains(display) => {
                            return Err(at(
                                &entity.name,
                                Some(&relation.name),
                                format!(
                                    "display field \"{display}\" is not a field of \"{}\"",
                                    relation.target
                                ),
                            ));
                        }
                        Some(_) => {}
                        None => relation.display = namings.get(&relation.target).cloned(),
                    }
                    let (_, _, target_fields) = &homes[&relation.target];
                    junction.shown = relation
                        .display
                        .as_ref()
                        .and_then(|name| target_fields.iter().find(|f| &f.name == name))
                        .cloned();
                    relation.junction = Some(Box::new(junction));
                    continue;
                }
                if !fields.contains(&relation.foreign_key) {
                    return Err(at(
                        &entity.name,
                        Some(&relation.name),
                        format!(
                            "foreign key \"{}\" is not a field of \"{}\"",
                            relation.foreign_key, relation.target
                        ),
                    ));
                }
            }
        }
        Ok(Schema {
            entities: Arc::new(entities),
        })
    }
}

/// An inline relation's settings, or why they do not hold.
fn check_inline(relation: &super::Relation, field_names: &[String]) -> Result<(), String> {
    if !relation.inline {
        if relation.inline_delete || relation.inline_max.is_some() {
            return Err(
                "inline_delete and inline_max apply to inline relations (inline = true)".into(),
            );
        }
        return Ok(());
    }
    if relation.through.is_some() {
        return Err("inline applies to one-to-many relations, not many-to-many".into());
    }
    if field_names.contains(&relation.name) {
        return Err(format!(
            "an inline relation's name is a key of the record: \"{}\" is a field already",
            relation.name
        ));
    }
    if relation.inline_max == Some(0) {
        return Err("inline_max must be at least 1".into());
    }
    Ok(())
}

/// The tables and typed columns of a many-to-many relation, or why it does not hold.
fn junction(
    relation: &super::Relation,
    owner_key: &Field,
    homes: &BTreeMap<String, (String, String, Vec<Field>)>,
    field_names: &[String],
) -> Result<super::Junction, String> {
    let (Some(table), Some(target_key)) = (&relation.through, &relation.target_key) else {
        return Err("a many-to-many relation needs both through (the junction table) and target_key (its column that references the target)".into());
    };
    if field_names.contains(&relation.name) {
        return Err(format!(
            "a many-to-many relation's name is a key of the record: \"{}\" is a field already",
            relation.name
        ));
    }
    if relation.foreign_key == *target_key {
        return Err("foreign_key and target_key must be two columns of the junction".into());
    }
    let (target_table, target_column, fields) = &homes[&relation.target];
    let target = fields
        .iter()
        .find(|f| &f.column == target_column)
        .expect("the target's key is readable");
    let typed = |column: &str, like: &Field| {
        let mut field = Field::new(column, like.value_type()).column(column);
        field.choices = like.choices.clone();
        field
    };
    Ok(super::Junction {
        table: table.clone(),
        owner: typed(&relation.foreign_key, owner_key),
        member: typed(target_key, target),
        target_table: target_table.clone(),
        target_key: typed(target_column, target),
        shown: None,
    })
}

/// A descriptor that does not hold together; names where, so the user can fix it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub struct Error {
    pub file: String,
    pub entity: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(entity) = &self.entity {
            write!(f, ": entity \"{entity}\"")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field \"{field}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Checks one entity on its own; returns the offending field (if any) and the message.
fn check_entity(entity: &Entity) -> Result<(), (Option<&str>, String)> {
    if !is_name(&entity.name) {
        return Err((
            None,
            "entity names use letters, digits, '_' and '-' only (they appear in URLs)".into(),
        ));
    }
    if is_route_name(&entity.name) {
        return Err((
            None,
            format!(
                "\"{name}\" is taken by one of autoadmin's routes (/{name}): give the entity another name (its table stays: table = \"{table}\")",
                name = entity.name,
                table = entity.table
            ),
        ));
    }
    if entity.fields.is_empty() {
        return Err((None, "has no fields".into()));
    }
    for (i, action) in entity.actions.iter().enumerate() {
        if entity.actions[..i].iter().any(|a| a.name == action.name) {
            return Err((None, format!("duplicate action \"{}\"", action.name)));
        }
    }
    if entity.per_page == 0 {
        return Err((None, "per_page must be at least 1".into()));
    }
    let mut names = std::collections::HashSet::new();
    for field in &entity.fields {
        let name = field.name.as_str();
        if !names.insert(name) {
            return Err((Some(name), "duplicate field name".into()));
        }
        if name.is_empty() || field.column.is_empty() {
            return Err((
                Some(name),
                "field and column names must not be empty".into(),
            ));
        }
        check_field(field).map_err(|message| (Some(name), message))?;
    }
    let Some(key) = entity.find_field(&entity.primary_key) else {
        return Err((
            Some(entity.primary_key.as_str()),
            format!(
                "primary key \"{}\" is not a declared field",
                entity.primary_key
            ),
        ));
    };
    if !key.field_type.can_be_key() {
        return Err((
            Some(key.name.as_str()),
            format!(
                "a primary key must be integer, string or uuid, not {}",
                key.field_type
            ),
        ));
    }
    let readable = |name: &str| entity.find_field(name).is_some_and(Field::is_readable);
    // A list shows, and filters by, a many-to-many relation as it does a field.
    let set = |name: &str| entity.find_set(name).is_some();
    for (list, what, sets) in [
        (&entity.list_columns, "list_columns", true),
        (&entity.search, "search", false),
        (&entity.filters, "filters", true),
        (&entity.pinned_filters, "pinned_filters", true),
    ] {
        for name in list {
            if !(readable(name) || sets && set(name)) {
                return Err((
                    Some(name.as_str()),
                    format!("{what} names an unknown field"),
                ));
            }
        }
    }
    for name in &entity.search {
        if !entity
            .find_field(name)
            .is_some_and(|f| f.field_type.is_textual() || f.field_type == FieldType::Uuid)
        {
            return Err((Some(name.as_str()), "search fields must hold text".into()));
        }
    }
    if let Some(name) = &entity.version_field {
        match entity.find_field(name) {
            Some(field)
                if field.field_type == FieldType::Integer && field.name != entity.primary_key => {}
            Some(_) => {
                return Err((
                    Some(name.as_str()),
                    "version_field must be an integer field other than the key".into(),
                ));
            }
            None => {
                return Err((
                    Some(name.as_str()),
                    "version_field names an unknown field".into(),
                ));
            }
        }
    }
    Ok(())
}

fn check_field(field: &Field) -> Result<(), String> {
    let t = field.field_type;
    if (field.min_length.is_some() || field.max_length.is_some() || field.pattern.is_some())
        && !t.is_textual()
    {
        return Err(format!(
            "min_length, max_length and pattern apply to text fields, not {t}"
        ));
    }
    if let (Some(lo), Some(hi)) = (field.min_length, field.max_length)
        && lo > hi
    {
        return Err("min_length is greater than max_length".into());
    }
    // A reference's bounds are those of the integer column holding its key.
    if (field.min.is_some() || field.max.is_some()) && !t.is_numeric() && t != FieldType::Reference
    {
        return Err(format!("min and max apply to numeric fields, not {t}"));
    }
    if let (Some(lo), Some(hi)) = (field.min, field.max)
        && lo > hi
    {
        return Err("min is greater than max".into());
    }
    match t {
        FieldType::Choice | FieldType::MultiChoice if field.choices.is_empty() => {
            return Err(format!("a {t} field needs a non-empty choices list"));
        }
        FieldType::Reference if field.target.is_none() => {
            return Err("a reference field needs a target entity".into());
        }
        _ => {}
    }
    if !field.choices.is_empty() && !matches!(t, FieldType::Choice | FieldType::MultiChoice) {
        return Err(format!(
            "choices apply to choice and multichoice fields, not {t}"
        ));
    }
    if t == FieldType::MultiChoice && field.choices.iter().any(|c| c.contains(',')) {
        // A MySQL SET holds its values joined by commas.
        return Err("multichoice values cannot contain a comma".into());
    }
    if field.target.is_some() && t != FieldType::Reference {
        return Err(format!("target applies to reference fields, not {t}"));
    }
    if field.blank && !t.is_textual() {
        return Err(format!("blank applies to text fields, not {t}"));
    }
    match field.format.as_deref() {
        None => {}
        Some("markdown") if matches!(t, FieldType::Text | FieldType::String) => {}
        Some("markdown") => {
            return Err(format!(
                "format \"markdown\" applies to string and text fields, not {t}"
            ));
        }
        Some(other) => return Err(format!("format \"{other}\" is not one of: markdown")),
    }
    if field.required && field.nullable == Some(true) {
        return Err("a required field cannot be nullable".into());
    }
    if let Some(default) = &field.default
        && let Err(message) = value::from_json(t, default, &field.choices)
    {
        return Err(format!("default {default}: {message}"));
    }
    Ok(())
}

/// Whether `name` is the path of one of autoadmin's own routes (`/health`, `/login`,
/// `/logout`, and every `/_…` but the entities autoadmin adds itself), which an entity of
/// that name could not be reached by.
pub fn is_route_name(name: &str) -> bool {
    matches!(name, "health" | "login" | "logout")
        || name.starts_with('_') && name != super::AUDIT_ENTITY && name != "_views"
}

/// URL-safe names: entities appear as path segments.
pub(super) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
