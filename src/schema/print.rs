//! Descriptors back to TOML: the inverse of [`super::load`], so that a schema made in
//! code or by introspection becomes a file a person can edit, and loading it back gives the
//! same schema (`print(load(print(s))) == print(s)`). Only what differs from the defaults
//! is written, in a fixed order.

use std::fmt::Write;

use super::{Direction, Entity, Field, FieldType, default_label};

/// Every entity as `[[entity]]` tables (the `[admin]` table is `crate::config`'s).
pub fn print_entities(entities: &[Entity]) -> String {
    let mut out = String::new();
    for (i, entity) in entities.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        print_entity(&mut out, entity);
    }
    out
}

fn print_entity(out: &mut String, entity: &Entity) {
    out.push_str("[[entity]]\n");
    let _ = writeln!(out, "name = {}", quote_toml(&entity.name));
    if entity.table != entity.name {
        let _ = writeln!(out, "table = {}", quote_toml(&entity.table));
    }
    if entity.primary_key != "id" {
        let _ = writeln!(out, "primary_key = {}", quote_toml(&entity.primary_key));
    }
    if entity.label != default_label(&entity.name) {
        let _ = writeln!(out, "label = {}", quote_toml(&entity.label));
    }
    if let Some(singular) = &entity.label_singular {
        let _ = writeln!(out, "label_singular = {}", quote_toml(singular));
    }
    if entity.per_page != 25 {
        let _ = writeln!(out, "per_page = {}", entity.per_page);
    }
    if let Some((field, direction)) = &entity.default_sort {
        let sign = if *direction == Direction::Desc {
            "-"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "default_sort = {}",
            quote_toml(&format!("{sign}{field}"))
        );
    }
    for (key, list) in [
        ("list_columns", &entity.list_columns),
        ("search", &entity.search),
        ("filters", &entity.filters),
        ("pinned_filters", &entity.pinned_filters),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "{key} = {}", array(list));
        }
    }
    if entity.read_only {
        out.push_str("read_only = true\n");
    }
    if entity.count != super::CountMode::Exact {
        let _ = writeln!(out, "count = {}", quote_toml(entity.count.name()));
    }
    if let Some(field) = &entity.version_field {
        let _ = writeln!(out, "version_field = {}", quote_toml(field));
    }
    if let Some(n) = entity.max_rows {
        let _ = writeln!(out, "max_rows = {n}");
    }
    for field in &entity.fields {
        out.push('\n');
        print_field(out, field);
    }
    for relation in &entity.relations {
        out.push('\n');
        out.push_str("  [[entity.relation]]\n");
        let _ = writeln!(out, "  name = {}", quote_toml(&relation.name));
        let _ = writeln!(out, "  target = {}", quote_toml(&relation.target));
        if let Some(through) = &relation.through {
            let _ = writeln!(out, "  through = {}", quote_toml(through));
        }
        let _ = writeln!(out, "  foreign_key = {}", quote_toml(&relation.foreign_key));
        if let Some(target_key) = &relation.target_key {
            let _ = writeln!(out, "  target_key = {}", quote_toml(target_key));
        }
        if let Some(display) = &relation.display {
            let _ = writeln!(out, "  display = {}", quote_toml(display));
        }
        if relation.inline {
            out.push_str("  inline = true\n");
        }
        if relation.inline_delete {
            out.push_str("  inline_delete = true\n");
        }
        if let Some(n) = relation.inline_max {
            let _ = writeln!(out, "  inline_max = {n}");
        }
        if relation.label != default_label(&relation.name) {
            let _ = writeln!(out, "  label = {}", quote_toml(&relation.label));
        }
    }
    print_actions(out, entity);
}

fn print_actions(out: &mut String, entity: &Entity) {
    for action in &entity.actions {
        out.push_str("\n  [[entity.action]]\n");
        let _ = writeln!(out, "  name = {}", quote_toml(&action.name));
        if action.label != default_label(&action.name) {
            let _ = writeln!(out, "  label = {}", quote_toml(&action.label));
        }
        let set: Vec<String> = action
            .set
            .iter()
            .filter_map(|(name, value)| {
                let value = toml::Value::try_from(value).ok()?;
                Some(format!("{} = {value}", quote_key(name)))
            })
            .collect();
        let _ = writeln!(out, "  set = {{ {} }}", set.join(", "));
        if action.confirm {
            out.push_str("  confirm = true\n");
        }
        if action.permission != "edit" {
            let _ = writeln!(out, "  permission = {}", quote_toml(&action.permission));
        }
    }
}

/// A TOML key: bare when it can be.
fn quote_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_owned()
    } else {
        quote_toml(name)
    }
}

fn print_field(out: &mut String, field: &Field) {
    out.push_str("  [[entity.field]]\n");
    let _ = writeln!(out, "  name = {}", quote_toml(&field.name));
    let _ = writeln!(out, "  type = {}", quote_toml(field.field_type.name()));
    if field.column != field.name {
        let _ = writeln!(out, "  column = {}", quote_toml(&field.column));
    }
    if field.label != default_label(&field.name) {
        let _ = writeln!(out, "  label = {}", quote_toml(&field.label));
    }
    if field.required {
        out.push_str("  required = true\n");
    }
    if let Some(nullable) = field.nullable {
        let _ = writeln!(out, "  nullable = {nullable}");
    }
    if let Some(n) = field.min_length {
        let _ = writeln!(out, "  min_length = {n}");
    }
    if let Some(n) = field.max_length {
        let _ = writeln!(out, "  max_length = {n}");
    }
    if let Some(n) = field.min {
        let _ = writeln!(out, "  min = {}", number(n));
    }
    if let Some(n) = field.max {
        let _ = writeln!(out, "  max = {}", number(n));
    }
    if let Some(pattern) = &field.pattern {
        let _ = writeln!(out, "  pattern = {}", quote_toml(&pattern.source));
    }
    if matches!(field.field_type, FieldType::Choice | FieldType::MultiChoice) {
        let _ = writeln!(out, "  choices = {}", array(&field.choices));
    }
    if field.read_only {
        out.push_str("  read_only = true\n");
    }
    if let Some(default) = &field.default {
        let _ = writeln!(out, "  default = {}", json_to_toml(default));
    }
    if field.blank {
        out.push_str("  blank = true\n");
    }
    if let Some(format) = &field.format {
        let _ = writeln!(out, "  format = {}", quote_toml(format));
    }
    if field.unique {
        out.push_str("  unique = true\n");
    }
    if let Some(target) = &field.target {
        let _ = writeln!(out, "  target = {}", quote_toml(target));
    }
    if let Some(display) = &field.display {
        let _ = writeln!(out, "  display = {}", quote_toml(display));
    }
    if let Some(generated) = field.generated {
        let _ = writeln!(out, "  generated = {generated}");
    }
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub fn quote_toml(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote_toml(s)).collect();
    format!("[{}]", quoted.join(", "))
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn json_to_toml(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => quote_toml(s),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(json_to_toml).collect();
            format!("[{}]", parts.join(", "))
        }
        serde_json::Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", quote_toml(k), json_to_toml(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        serde_json::Value::Null => "\"\"".to_owned(),
    }
}
