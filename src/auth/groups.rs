//! Roles from an identity's groups, for users whom someone else signs in (an authenticating
//! proxy, an OpenID provider): a table of group → role, and a default role; a user gets the
//! first role, in the order the roles are declared (`admin` first), that one of their groups
//! maps to.

use std::collections::BTreeMap;

#[derive(Debug)]
pub struct GroupRoles {
    groups: BTreeMap<String, String>,
    default_role: Option<String>,
    /// The roles in the order they were declared.
    order: Vec<String>,
}

impl GroupRoles {
    /// Checks `groups` and `default_role` (of the config's `table`, for messages) against
    /// the declared `roles` (`admin` is built in).
    pub fn new(
        table: &str,
        groups: &BTreeMap<String, String>,
        default_role: Option<&str>,
        roles: &[String],
    ) -> Result<GroupRoles, String> {
        let known = |role: &str| role == "admin" || roles.iter().any(|r| r == role);
        for (group, role) in groups {
            if !known(role) {
                return Err(format!(
                    "{table} groups: group \"{group}\" maps to unknown role \"{role}\""
                ));
            }
        }
        if let Some(role) = default_role.filter(|r| !known(r)) {
            return Err(format!("{table} default_role: unknown role \"{role}\""));
        }
        let mut order = vec!["admin".to_owned()];
        order.extend(roles.iter().filter(|r| *r != "admin").cloned());
        Ok(GroupRoles {
            groups: groups.clone(),
            default_role: default_role.map(str::to_owned),
            order,
        })
    }

    /// The roles its users may get: those its groups map to, and the default one.
    pub fn roles(&self) -> impl Iterator<Item = &String> {
        self.groups.values().chain(self.default_role.iter())
    }

    /// The role of a user in `groups`, if any.
    pub fn role_of<'a>(&self, groups: impl IntoIterator<Item = &'a str>) -> Option<String> {
        let mapped: Vec<&str> = groups
            .into_iter()
            .filter_map(|g| self.groups.get(g).map(String::as_str))
            .collect();
        self.order
            .iter()
            .find(|role| mapped.contains(&role.as_str()))
            .cloned()
            .or_else(|| self.default_role.clone())
    }
}
