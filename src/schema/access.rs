//! Field permissions: the schema as a user sees it when a role hides fields from them or
//! lets them read a field and not write it. The restricted schema is the one the user's
//! requests are served from, so what a hidden field would leak through (responses, exports,
//! filters, sorts, search, the labels of references, the app's config, the OpenAPI
//! document) is closed by construction: a hidden field is not readable, as a password is
//! not, and not writable either.

use std::collections::BTreeMap;

use super::{AUDIT_ENTITY, Entity, Schema};

/// What a role may do with one field of an entity it may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldAccess {
    /// Never shown, never written, never filtered or sorted on: as if it were not there.
    Hidden,
    /// Shown; a write that would change it is refused (403, naming it).
    ReadOnly,
}

impl FieldAccess {
    pub fn name(self) -> &'static str {
        match self {
            FieldAccess::Hidden => "hidden",
            FieldAccess::ReadOnly => "read_only",
        }
    }

    pub fn from_name(name: &str) -> Option<FieldAccess> {
        [FieldAccess::Hidden, FieldAccess::ReadOnly]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

/// Entity → field → access: the fields a user may not see or not write.
pub type FieldRules = BTreeMap<String, BTreeMap<String, FieldAccess>>;

/// Entity → the rows a user may reach: a filter object of the list protocol, its values the
/// user's own (`$user.…` already replaced).
pub type RowScopes = BTreeMap<String, serde_json::Value>;

/// Why field rules do not fit a schema.
pub fn check_rules(schema: &Schema, rules: &FieldRules) -> Result<(), String> {
    for (entity_name, fields) in rules {
        let Some(entity) = schema.entity(entity_name) else {
            return Err(format!("\"{entity_name}\" is not an entity"));
        };
        for (name, access) in fields {
            if entity.find_field(name).is_none() {
                return Err(format!("entity \"{entity_name}\" has no field \"{name}\""));
            }
            if *access == FieldAccess::Hidden && *name == entity.primary_key {
                return Err(format!(
                    "entity \"{entity_name}\": its key \"{name}\" cannot be hidden (records are named by it)"
                ));
            }
        }
    }
    Ok(())
}

impl Schema {
    /// The schema as seen under `rules` (checked by [`check_rules`]; names that fit nothing
    /// are ignored): hidden fields become unreadable and unwritable, and are taken out of
    /// the list settings that name them; read-only ones are marked locked; references and
    /// many-to-many relations that display a hidden field of their target display its key.
    ///
    /// With `scopes`, each entity named there reaches only the rows its filter keeps
    /// (`Entity::row_scope`); the audit log's values are then hidden too (they are of every
    /// row).
    pub fn restricted(&self, rules: &FieldRules, scopes: &RowScopes) -> Schema {
        if rules.values().all(BTreeMap::is_empty) && scopes.is_empty() {
            return self.clone();
        }
        let hidden = |entity: &str, field: &str| {
            rules
                .get(entity)
                .and_then(|fields| fields.get(field))
                .is_some_and(|a| *a == FieldAccess::Hidden)
        };
        let hides = !scopes.is_empty()
            || rules
                .values()
                .any(|fields| fields.values().any(|a| *a == FieldAccess::Hidden));
        let mut entities: Vec<Entity> = self.entities().to_vec();
        for entity in &mut entities {
            if hides && entity.name == AUDIT_ENTITY {
                // The log's values are of every entity: one whose fields are hidden from the
                // user cannot have them shown there. The rest of each entry stays.
                for field in &mut entity.fields {
                    if matches!(field.name.as_str(), "before" | "after") {
                        field.hidden = true;
                    }
                }
            }
            if let Some(fields) = rules.get(&entity.name) {
                restrict_entity(entity, fields);
            }
            entity.row_scope = scopes.get(&entity.name).cloned();
            for field in &mut entity.fields {
                let shows_hidden = field
                    .target
                    .as_deref()
                    .zip(field.display.as_deref())
                    .is_some_and(|(target, display)| hidden(target, display));
                if shows_hidden {
                    field.display = None;
                    field.shown = None;
                }
            }
            for relation in &mut entity.relations {
                let shows_hidden = relation
                    .junction
                    .as_ref()
                    .and_then(|j| j.shown.as_ref())
                    .is_some_and(|shown| hidden(&relation.target, &shown.name))
                    || relation
                        .display
                        .as_deref()
                        .is_some_and(|display| hidden(&relation.target, display));
                if shows_hidden {
                    relation.display = None;
                    if let Some(junction) = relation.junction.as_mut() {
                        junction.shown = None;
                    }
                }
            }
        }
        Schema::from_checked(entities)
    }
}

fn restrict_entity(entity: &mut Entity, rules: &BTreeMap<String, FieldAccess>) {
    let is_hidden = |name: &str| rules.get(name) == Some(&FieldAccess::Hidden);
    for field in &mut entity.fields {
        match rules.get(&field.name) {
            Some(FieldAccess::Hidden) if field.name != entity.primary_key => field.hidden = true,
            Some(FieldAccess::ReadOnly) => field.locked = true,
            _ => {}
        }
    }
    for names in [
        &mut entity.list_columns,
        &mut entity.search,
        &mut entity.filters,
        &mut entity.pinned_filters,
    ] {
        names.retain(|name| !is_hidden(name));
    }
    if entity
        .default_sort
        .as_ref()
        .is_some_and(|(name, _)| is_hidden(name.split('.').next().unwrap_or(name)))
    {
        entity.default_sort = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Direction, Field, prepare_create, prepare_update};
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(vec![
            Entity::new("customers")
                .list_columns(["id", "name", "email"])
                .search(["name", "email"])
                .filters(["email"])
                .default_sort("-email")
                .field(Field::integer("id"))
                .field(Field::string("name"))
                .field(Field::email("email"))
                .field(Field::string("tier")),
            Entity::new("orders")
                .field(Field::integer("id"))
                .field(Field::reference("customer_id", "customers").display("email")),
        ])
        .unwrap()
    }

    fn rules(pairs: &[(&str, &str, FieldAccess)]) -> FieldRules {
        let mut rules = FieldRules::new();
        for (entity, field, access) in pairs {
            rules
                .entry((*entity).to_owned())
                .or_default()
                .insert((*field).to_owned(), *access);
        }
        rules
    }

    #[test]
    fn a_hidden_field_is_unreadable_and_out_of_every_list_setting() {
        let whole = schema();
        let seen = whole.restricted(
            &rules(&[("customers", "email", FieldAccess::Hidden)]),
            &RowScopes::new(),
        );
        let customers = seen.entity("customers").unwrap();
        let email = customers.find_field("email").unwrap();
        assert!(email.hidden && !email.is_readable());
        assert_eq!(customers.list_columns, ["id", "name"]);
        assert_eq!(customers.search, ["name"]);
        assert!(customers.filters.is_empty());
        assert_eq!(customers.default_sort, None);
        // A reference that shows it shows the key instead.
        let reference = seen
            .entity("orders")
            .unwrap()
            .find_field("customer_id")
            .unwrap();
        assert!(reference.display.is_none() && reference.shown().is_none());
        // The whole schema is untouched.
        let untouched = whole.entity("customers").unwrap();
        assert!(untouched.find_field("email").unwrap().is_readable());
        assert_eq!(
            untouched.default_sort,
            Some(("email".into(), Direction::Desc))
        );
        assert!(
            !seen.same(&whole)
                && whole
                    .restricted(&FieldRules::new(), &RowScopes::new())
                    .same(&whole)
        );
    }

    #[test]
    fn writes_of_hidden_and_locked_fields() {
        let seen = schema().restricted(
            &rules(&[
                ("customers", "email", FieldAccess::Hidden),
                ("customers", "tier", FieldAccess::ReadOnly),
            ]),
            &RowScopes::new(),
        );
        let customers = seen.entity("customers").unwrap();
        let body = |value: serde_json::Value| value.as_object().unwrap().clone();
        assert_eq!(
            prepare_create(customers, &body(json!({"id": 1, "email": "a@b.c"}))),
            Err(crate::schema::WriteError::UnknownKeys(vec!["email".into()]))
        );
        let refused = prepare_create(customers, &body(json!({"id": 1, "tier": "gold"})));
        assert_eq!(
            refused,
            Err(crate::schema::WriteError::Forbidden(
                [("tier".into(), LOCKED_MESSAGE.into())].into()
            ))
        );
        assert!(prepare_create(customers, &body(json!({"id": 1, "tier": null}))).is_ok());
        let stored = body(json!({"id": 1, "name": "A", "tier": "gold"}));
        let same = prepare_update(
            customers,
            &body(json!({"tier": "gold", "name": "B"})),
            &stored,
        );
        assert_eq!(
            same.unwrap().len(),
            1,
            "the unchanged locked value is not written"
        );
        let changed = prepare_update(customers, &body(json!({"tier": "silver"})), &stored);
        assert!(matches!(
            changed,
            Err(crate::schema::WriteError::Forbidden(_))
        ));
    }

    #[test]
    fn rules_are_checked_against_the_schema() {
        let schema = schema();
        let check = |pairs| check_rules(&schema, &rules(pairs));
        assert!(check(&[("customers", "email", FieldAccess::Hidden)]).is_ok());
        assert_eq!(
            check(&[("clients", "email", FieldAccess::Hidden)]).unwrap_err(),
            "\"clients\" is not an entity"
        );
        assert_eq!(
            check(&[("customers", "mail", FieldAccess::ReadOnly)]).unwrap_err(),
            "entity \"customers\" has no field \"mail\""
        );
        assert!(
            check(&[("customers", "id", FieldAccess::Hidden)])
                .unwrap_err()
                .contains("cannot be hidden")
        );
    }

    const LOCKED_MESSAGE: &str = "is read-only for you";
}
