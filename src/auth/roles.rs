//! Roles (`[[auth.role]]`): per entity, the actions its users may take and the fields they
//! may not see or not change, checked against the schema. `admin` is built in: every action on
//! every entity.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Action;
use serde_json::Value as Json;

use crate::schema::{FieldAccess, FieldRules, RowScopes, Schema, check_rules};

/// Permissions per entity (or `"*"`).
pub type Permissions = BTreeMap<String, BTreeSet<Action>>;

/// A role, checked.
#[derive(Clone, Debug)]
pub struct Role {
    pub permissions: Permissions,
    pub fields: FieldRules,
    /// Entity → the rows the role's users may reach: a filter object whose values may be
    /// `"$user.<attribute>"`, each user's own (see [`Role::scopes_for`]).
    pub scopes: BTreeMap<String, Json>,
    /// Its users must log in with a second factor too.
    pub require_2fa: bool,
}

impl Role {
    /// The role's scopes for a user of `attributes` (their `name` among them): every string
    /// value that is exactly `$user.<attribute>` becomes the attribute's value. Cheap: what
    /// a request does for a proxy's user; [`Role::checked_scopes_for`] also checks them.
    pub fn scopes_for(&self, attributes: &BTreeMap<String, Json>) -> Result<RowScopes, String> {
        self.scopes
            .iter()
            .map(|(entity, template)| {
                let scope = substitute(template, attributes).map_err(|name| {
                    format!("the where of \"{entity}\" needs the attribute \"{name}\"")
                })?;
                Ok((entity.clone(), scope))
            })
            .collect()
    }

    /// [`Role::scopes_for`], each scope then checked against the entity as the role sees it
    /// (when the admin starts).
    pub fn checked_scopes_for(
        &self,
        schema: &Schema,
        attributes: &BTreeMap<String, Json>,
    ) -> Result<RowScopes, String> {
        let scopes = self.scopes_for(attributes)?;
        if scopes.is_empty() {
            return Ok(scopes);
        }
        let seen = schema.restricted(&self.fields, &RowScopes::new());
        for (entity, scope) in &scopes {
            let target = seen
                .entity(entity)
                .ok_or_else(|| format!("\"{entity}\" is not an entity"))?;
            crate::query::scope_filters(target, scope)
                .map_err(|error| format!("the where of \"{entity}\": {error}"))?;
        }
        Ok(scopes)
    }
}

/// `template` with `"$user.<name>"` strings replaced by the attributes' values; `Err(name)`
/// for an attribute the user does not have.
fn substitute(template: &Json, attributes: &BTreeMap<String, Json>) -> Result<Json, String> {
    Ok(match template {
        Json::String(text) => match text.strip_prefix("$user.") {
            Some(name) => attributes
                .get(name)
                .cloned()
                .ok_or_else(|| name.to_owned())?,
            None => template.clone(),
        },
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|item| substitute(item, attributes))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(key, value)| Ok((key.clone(), substitute(value, attributes)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// The roles by name, `admin` among them.
pub type Roles = BTreeMap<String, Role>;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub name: String,
    /// Entity (or `"*"`) → what the role may do with it.
    pub permissions: BTreeMap<String, Grant>,
    /// Its users must log in with a second factor (TOTP) as well as their password.
    #[serde(default)]
    pub require_2fa: bool,
}

/// A role's permission on an entity: `["view", "edit"]`, or a table
/// `{ actions = ["view", "edit"], fields = { card_number = "hidden", email = "read_only" } }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct Grant {
    /// `view`, `add`, `edit`, `delete`, or `"*"`.
    pub actions: Vec<String>,
    /// Field → `hidden` or `read_only`.
    pub fields: BTreeMap<String, String>,
    /// The rows the role reaches: a filter object (`{ region = "$user.region" }`).
    pub scope: Option<Json>,
}

impl TryFrom<toml::Value> for Grant {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Grant, String> {
        let strings = |value: toml::Value, what: &str| -> Result<Vec<String>, String> {
            let toml::Value::Array(items) = value else {
                return Err(format!("{what} must be a list of strings"));
            };
            items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s),
                    _ => Err(format!("{what} must be a list of strings")),
                })
                .collect()
        };
        match value {
            toml::Value::Array(_) => Ok(Grant {
                actions: strings(value, "actions")?,
                ..Grant::default()
            }),
            toml::Value::Table(table) => {
                let mut grant = Grant::default();
                for (key, value) in table {
                    match key.as_str() {
                        "actions" => grant.actions = strings(value, "actions")?,
                        "fields" => {
                            let toml::Value::Table(fields) = value else {
                                return Err("fields must be a table: { field = \"hidden\" | \"read_only\" }".into());
                            };
                            for (field, access) in fields {
                                let toml::Value::String(access) = access else {
                                    return Err(format!(
                                        "field \"{field}\": \"hidden\" or \"read_only\""
                                    ));
                                };
                                grant.fields.insert(field, access);
                            }
                        }
                        "where" => {
                            if !value.is_table() {
                                return Err("where must be a table: { field = value or { operator = value } }".into());
                            }
                            let json = serde_json::to_value(value).map_err(|e| e.to_string())?;
                            grant.scope = Some(json);
                        }
                        other => {
                            return Err(format!(
                                "unknown key \"{other}\" in a permission (actions, fields, where)"
                            ));
                        }
                    }
                }
                Ok(grant)
            }
            _ => Err(
                "a permission is a list of actions, or a table { actions = [...], fields = {...} }"
                    .into(),
            ),
        }
    }
}

/// Checks `configs` against the schema; messages name the role (and the entity and field).
pub fn check(configs: &[RoleConfig], schema: &Schema) -> Result<Roles, String> {
    let mut roles = Roles::new();
    roles.insert(
        "admin".to_owned(),
        Role {
            permissions: [("*".to_owned(), Action::ALL.into_iter().collect())].into(),
            fields: FieldRules::new(),
            scopes: BTreeMap::new(),
            require_2fa: false,
        },
    );
    for role in configs {
        let mut permissions = BTreeMap::new();
        let mut rules = FieldRules::new();
        let mut scopes = BTreeMap::new();
        for (entity, grant) in &role.permissions {
            if entity != "*" && schema.entity(entity).is_none() {
                return Err(format!(
                    "role \"{}\": \"{entity}\" is not an entity",
                    role.name
                ));
            }
            if let Some(scope) = &grant.scope {
                if entity == "*" {
                    return Err(format!(
                        "role \"{}\": a where is an entity's, not of \"*\"",
                        role.name
                    ));
                }
                scopes.insert(entity.clone(), scope.clone());
            }
            if !grant.fields.is_empty() {
                if entity == "*" {
                    return Err(format!(
                        "role \"{}\": fields are an entity's, not of \"*\"",
                        role.name
                    ));
                }
                let mut fields = BTreeMap::new();
                for (field, access) in &grant.fields {
                    let access = FieldAccess::from_name(access).ok_or_else(|| {
                        format!(
                            "role \"{}\", entity \"{entity}\", field \"{field}\": unknown access \"{access}\" (hidden, read_only)",
                            role.name
                        )
                    })?;
                    fields.insert(field.clone(), access);
                }
                let one: FieldRules = [(entity.clone(), fields)].into();
                check_rules(schema, &one)
                    .map_err(|message| format!("role \"{}\": {message}", role.name))?;
                rules.extend(one);
            }
            let mut set = BTreeSet::new();
            for action in &grant.actions {
                if action == "*" {
                    set.extend(Action::ALL);
                } else {
                    set.insert(Action::from_name(action).ok_or_else(|| {
                        format!(
                            "role \"{}\": unknown action \"{action}\" (view, add, edit, delete, *)",
                            role.name
                        )
                    })?);
                }
            }
            permissions.insert(entity.clone(), set);
        }
        roles.insert(
            role.name.clone(),
            Role {
                permissions,
                fields: rules,
                scopes,
                require_2fa: role.require_2fa,
            },
        );
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Entity, Field};

    fn schema() -> Schema {
        Schema::new(vec![
            Entity::new("orders")
                .field(Field::integer("id"))
                .field(Field::string("region"))
                .field(Field::string("card_number")),
        ])
        .unwrap()
    }

    /// One role, "agent", of `permissions` (TOML), checked.
    fn check(permissions: &str) -> Result<Role, String> {
        #[derive(Deserialize)]
        struct Config {
            role: Vec<RoleConfig>,
        }
        let text = format!("[[role]]\nname = \"agent\"\npermissions = {permissions}\n");
        let config: Config = toml::from_str(&text).map_err(|e| e.to_string())?;
        let mut roles = super::check(&config.role, &schema())?;
        assert!(roles.contains_key("admin"));
        Ok(roles.remove("agent").unwrap())
    }

    /// `require_2fa` is a role's, off by default; a declared `admin` replaces the built-in
    /// one, so that administrators may be required a second factor too.
    #[test]
    fn a_role_may_require_a_second_factor() {
        #[derive(Deserialize)]
        struct Config {
            role: Vec<RoleConfig>,
        }
        let text = "[[role]]\nname = \"admin\"\npermissions = { \"*\" = [\"*\"] }\nrequire_2fa = true\n\n[[role]]\nname = \"agent\"\npermissions = { orders = [\"view\"] }\n";
        let config: Config = toml::from_str(text).unwrap();
        let roles = super::check(&config.role, &schema()).unwrap();
        assert!(roles["admin"].require_2fa);
        assert!(!roles["agent"].require_2fa);
        assert!(!super::check(&[], &schema()).unwrap()["admin"].require_2fa);
    }

    #[test]
    fn permissions_take_the_list_and_the_table_form() {
        assert!(check(r#"{ orders = ["view"] }"#).unwrap().fields.is_empty());
        let al = check(
            r#"{ orders = { actions = ["view", "edit"], fields = { card_number = "hidden", region = "read_only" } } }"#,
        )
        .unwrap();
        assert_eq!(
            al.permissions["orders"],
            [Action::View, Action::Edit].into_iter().collect()
        );
        assert_eq!(al.fields["orders"]["card_number"], FieldAccess::Hidden);
        assert_eq!(al.fields["orders"]["region"], FieldAccess::ReadOnly);
    }

    #[test]
    fn bad_permissions_are_named() {
        for (permissions, expected) in [
            (
                r#"{ orders = { actions = ["view"], fields = { card = "hidden" } } }"#,
                "role \"agent\": entity \"orders\" has no field \"card\"",
            ),
            (
                r#"{ orders = { actions = ["view"], fields = { region = "secret" } } }"#,
                "role \"agent\", entity \"orders\", field \"region\": unknown access \"secret\" (hidden, read_only)",
            ),
            (
                r#"{ "*" = { actions = ["view"], fields = { region = "hidden" } } }"#,
                "role \"agent\": fields are an entity's, not of \"*\"",
            ),
            (
                r#"{ orders = { actions = ["view"], fields = { id = "hidden" } } }"#,
                "cannot be hidden",
            ),
            (
                r#"{ orders = { actions = ["view"], where = "EU" } }"#,
                "where must be a table",
            ),
            (
                r#"{ orders = "view" }"#,
                "a permission is a list of actions",
            ),
        ] {
            let error = check(permissions).unwrap_err();
            assert!(error.contains(expected), "{permissions}: {error}");
        }
    }
}
