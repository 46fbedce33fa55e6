//! Two-factor login for the built-in users (TOTP, `totp.rs`): a right password of a user with
//! a second factor gives a challenge, not a session; the challenge and a code (or a
//! recovery code) give the session, rate-limited like the password. A signed-in user sets
//! one up (a secret shown as a QR code, confirmed with its first code: then recovery codes,
//! shown once), makes new recovery codes, or turns it off with a code; an administrator
//! removes another user's (who lost their device). A role's `require_2fa` leaves its users
//! nothing but the set-up until they have one.

use super::builtin::{Builtin, Login, session_id};
use super::token::{self, Claims};
use super::totp;
use super::{Error, Principal};

/// How long a password's challenge stays good.
const CHALLENGE_SECS: i64 = 5 * 60;

/// What proves the second factor.
pub enum Proof {
    /// The authenticator app's current code.
    Code(String),
    /// One of the recovery codes, each good once.
    Recovery(String),
}

/// Why a second-factor request is refused, beyond authentication.
#[derive(Debug)]
pub enum FactorError {
    Auth(Error),
    /// A field of the body is wrong (422 naming it).
    Invalid(&'static str, String),
    /// Not in the state the request needs (409).
    Conflict(String),
}

impl From<Error> for FactorError {
    fn from(error: Error) -> FactorError {
        FactorError::Auth(error)
    }
}

impl From<crate::db::Error> for FactorError {
    fn from(error: crate::db::Error) -> FactorError {
        FactorError::Auth(error.into())
    }
}

/// A user's second factor, as `GET /_2fa` tells it.
pub struct Status {
    pub enabled: bool,
    pub enrolling: bool,
    pub required: bool,
    pub recovery_codes_left: u64,
}

/// A started enrolment: what the authenticator app is given.
pub struct Enrolment {
    /// The secret in base32, for typing in.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub uri: String,
    /// The QR code's modules, rows of `0` and `1`, for the app to draw.
    pub qr: Vec<String>,
}

/// Wrong codes in a row that cost no wait (a mistyped code or two).
const FREE_FAILURES: i64 = 3;
/// The longest wait between two tries of a code.
const LONGEST_WAIT: i64 = 60 * 60;

/// The seconds to wait before the next code after `failures` wrong ones in a row: none for
/// the first few, then 1, 2, 4… up to an hour: a guesser gets a few dozen tries a day,
/// whatever the window of the login's rate limit.
fn wait_after(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    (1i64 << (failures - FREE_FAILURES).min(12)).min(LONGEST_WAIT)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Builtin {
    /// The key challenges are signed with: never the sessions', so that neither passes for
    /// the other.
    fn challenge_key(&self) -> Vec<u8> {
        let mut key = self.secret.clone();
        key.extend_from_slice(b"/autoadmin: second factor challenge");
        key
    }

    /// Whether `name` has a confirmed second factor.
    pub(super) async fn has_second_factor(&self, name: &str) -> Result<bool, Error> {
        let row = self.db.totp(name).await.map_err(Error::from)?;
        Ok(row.is_some_and(|row| row.confirmed_at.is_some()))
    }

    /// The challenge of a right password of `name`.
    pub(super) fn challenge(&self, name: &str) -> Login {
        let expires_at = chrono::Utc::now() + chrono::Duration::seconds(CHALLENGE_SECS);
        let claims = Claims {
            sub: name.to_owned(),
            generation: 0,
            exp: expires_at.timestamp(),
            sid: session_id(),
            mfa: false,
            sso: None,
        };
        Login {
            token: token::sign(&self.challenge_key(), &claims),
            expires_at,
        }
    }

    /// The second step of a login: the challenge of the password step and a proof give a
    /// session. Counted like passwords, per address and (failures) per user.
    pub async fn second_factor(
        &self,
        challenge: &str,
        proof: Proof,
        address: &str,
    ) -> Result<Login, Error> {
        let claims: Claims =
            token::verify(&self.challenge_key(), challenge, now()).ok_or_else(|| {
                Error::Unauthorized(
                    "the login has expired or is not valid: enter your password again".into(),
                )
            })?;
        let name = claims.sub;
        self.limiter.attempt(address, &name).await?;
        if !self.users.contains_key(&name) {
            return Err(Error::Unauthorized(
                "the token's user no longer exists".into(),
            ));
        }
        if !self.proved(&name, &proof).await? {
            self.limiter.failed(&name).await?;
            return Err(Error::Unauthorized(match proof {
                Proof::Code(_) => "the code is wrong or was used already".into(),
                Proof::Recovery(_) => "the recovery code is wrong or was used already".into(),
            }));
        }
        self.limiter.succeeded(&name).await?;
        self.session(&name, true).await
    }

    /// Whether `proof` is good for `name`'s confirmed second factor now (and uses it up).
    async fn proved(&self, name: &str, proof: &Proof) -> Result<bool, Error> {
        match proof {
            Proof::Recovery(code) => {
                let used = self
                    .db
                    .use_recovery_code(name, &totp::recovery_hash(code), now())
                    .await
                    .map_err(Error::from)?;
                if used {
                    self.db
                        .clear_code_failures(name)
                        .await
                        .map_err(Error::from)?;
                }
                Ok(used)
            }
            Proof::Code(code) => {
                let Some(row) = self.db.totp(name).await.map_err(Error::from)? else {
                    return Ok(false);
                };
                if row.confirmed_at.is_none() {
                    return Ok(false);
                }
                let secret = totp::open(&self.secret, name, &row.sealed).ok_or_else(|| {
                    Error::Unavailable(format!(
                        "the second factor of \"{name}\" cannot be read: the signing secret has changed since it was set up (use a recovery code, or ask an administrator to remove it)"
                    ))
                })?;
                let now = now();
                // After a few wrong codes in a row, one try per wait, which doubles.
                let wait = wait_after(row.failures);
                if wait > 0 {
                    if now < row.next_try_at {
                        return Err(Error::TooManyAttempts((row.next_try_at - now) as u64));
                    }
                    if !self
                        .db
                        .claim_code_try(name, now, now + wait)
                        .await
                        .map_err(Error::from)?
                    {
                        return Err(Error::TooManyAttempts(wait as u64));
                    }
                }
                match totp::matching_step(&secret, code, now, row.last_step) {
                    Some(step) => self
                        .db
                        .take_totp_step(name, step)
                        .await
                        .map_err(Error::from),
                    None => {
                        let until = now + wait_after(row.failures + 1);
                        self.db
                            .code_failed(name, until)
                            .await
                            .map_err(Error::from)?;
                        Ok(false)
                    }
                }
            }
        }
    }

    /// `proved`, for a signed-in user: failures count against the user as at the login (a
    /// stolen session may not guess codes to turn the second factor off).
    async fn proved_signed_in(&self, name: &str, proof: &Proof) -> Result<bool, Error> {
        self.limiter
            .attempt(&format!("session of {name}"), name)
            .await?;
        let proved = self.proved(name, proof).await?;
        if proved {
            self.limiter.succeeded(name).await?;
        } else {
            self.limiter.failed(name).await?;
        }
        Ok(proved)
    }

    /// The built-in user `who` is, signed in with a password here (not a key, not a proxy).
    fn own_user<'a>(&self, who: &'a Principal) -> Result<&'a str, Error> {
        if who.key.is_some() {
            return Err(Error::Forbidden(
                "an API key may not manage a second factor: sign in with your password".into(),
            ));
        }
        match &who.user {
            Some(name) if !who.signed_in_elsewhere && self.users.contains_key(name) => Ok(name),
            _ => Err(Error::Forbidden(
                "only a user of this admin's own login has a second factor here".into(),
            )),
        }
    }

    /// Where `who`'s second factor stands.
    pub async fn factor_status(&self, who: &Principal) -> Result<Status, FactorError> {
        let name = self.own_user(who)?;
        let row = self.db.totp(name).await?;
        let enabled = row.as_ref().is_some_and(|r| r.confirmed_at.is_some());
        Ok(Status {
            enabled,
            enrolling: row.is_some() && !enabled,
            required: self.users[name].require_2fa,
            recovery_codes_left: if enabled {
                self.db.recovery_codes_left(name).await?
            } else {
                0
            },
        })
    }

    /// Starts setting up `who`'s second factor (again, if it was started and not finished):
    /// a new secret, for the authenticator app that `issuer` will name it in.
    pub async fn start_factor(
        &self,
        who: &Principal,
        issuer: &str,
    ) -> Result<Enrolment, FactorError> {
        let name = self.own_user(who)?;
        let secret = totp::new_secret();
        let sealed = totp::seal(&self.secret, name, &secret);
        if !self.db.start_totp(name, &sealed, now()).await? {
            return Err(FactorError::Conflict(
                "two-factor login is on already: turn it off before setting it up again".into(),
            ));
        }
        let uri = totp::otpauth_uri(issuer, name, &secret);
        Ok(Enrolment {
            secret: totp::base32(&secret),
            qr: totp::qr_modules(&uri).unwrap_or_default(),
            uri,
        })
    }

    /// Finishes setting up `who`'s second factor with its first code: every other session
    /// of the user ends, and a new one (with the second factor) and the recovery codes are
    /// the answer.
    pub async fn confirm_factor(
        &self,
        who: &Principal,
        code: &str,
    ) -> Result<(Login, Vec<String>), FactorError> {
        let name = self.own_user(who)?;
        let row = self.db.totp(name).await?;
        let Some(row) = row.filter(|row| row.confirmed_at.is_none()) else {
            return Err(FactorError::Conflict(
                "there is no set-up to confirm: start one (POST /_2fa)".into(),
            ));
        };
        let secret = totp::open(&self.secret, name, &row.sealed).ok_or_else(|| {
            FactorError::Conflict(
                "the set-up was started with another signing secret: start again".into(),
            )
        })?;
        let Some(step) = totp::matching_step(&secret, code, now(), 0) else {
            return Err(FactorError::Invalid(
                "code",
                "is not the authenticator's current code (check the device's clock)".into(),
            ));
        };
        let codes = totp::new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
        if !self.db.confirm_totp(name, step, now(), &hashes).await? {
            return Err(FactorError::Conflict(
                "the set-up was confirmed or restarted meanwhile".into(),
            ));
        }
        // Sessions opened with the password alone end: from now on it takes both.
        self.sessions.end_all(name).await?;
        let login = self.session(name, true).await?;
        Ok((login, codes))
    }

    /// New recovery codes for `who` (the old ones stop working), for a current code.
    pub async fn renew_recovery_codes(
        &self,
        who: &Principal,
        code: &str,
    ) -> Result<Vec<String>, FactorError> {
        let name = self.own_user(who)?;
        if !self.has_second_factor(name).await? {
            return Err(FactorError::Conflict("two-factor login is not on".into()));
        }
        if !self
            .proved_signed_in(name, &Proof::Code(code.to_owned()))
            .await?
        {
            return Err(FactorError::Invalid(
                "code",
                "is wrong or was used already".into(),
            ));
        }
        let codes = totp::new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
        self.db.replace_recovery_codes(name, &hashes).await?;
        Ok(codes)
    }

    /// Turns `who`'s own second factor off, for a current code or a recovery code (not
    /// where their role requires one).
    pub async fn turn_factor_off(&self, who: &Principal, proof: Proof) -> Result<(), FactorError> {
        let name = self.own_user(who)?;
        if self.users[name].require_2fa {
            return Err(FactorError::Auth(Error::Forbidden(
                "your role requires two-factor login: it cannot be turned off".into(),
            )));
        }
        if !self.has_second_factor(name).await? {
            // A set-up that was not finished is simply forgotten.
            if self.db.remove_totp(name).await? {
                return Ok(());
            }
            return Err(FactorError::Conflict("two-factor login is not on".into()));
        }
        if !self.proved_signed_in(name, &proof).await? {
            let field = match proof {
                Proof::Code(_) => "code",
                Proof::Recovery(_) => "recovery_code",
            };
            return Err(FactorError::Invalid(
                field,
                "is wrong or was used already".into(),
            ));
        }
        self.db.remove_totp(name).await?;
        Ok(())
    }

    /// Removes `user`'s second factor and ends their sessions: the `admin` role's help for
    /// a user who lost their device (who sets one up again at their next login, if their
    /// role requires it).
    pub async fn remove_factor(&self, who: &Principal, user: &str) -> Result<(), FactorError> {
        let name = self.own_user(who)?;
        if self.users[name].role != "admin" {
            return Err(FactorError::Auth(Error::Forbidden(
                "only a user of the admin role may remove another user's second factor".into(),
            )));
        }
        if user == name {
            return Err(FactorError::Conflict(
                "your own second factor is turned off with a code, not removed".into(),
            ));
        }
        if !self.users.contains_key(user) {
            return Err(FactorError::Auth(Error::NotFound(format!(
                "no user \"{user}\""
            ))));
        }
        if !self.db.remove_totp(user).await? {
            return Err(FactorError::Auth(Error::NotFound(format!(
                "\"{user}\" has no second factor"
            ))));
        }
        self.sessions.end_all(user).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::wait_after;

    #[test]
    fn the_wait_doubles_after_a_few_wrong_codes_up_to_an_hour() {
        let waits: Vec<i64> = (0..8).map(wait_after).collect();
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8, 16]);
        assert_eq!(wait_after(15), 3600);
        assert_eq!(wait_after(i64::MAX), 3600);
        // Tries in the first day: the free ones, the doubling waits, then one an hour.
        let (mut at, mut tries, mut failures) = (0, 0, 0);
        while at < 86_400 {
            at += wait_after(failures);
            tries += 1;
            failures += 1;
        }
        assert!(tries < 40, "{tries}");
    }
}
