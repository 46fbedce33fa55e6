//! autoadmin's tables of second factors (beside the sessions'): a user's TOTP secret, sealed
//! (`crate::auth::totp`), with the step of the last code accepted, so that no code is good
//! twice, on any instance; and their recovery codes, as SHA-256 hashes, each usable once.
//! The checks that matter are single conditional statements, so that two instances taking
//! the same code at once cannot both succeed.

use futures_util::TryStreamExt;

use super::sql::Sql;
use super::{Db, Error};
use crate::schema::{FieldType, Kind, Value};

/// A user's second factor as its row says.
#[derive(Clone, Debug, PartialEq)]
pub struct TotpRow {
    /// The secret, sealed.
    pub sealed: String,
    /// When enrolment was confirmed with a code (seconds since 1970); `None` while enrolling.
    pub confirmed_at: Option<i64>,
    /// The time step of the last code accepted.
    pub last_step: i64,
    /// Wrong codes since the last right one.
    pub failures: i64,
    /// No code is tried before this time (once there were a few wrong ones).
    pub next_try_at: i64,
}

fn unavailable(err: sqlx::Error) -> Error {
    Error::Unavailable(err.to_string())
}

impl Db {
    /// The second factor of `user`, if one is set up or being set up.
    pub async fn totp(&self, user: &str) -> Result<Option<TotpRow>, Error> {
        let sql = self.numbered(
            "SELECT secret, confirmed_at, last_step, failures, next_try_at FROM autoadmin_totp \
             WHERE user_name = ?",
            vec![Value::Text(user.to_owned())],
        );
        read!(self, unavailable, |conn| async {
            let mut rows = conn.fetch(&sql);
            let Some(row) = rows.try_next().await? else {
                return Ok(None);
            };
            Ok(Some(TotpRow {
                sealed: row
                    .decode(0, FieldType::Text)?
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                confirmed_at: row.decode(1, FieldType::Integer)?.as_i64(),
                last_step: row.decode(2, FieldType::Integer)?.as_i64().unwrap_or(0),
                failures: row.decode(3, FieldType::Integer)?.as_i64().unwrap_or(0),
                next_try_at: row.decode(4, FieldType::Integer)?.as_i64().unwrap_or(0),
            }))
        })
    }

    /// Starts enrolment with `sealed`: replaces an unconfirmed one; `false` when a confirmed
    /// one is there (it must be turned off first).
    pub async fn start_totp(&self, user: &str, sealed: &str, now: i64) -> Result<bool, Error> {
        let user = Value::Text(user.to_owned());
        let forget = self.numbered(
            "DELETE FROM autoadmin_totp WHERE user_name = ? AND confirmed_at IS NULL",
            vec![user.clone()],
        );
        let insert = self.numbered(
            "INSERT INTO autoadmin_totp (user_name, secret, confirmed_at, last_step, created_at) \
             VALUES (?, ?, ?, 0, ?)",
            vec![
                user,
                Value::Text(sealed.to_owned()),
                Value::Null(Kind::Int),
                Value::Int(now),
            ],
        );
        read!(self, unavailable, |conn| async {
            conn.execute(&forget).await?;
            match conn.execute(&insert).await {
                Ok(_) => Ok(true),
                // The key is taken: a confirmed second factor (or another tab's enrolment,
                // which is as good a reason to stop).
                Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
                Err(error) => Err(error),
            }
        })
    }

    /// Confirms enrolment at `step` and replaces the recovery codes by `codes` (hashes), in
    /// one transaction; `false` if there was no enrolment to confirm.
    pub async fn confirm_totp(
        &self,
        user: &str,
        step: i64,
        now: i64,
        codes: &[String],
    ) -> Result<bool, Error> {
        let confirm = self.numbered(
            "UPDATE autoadmin_totp SET confirmed_at = ?, last_step = ? \
             WHERE user_name = ? AND confirmed_at IS NULL",
            vec![
                Value::Int(now),
                Value::Int(step),
                Value::Text(user.to_owned()),
            ],
        );
        let replace = self.replace_codes(user, codes);
        self.write_own(move |tx| {
            Box::pin(async move {
                if tx.execute(&confirm).await?.rows_affected != 1 {
                    return Ok(false);
                }
                for statement in &replace {
                    tx.execute(statement).await?;
                }
                Ok(true)
            })
        })
        .await
    }

    /// Replaces the recovery codes of `user` (a confirmed second factor's) by `codes`.
    pub async fn replace_recovery_codes(&self, user: &str, codes: &[String]) -> Result<(), Error> {
        let replace = self.replace_codes(user, codes);
        self.write_own(move |tx| {
            Box::pin(async move {
                for statement in &replace {
                    tx.execute(statement).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The statements that replace the recovery codes of `user` by `codes`.
    fn replace_codes(&self, user: &str, codes: &[String]) -> Vec<Sql> {
        let user = Value::Text(user.to_owned());
        let forget = self.numbered(
            "DELETE FROM autoadmin_recovery_codes WHERE user_name = ?",
            vec![user.clone()],
        );
        if codes.is_empty() {
            return vec![forget];
        }
        let rows = vec!["(?, ?)"; codes.len()].join(", ");
        let binds = codes
            .iter()
            .flat_map(|hash| [user.clone(), Value::Text(hash.clone())])
            .collect();
        let insert = self.numbered(
            &format!("INSERT INTO autoadmin_recovery_codes (user_name, code_sha256) VALUES {rows}"),
            binds,
        );
        vec![forget, insert]
    }

    /// Takes the code of step `step` for `user`: `true` if no code of this or a later step
    /// was taken before (one statement: two instances cannot both take it). The count of
    /// wrong codes starts again.
    pub async fn take_totp_step(&self, user: &str, step: i64) -> Result<bool, Error> {
        let sql = self.numbered(
            "UPDATE autoadmin_totp SET last_step = ?, failures = 0, next_try_at = 0 \
             WHERE user_name = ? AND confirmed_at IS NOT NULL AND last_step < ?",
            vec![
                Value::Int(step),
                Value::Text(user.to_owned()),
                Value::Int(step),
            ],
        );
        let done = read!(self, unavailable, |conn| conn.execute(&sql))?;
        Ok(done.rows_affected == 1)
    }

    /// Claims the next try of a code of `user` at `now`, the one after it not before
    /// `until` (later than `now`): `false` when a try is not due yet (one statement: of
    /// requests at once, one gets the try).
    pub async fn claim_code_try(&self, user: &str, now: i64, until: i64) -> Result<bool, Error> {
        let sql = self.numbered(
            "UPDATE autoadmin_totp SET next_try_at = ? WHERE user_name = ? AND next_try_at <= ?",
            vec![
                Value::Int(until),
                Value::Text(user.to_owned()),
                Value::Int(now),
            ],
        );
        let done = read!(self, unavailable, |conn| conn.execute(&sql))?;
        Ok(done.rows_affected == 1)
    }

    /// Counts a wrong code of `user`; the next is not tried before `until`.
    pub async fn code_failed(&self, user: &str, until: i64) -> Result<(), Error> {
        let sql = self.numbered(
            "UPDATE autoadmin_totp SET failures = failures + 1, next_try_at = ? WHERE user_name = ?",
            vec![Value::Int(until), Value::Text(user.to_owned())],
        );
        read!(self, unavailable, |conn| conn.execute(&sql)).map(drop)
    }

    /// Forgets the wrong codes of `user` (a recovery code got them in).
    pub async fn clear_code_failures(&self, user: &str) -> Result<(), Error> {
        let sql = self.numbered(
            "UPDATE autoadmin_totp SET failures = 0, next_try_at = 0 WHERE user_name = ?",
            vec![Value::Text(user.to_owned())],
        );
        read!(self, unavailable, |conn| conn.execute(&sql)).map(drop)
    }

    /// Uses the recovery code of hash `hash` of `user` at `now`: `true` if it was unused.
    pub async fn use_recovery_code(&self, user: &str, hash: &str, now: i64) -> Result<bool, Error> {
        let sql = self.numbered(
            "UPDATE autoadmin_recovery_codes SET used_at = ? \
             WHERE user_name = ? AND code_sha256 = ? AND used_at IS NULL",
            vec![
                Value::Int(now),
                Value::Text(user.to_owned()),
                Value::Text(hash.to_owned()),
            ],
        );
        let done = read!(self, unavailable, |conn| conn.execute(&sql))?;
        Ok(done.rows_affected == 1)
    }

    /// How many recovery codes of `user` are unused.
    pub async fn recovery_codes_left(&self, user: &str) -> Result<u64, Error> {
        let sql = self.numbered(
            "SELECT COUNT(*) FROM autoadmin_recovery_codes WHERE user_name = ? AND used_at IS NULL",
            vec![Value::Text(user.to_owned())],
        );
        read!(self, unavailable, |conn| conn.fetch_count(&sql))
    }

    /// Removes the second factor of `user` and their recovery codes: whether there was one.
    pub async fn remove_totp(&self, user: &str) -> Result<bool, Error> {
        let user = Value::Text(user.to_owned());
        let totp = self.numbered(
            "DELETE FROM autoadmin_totp WHERE user_name = ?",
            vec![user.clone()],
        );
        let codes = self.numbered(
            "DELETE FROM autoadmin_recovery_codes WHERE user_name = ?",
            vec![user],
        );
        self.write_own(move |tx| {
            Box::pin(async move {
                let removed = tx.execute(&totp).await?.rows_affected > 0;
                tx.execute(&codes).await?;
                Ok(removed)
            })
        })
        .await
    }
}
