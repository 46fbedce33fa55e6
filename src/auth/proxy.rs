//! Behind an authenticating proxy (`[auth.proxy]`): the proxy has already logged the user in
//! and says who they are, and in which groups, in request headers. Those headers are
//! trusted only on connections from the proxy's own addresses: anyone else could send them.
//! A user's role is the first `[[auth.role]]` (after the built-in `admin`) that one of their
//! groups maps to.

use std::collections::BTreeMap;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use serde::Deserialize;

use super::addresses::Range;
use super::groups::GroupRoles;

/// The `[auth.proxy]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// The proxy's addresses: IPs or CIDR ranges (`"10.0.0.0/8"`).
    pub trusted: Vec<String>,
    /// The header naming the user.
    #[serde(default = "default_user_header")]
    pub user_header: String,
    /// The header listing the user's groups, separated by commas.
    #[serde(default = "default_groups_header")]
    pub groups_header: String,
    /// Group → role (a role of `[[auth.role]]`, or `admin`).
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
    /// The role of a user none of whose groups maps to one; without it, such a user is 403.
    pub default_role: Option<String>,
}

fn default_user_header() -> String {
    "X-Forwarded-User".into()
}

fn default_groups_header() -> String {
    "X-Forwarded-Groups".into()
}

/// `[auth.proxy]`, checked.
#[derive(Debug)]
pub struct Proxy {
    trusted: Vec<Range>,
    user_header: String,
    groups_header: String,
    roles: GroupRoles,
}

/// Who the proxy says a request comes from.
#[derive(Debug, PartialEq)]
pub enum Claim {
    /// Not a request the proxy vouches for: not from its address, or without the header.
    None,
    /// A user and their role.
    User { name: String, role: String },
    /// A user the proxy vouches for whose groups give no role.
    NoRole { name: String },
    /// A header that cannot name anyone (empty, too long, control characters).
    Malformed(String),
}

impl Proxy {
    /// Checks the table; `roles` are the declared roles, in order (`admin` is built in).
    pub fn new(config: &ProxyConfig, roles: &[String]) -> Result<Proxy, String> {
        let trusted = config
            .trusted
            .iter()
            .map(|text| {
                Range::parse(text).ok_or_else(|| {
                    format!("[auth.proxy] trusted: \"{text}\" is not an IP address or a CIDR range")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if trusted.is_empty() {
            return Err("[auth.proxy] trusted must name the proxy's addresses".into());
        }
        for header in [&config.user_header, &config.groups_header] {
            if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(format!("[auth.proxy]: \"{header}\" is not a header name"));
            }
        }
        let roles = GroupRoles::new(
            "[auth.proxy]",
            &config.groups,
            config.default_role.as_deref(),
            roles,
        )?;
        Ok(Proxy {
            trusted,
            user_header: config.user_header.clone(),
            groups_header: config.groups_header.clone(),
            roles,
        })
    }

    /// The roles its users may get: those its groups map to, and the default one.
    pub fn roles(&self) -> impl Iterator<Item = &String> {
        self.roles.roles()
    }

    /// Whether the request came (directly) from the proxy.
    fn came_from_proxy(&self, parts: &Parts) -> bool {
        parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| self.trusted.iter().any(|r| r.contains(peer.ip())))
    }

    /// Who the proxy says the request comes from.
    pub fn claim(&self, parts: &Parts) -> Claim {
        let Some(value) = parts.headers.get(self.user_header.as_str()) else {
            return Claim::None;
        };
        if !self.came_from_proxy(parts) {
            // Anyone may send the header: only the proxy's is believed.
            return Claim::None;
        }
        let name = match value.to_str().map(str::trim) {
            Ok(name) if !name.is_empty() && name.chars().count() <= 200 => name.to_owned(),
            _ => {
                return Claim::Malformed(format!(
                    "the proxy's {} header names no user",
                    self.user_header
                ));
            }
        };
        let groups: Vec<&str> = parts
            .headers
            .get_all(self.groups_header.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .collect();
        let role = self.roles.role_of(groups);
        match role {
            Some(role) => Claim::User { name, role },
            None => Claim::NoRole { name },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn proxy(trusted: &[&str]) -> Proxy {
        let config = ProxyConfig {
            trusted: trusted.iter().map(|t| (*t).to_owned()).collect(),
            user_header: default_user_header(),
            groups_header: default_groups_header(),
            groups: [("staff", "editor"), ("ops", "admin"), ("help", "support")]
                .into_iter()
                .map(|(g, r)| (g.to_owned(), r.to_owned()))
                .collect(),
            default_role: None,
        };
        Proxy::new(&config, &["support".into(), "editor".into()]).unwrap()
    }

    fn request(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = axum::http::Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn only_the_proxys_addresses_are_believed() {
        let proxy = proxy(&["10.0.0.0/8", "::1"]);
        let user = [("x-forwarded-user", "pat"), ("x-forwarded-groups", "staff")];
        let claim = |peer| proxy.claim(&request(peer, &user));
        let pat = Claim::User {
            name: "pat".into(),
            role: "editor".into(),
        };
        assert_eq!(claim("10.20.30.40:5000"), pat);
        assert_eq!(claim("[::ffff:10.1.1.1]:5000"), pat);
        assert_eq!(claim("[::1]:5000"), pat);
        assert_eq!(claim("11.0.0.1:5000"), Claim::None);
        assert_eq!(claim("127.0.0.1:5000"), Claim::None);
        // No address known (a host app's server that does not say): not believed.
        let (mut parts, ()) = axum::http::Request::builder()
            .header("x-forwarded-user", "pat")
            .body(())
            .unwrap()
            .into_parts();
        parts.extensions = Default::default();
        assert_eq!(proxy.claim(&parts), Claim::None);
    }

    #[test]
    fn the_first_declared_role_of_the_users_groups_is_theirs() {
        let proxy = proxy(&["127.0.0.1"]);
        let claim = |groups: &str| {
            proxy.claim(&request(
                "127.0.0.1:1",
                &[("x-forwarded-user", "pat"), ("x-forwarded-groups", groups)],
            ))
        };
        let role = |role: &str| Claim::User {
            name: "pat".into(),
            role: role.into(),
        };
        assert_eq!(claim("staff, help"), role("support"));
        assert_eq!(claim("help,ops"), role("admin"));
        assert_eq!(claim("nobody"), Claim::NoRole { name: "pat".into() });
        assert!(matches!(
            proxy.claim(&request("127.0.0.1:1", &[("x-forwarded-user", " ")])),
            Claim::Malformed(_)
        ));
    }

    #[test]
    fn bad_tables_are_named() {
        let config = |trusted: &str, role: &str| ProxyConfig {
            trusted: vec![trusted.to_owned()],
            user_header: default_user_header(),
            groups_header: default_groups_header(),
            groups: [("staff".to_owned(), role.to_owned())].into(),
            default_role: None,
        };
        let roles = ["editor".to_owned()];
        assert!(Proxy::new(&config("10.0.0.0/8", "editor"), &roles).is_ok());
        for (trusted, role, expected) in [
            (
                "10.0.0.0/33",
                "editor",
                "is not an IP address or a CIDR range",
            ),
            (
                "proxy.local",
                "editor",
                "is not an IP address or a CIDR range",
            ),
            ("10.0.0.1", "chief", "maps to unknown role \"chief\""),
        ] {
            let error = Proxy::new(&config(trusted, role), &roles).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }
}
