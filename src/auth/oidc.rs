//! Single sign-on with OpenID Connect (`[auth.oidc]`): the authorization code flow with PKCE,
//! through the `openidconnect` crate. `start` sends the browser to the provider with a fresh
//! state, nonce and PKCE verifier, kept in a short-lived signed cookie (nothing is stored
//! here); `finish` checks the state against the cookie, exchanges the code with the
//! verifier, verifies the ID token (signature by the provider's keys, issuer, audience,
//! expiry, nonce), and maps its claims to a user name, a role (from the groups, as for a
//! proxy) and attributes. The provider is discovered at the first login, not at start: an
//! admin whose provider is away still starts, and its password users still log in.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tokio::sync::Mutex;

use super::groups::GroupRoles;

/// `[auth.oidc]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL (its discovery document is under it).
    pub issuer: String,
    pub client_id: String,
    /// The client's secret; else `AUTOADMIN_OIDC_CLIENT_SECRET`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// This admin's callback as the provider knows it:
    /// `https://admin.example.com/admin/api/login/oidc/callback`.
    pub redirect_url: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim that names the user here.
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// The claim that lists the user's groups (an array, or a string of comma- or
    /// space-separated names).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Group → role.
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
    /// The role of a user whose groups map to none (without it, such a user is refused).
    #[serde(default)]
    pub default_role: Option<String>,
    /// User attribute (what a role's `where` names as `$user.<attribute>`) → claim.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// What the login page's button says.
    #[serde(default = "default_label")]
    pub label: String,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(str::to_owned).to_vec()
}

fn default_user_claim() -> String {
    "email".into()
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_label() -> String {
    "Single sign-on".into()
}

/// Every claim of the ID token beyond the standard ones, by name.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct OtherClaims(BTreeMap<String, Json>);

impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type Client = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<Fields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long the provider's metadata and keys are used before they are fetched again (keys
/// rotate; a login whose token does not verify drops them at once).
const METADATA_TTL: Duration = Duration::from_secs(60 * 60);
/// How long a login may take at the provider.
pub const FLOW_SECS: i64 = 10 * 60;

/// What a login at the provider must come back with: kept in the signed cookie.
#[derive(Debug, Deserialize, Serialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub exp: i64,
}

/// Who the provider says signed in.
#[derive(Debug, PartialEq)]
pub struct Identity {
    pub name: String,
    pub role: String,
    pub attributes: BTreeMap<String, Json>,
}

/// Why a login at the provider did not give a user: a code for the app's message (never the
/// provider's text, which an attacker may have written into the address).
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The provider said no (the user cancelled, or may not use this client).
    Denied,
    /// No cookie, an expired one, or a state that is not the cookie's: start again.
    Expired,
    /// The provider is unreachable, or answered something that is not a valid token.
    Provider(String),
    /// The token names no user (`user_claim` missing or empty).
    NoUser,
    /// None of the user's groups has a role here, and there is no default role.
    NoRole(String),
    /// A user of the built-in login has the name: the provider's may not pass for them.
    Taken(String),
    /// The user's attributes do not fit their role's `where` (a claim missing, or of the
    /// wrong type).
    Attributes(String),
}

impl Refusal {
    /// The code the app's login page is sent back with.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Denied => "denied",
            Refusal::Expired => "expired",
            Refusal::Provider(_) => "provider",
            Refusal::NoUser => "no_user",
            Refusal::NoRole(_) => "no_role",
            Refusal::Taken(_) => "taken",
            Refusal::Attributes(_) => "attributes",
        }
    }
}

pub struct Oidc {
    config: OidcConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    secret: Option<ClientSecret>,
    roles: GroupRoles,
    http: openidconnect::reqwest::Client,
    /// The client made from the provider's discovery document, and when it was fetched.
    client: Mutex<Option<(Instant, Client)>>,
}

impl Oidc {
    /// Checks the table (no I/O: the provider is asked at the first login).
    pub fn new(config: &OidcConfig, roles: &[String]) -> Result<Oidc, String> {
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| format!("[auth.oidc] issuer: {e}"))?;
        let redirect = RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| format!("[auth.oidc] redirect_url: {e}"))?;
        for (key, url) in [("issuer", issuer.url()), ("redirect_url", redirect.url())] {
            if !secure_or_local(url) {
                return Err(format!(
                    "[auth.oidc] {key}: \"{url}\" must be https (http only on this machine)"
                ));
            }
        }
        if config.client_id.trim().is_empty() {
            return Err("[auth.oidc] client_id is empty".into());
        }
        if !config.scopes.iter().any(|s| s == "openid") {
            return Err("[auth.oidc] scopes must include \"openid\"".into());
        }
        let secret = config
            .client_secret
            .clone()
            .or_else(|| std::env::var("AUTOADMIN_OIDC_CLIENT_SECRET").ok())
            .filter(|s| !s.is_empty())
            .map(ClientSecret::new);
        let roles = GroupRoles::new(
            "[auth.oidc]",
            &config.groups,
            config.default_role.as_deref(),
            roles,
        )?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer point the server elsewhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("[auth.oidc]: {e}"))?;
        Ok(Oidc {
            config: config.clone(),
            issuer,
            redirect,
            secret,
            roles,
            http,
            client: Mutex::new(None),
        })
    }

    /// The roles its users may get.
    pub fn roles(&self) -> impl Iterator<Item = &String> {
        self.roles.roles()
    }

    /// The attributes its users get (besides `name`).
    pub fn attribute_names(&self) -> impl Iterator<Item = &String> {
        self.config.attributes.keys()
    }

    pub fn label(&self) -> &str {
        &self.config.label
    }

    /// The client of the provider, from its discovery document (fetched again when the last
    /// is older than `METADATA_TTL`, or was dropped).
    async fn client(&self) -> Result<Client, Refusal> {
        let mut cached = self.client.lock().await;
        if let Some((at, client)) = cached.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(client.clone());
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                Refusal::Provider(format!("discovery of {}: {}", self.issuer.url(), chain(&e)))
            })?;
        let client = Client::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        *cached = Some((Instant::now(), client.clone()));
        Ok(client)
    }

    /// Where to send the browser, and what to keep in the cookie until it comes back.
    pub async fn start(&self, now: i64) -> Result<(String, Pending), Refusal> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            exp: now + FLOW_SECS,
        };
        Ok((url.to_string(), pending))
    }

    /// The user the provider's answer (`code` and `state`) names, checked against `pending`.
    pub async fn finish(
        &self,
        pending: &Pending,
        code: &str,
        state: &str,
    ) -> Result<Identity, Refusal> {
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(state.as_bytes(), pending.state.as_bytes()).into();
        if !same {
            return Err(Refusal::Expired);
        }
        let claims = self.claims(pending, code).await;
        if claims.is_err() {
            // The provider's keys may have rotated: the next login fetches them again.
            *self.client.lock().await = None;
        }
        self.identity(&claims?)
    }

    /// The ID token's claims, verified, as JSON.
    async fn claims(
        &self,
        pending: &Pending,
        code: &str,
    ) -> Result<serde_json::Map<String, Json>, Refusal> {
        let client = self.client().await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| Refusal::Provider(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| Refusal::Provider(format!("the code was not exchanged: {}", chain(&e))))?;
        let token = openidconnect::TokenResponse::id_token(&response)
            .ok_or_else(|| Refusal::Provider("the provider sent no ID token".into()))?;
        let verifier = client.id_token_verifier();
        let claims = token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|e| Refusal::Provider(format!("the ID token is not valid: {e}")))?;
        match serde_json::to_value(claims) {
            Ok(Json::Object(map)) => Ok(map),
            _ => Err(Refusal::Provider(
                "the ID token's claims are not an object".into(),
            )),
        }
    }

    /// The user, role and attributes of verified `claims`.
    pub fn identity(&self, claims: &serde_json::Map<String, Json>) -> Result<Identity, Refusal> {
        let name = match claims.get(&self.config.user_claim) {
            Some(Json::String(name)) if !name.trim().is_empty() && name.chars().count() <= 200 => {
                name.trim().to_owned()
            }
            _ => return Err(Refusal::NoUser),
        };
        let groups: Vec<String> = match claims.get(&self.config.groups_claim) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect(),
            Some(Json::String(text)) => text
                .split([',', ' '])
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let role = self
            .roles
            .role_of(groups.iter().map(String::as_str))
            .ok_or_else(|| Refusal::NoRole(name.clone()))?;
        let mut attributes: BTreeMap<String, Json> = self
            .config
            .attributes
            .iter()
            .filter_map(|(attribute, claim)| {
                let value = claims.get(claim)?;
                matches!(value, Json::String(_) | Json::Number(_) | Json::Bool(_))
                    .then(|| (attribute.clone(), value.clone()))
            })
            .collect();
        attributes.insert("name".into(), Json::from(name.clone()));
        Ok(Identity {
            name,
            role,
            attributes,
        })
    }
}

/// An error and its causes, for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// https, or http to this machine (a provider run for development or tests).
fn secure_or_local(url: &openidconnect::url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => {
            matches!(
                url.host(),
                Some(openidconnect::url::Host::Domain("localhost"))
            ) || matches!(url.host(), Some(openidconnect::url::Host::Ipv4(ip)) if ip.is_loopback())
                || matches!(url.host(), Some(openidconnect::url::Host::Ipv6(ip)) if ip.is_loopback())
        }
        _ => false,
    }
}

impl super::token::Expiring for Pending {
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl super::builtin::Builtin {
    /// The key the flow's cookie is signed with: never the sessions' or the challenges'.
    fn flow_key(&self) -> Vec<u8> {
        let mut key = self.secret.clone();
        key.extend_from_slice(b"/autoadmin: single sign-on flow");
        key
    }

    /// What the login page's single sign-on button says, if there is one.
    pub fn sso_label(&self) -> Option<&str> {
        self.oidc.as_ref().map(|(oidc, _)| oidc.label())
    }

    /// Whether `name` is a user of the config (not a provider's).
    pub fn is_own_user(&self, name: &str) -> bool {
        self.users.contains_key(name)
    }

    /// Whether users of the config log in with a password.
    pub fn has_password_users(&self) -> bool {
        !self.users.is_empty()
    }

    /// The start of a single sign-on: where to send the browser, and the flow's cookie
    /// value (signed).
    pub async fn sso_start(&self) -> Result<(String, String), Refusal> {
        let (oidc, _) = self.oidc.as_ref().ok_or(Refusal::Denied)?;
        let (url, pending) = oidc.start(chrono::Utc::now().timestamp()).await?;
        Ok((url, super::token::sign(&self.flow_key(), &pending)))
    }

    /// The end of a single sign-on: the provider's answer (`code` and `state`, or an
    /// `error`) checked against the flow's cookie (`flow`), and the session it opens.
    pub async fn sso_finish(
        &self,
        flow: Option<&str>,
        code: Option<&str>,
        state: Option<&str>,
        error: Option<&str>,
    ) -> Result<(Identity, super::builtin::Login), Refusal> {
        let (oidc, schema) = self.oidc.as_ref().ok_or(Refusal::Denied)?;
        if error.is_some() {
            return Err(Refusal::Denied);
        }
        let now = chrono::Utc::now().timestamp();
        let pending = flow.and_then(|v| super::token::verify::<Pending>(&self.flow_key(), v, now));
        let (Some(pending), Some(code), Some(state)) = (pending, code, state) else {
            return Err(Refusal::Expired);
        };
        let identity = oidc.finish(&pending, code, state).await?;
        if self.users.contains_key(&identity.name) {
            return Err(Refusal::Taken(identity.name));
        }
        // The attributes must make the role's where a valid filter (an integer for an
        // integer field...).
        let granted = self.roles.get(&identity.role).ok_or(Refusal::Denied)?;
        if let Err(why) = granted.checked_scopes_for(schema, &identity.attributes) {
            return Err(Refusal::Attributes(why));
        }
        let login = self
            .sso_session(&identity)
            .await
            .map_err(|e| Refusal::Provider(format!("no session: {e}")))?;
        Ok((identity, login))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(extra: &str) -> Result<Oidc, String> {
        let text = format!(
            "issuer = \"https://login.example.com\"\nclient_id = \"autoadmin\"\nclient_secret = \"s\"\n\
             redirect_url = \"https://admin.example.com/admin/api/login/oidc/callback\"\n\
             groups = {{ staff = \"editor\", ops = \"admin\" }}\nattributes = {{ region = \"region\" }}\n{extra}"
        );
        let config: OidcConfig = toml::from_str(&text).map_err(|e| e.to_string())?;
        Oidc::new(&config, &["editor".to_owned(), "reader".to_owned()])
    }

    fn claims(value: serde_json::Value) -> serde_json::Map<String, Json> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn claims_give_the_name_the_first_declared_role_and_the_attributes() {
        let oidc = config("").unwrap();
        let ann = oidc
            .identity(&claims(
                json!({"email": "ann@x", "groups": ["staff", "ops"], "region": "EU", "other": 1}),
            ))
            .unwrap();
        assert_eq!(ann.name, "ann@x");
        assert_eq!(ann.role, "admin", "admin comes first");
        assert_eq!(
            ann.attributes,
            [
                ("name".to_owned(), json!("ann@x")),
                ("region".to_owned(), json!("EU"))
            ]
            .into()
        );
        // Groups as one string, separated by commas or spaces.
        let bob = oidc
            .identity(&claims(
                json!({"email": "bob@x", "groups": "visitors, staff"}),
            ))
            .unwrap();
        assert_eq!(bob.role, "editor");
        assert!(
            !bob.attributes.contains_key("region"),
            "a claim it lacks is no attribute"
        );
        // No name, no role.
        assert_eq!(
            oidc.identity(&claims(json!({"groups": ["staff"]}))),
            Err(Refusal::NoUser)
        );
        assert_eq!(
            oidc.identity(&claims(json!({"email": " ", "groups": ["staff"]}))),
            Err(Refusal::NoUser)
        );
        assert_eq!(
            oidc.identity(&claims(json!({"email": "cid@x", "groups": ["visitors"]}))),
            Err(Refusal::NoRole("cid@x".into()))
        );
        let with_default = config("default_role = \"reader\"").unwrap();
        let cid = with_default
            .identity(&claims(json!({"email": "cid@x"})))
            .unwrap();
        assert_eq!(cid.role, "reader");
        // An attribute's claim that is an object or a list is not taken.
        let odd = oidc
            .identity(&claims(
                json!({"email": "d@x", "groups": ["staff"], "region": {"a": 1}}),
            ))
            .unwrap();
        assert!(!odd.attributes.contains_key("region"));
    }

    #[test]
    fn the_table_is_checked_before_any_request() {
        let error = |extra: &str| config(extra).err().unwrap_or_default();
        assert!(config("").is_ok());
        assert!(
            error("label = 1").contains("label"),
            "{}",
            error("label = 1")
        );
        assert!(error("scopes = [\"email\"]").contains("openid"));
        assert!(error("default_role = \"nobody\"").contains("unknown role \"nobody\""));
        assert!(error("unknown = 1").contains("unknown"));
        let plain = |issuer: &str| {
            let text = format!(
                "issuer = \"{issuer}\"\nclient_id = \"a\"\nredirect_url = \"http://127.0.0.1:8000/cb\"\n"
            );
            Oidc::new(&toml::from_str(&text).unwrap(), &[])
        };
        assert!(
            plain("http://127.0.0.1:9000").is_ok(),
            "http on this machine"
        );
        assert!(plain("http://localhost:9000").is_ok());
        let remote = plain("http://login.example.com").err().unwrap();
        assert!(remote.contains("must be https"), "{remote}");
        assert!(plain("not a url").is_err());
    }
}
