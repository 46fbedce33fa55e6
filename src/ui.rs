//! The admin app's configuration, `config.json`: a document generated from the [`Schema`]
//! (the app reads nothing else), like `crate::openapi`. Served by `crate::api`; printed by
//! `autoadmin config`.

use serde_json::{Value as Json, json};

use crate::auth::{Action, Principal};
use crate::config::AdminSettings;
use crate::schema::{Direction, Entity, Field, Relation, Schema};

/// The app's configuration: everything it shows comes from here.
pub fn config(schema: &Schema, settings: &AdminSettings, api: &str) -> Json {
    json!({
        "title": settings.title,
        "api": api,
        "locale": settings.locale,
        "max_per_page": settings.max_per_page,
        // Whether `GET /_events` is served: the app then shows what others change.
        "live_updates": settings.max_event_streams > 0,
        // Users' own rows (saved views) have an API of their own, not a list in the app.
        "entities": schema.entities().iter().filter(|e| !e.per_user).map(entity_config).collect::<Vec<_>>(),
        "dashboard": settings.dashboard,
    })
}

/// Only the entities `who` may see, each with what `who` may do; and who `who` is.
/// `can_log_out`: the user has a session here; `own_login`: of a user of the config (who
/// has API keys and a second factor here).
pub fn restrict(config: &mut Json, who: &Principal, can_log_out: bool, own_login: bool) {
    if let Some(Json::Array(entities)) = config.get_mut("entities") {
        entities.retain(|e| {
            e["name"]
                .as_str()
                .is_some_and(|name| who.can(name, Action::View))
        });
        for entity in entities.iter_mut() {
            let name = entity["name"].as_str().unwrap_or_default().to_owned();
            let read_only = entity["read_only"].as_bool().unwrap_or(false);
            entity["permissions"] = json!({
                "view": true,
                "add": !read_only && who.can(&name, Action::Add),
                "edit": !read_only && who.can(&name, Action::Edit),
                "delete": !read_only && who.can(&name, Action::Delete),
            });
        }
    }
    // Panels of entities `who` may not see are left out.
    if let Some(Json::Array(panels)) = config.get_mut("dashboard") {
        panels.retain(|p| {
            p["entity"]
                .as_str()
                .is_some_and(|name| who.can(name, Action::View))
        });
    }
    // The roles a saved view may be shared with.
    config["user"] = json!({"name": who.user, "roles": who.roles, "can_log_out": can_log_out,
        "own_login": own_login, "second_factor_pending": who.second_factor_pending});
}

fn entity_config(entity: &Entity) -> Json {
    let readable: Vec<&Field> = entity.readable_fields().collect();
    // Without list_columns, the first few readable fields that fit a table.
    let list_columns: Vec<String> = if entity.list_columns.is_empty() {
        readable
            .iter()
            .filter(|f| {
                !matches!(
                    f.field_type,
                    crate::FieldType::Text | crate::FieldType::Json
                )
            })
            .take(6)
            .map(|f| f.name.clone())
            .collect()
    } else {
        entity.list_columns.clone()
    };
    let (sort_field, sort_direction) = entity
        .default_sort
        .clone()
        .unwrap_or_else(|| (entity.primary_key.clone(), Direction::Asc));
    json!({
        "name": entity.name,
        "label": entity.label,
        "label_singular": entity.singular(),
        "primary_key": entity.primary_key,
        "key_type": entity.key_field().field_type.name(),
        "key_generated": entity.key_is_generated(),
        "per_page": entity.per_page,
        "default_sort": {"field": sort_field, "direction": if sort_direction == Direction::Desc { "DESC" } else { "ASC" }},
        "list_columns": list_columns,
        "search": entity.search,
        // Pinned filters are offered too, and always shown.
        "filters": entity.filters.iter().chain(entity.pinned_filters.iter().filter(|p| !entity.filters.contains(p))).collect::<Vec<_>>(),
        "pinned_filters": entity.pinned_filters,
        "read_only": entity.read_only,
        // Not the fields hidden from the user the config is for.
        "fields": entity.fields.iter().filter(|f| !f.hidden).map(field_config).collect::<Vec<_>>(),
        // Many-to-many relations, described as the fields of a form and a list see them.
        "sets": entity.sets().map(set_config).collect::<Vec<_>>(),
        // What its actions do is the server's: the app shows them and asks to run them.
        "actions": entity.actions.iter().map(|a| json!({
            "name": a.name, "label": a.label, "confirm": a.confirm, "permission": a.permission,
        })).collect::<Vec<_>>(),
        // Views of the list every user has, beside their saved ones (`/_views`).
        "views": entity.views.iter().map(|v| json!({"name": v.name, "state": v.state})).collect::<Vec<_>>(),
        "relations": entity.relations.iter().map(|r| json!({
            "name": r.name, "label": r.label, "target": r.target, "foreign_key": r.foreign_key,
            "kind": if r.is_many_to_many() { "many_to_many" } else { "one_to_many" },
            "through": r.through, "target_key": r.target_key, "display": r.display,
            "key_type": r.is_many_to_many().then(|| r.key_type().name()),
            "inline": r.inline, "inline_delete": r.inline_delete, "inline_max": r.inline_max,
        })).collect::<Vec<_>>(),
    })
}

/// A many-to-many relation as a field of type `many`: a list of the target's keys.
fn set_config(relation: &Relation) -> Json {
    json!({
        "name": relation.name,
        "label": relation.label,
        "type": "many",
        "value_type": relation.key_type().name(),
        "required": false,
        "nullable": false,
        "read_only": false,
        "choices": [],
        "target": relation.target,
        "display": relation.display,
    })
}

fn field_config(field: &Field) -> Json {
    json!({
        "name": field.name,
        "label": field.label,
        "type": field.field_type.name(),
        "value_type": field.value_type().name(),
        "required": field.required,
        "blank": field.blank,
        "format": field.format,
        "nullable": field.is_nullable(),
        "min_length": field.min_length,
        "max_length": field.max_length,
        "min": field.min,
        "max": field.max,
        "pattern": field.pattern.as_ref().map(|p| p.source.clone()),
        "choices": field.choices,
        // A field the user may read and not change is read-only to the app.
        "read_only": field.read_only || field.locked,
        "default": field.default,
        "unique": field.unique,
        "target": field.target,
        "display": field.display,
    })
}
