//! autoadmin's own tables of sessions: each user's session generation (tokens carry the
//! generation they were made at; "log out everywhere" raises it, so every token of the user
//! stops working on every instance), and the sessions a logout ended (until their tokens
//! would have expired anyway).

use super::sql::Sql;
use super::{Db, Error};
use crate::schema::Value;

impl Db {
    /// Creates the tables if they are not there.
    pub async fn ensure_sessions_table(&self) -> Result<(), Error> {
        self.execute_script(self.dialect().sessions_table()).await
    }

    pub async fn session_generation(&self, user: &str) -> Result<i64, Error> {
        let mut text = "SELECT generation FROM autoadmin_sessions WHERE user_name = ".to_owned();
        self.dialect().placeholder(1, &mut text);
        let sql = Sql::new(text, vec![Value::Text(user.to_owned())]);
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        let generation = read!(self, unavailable, |conn| conn.fetch_number(&sql))?;
        Ok(i64::try_from(generation.unwrap_or(0)).unwrap_or(i64::MAX))
    }

    pub async fn bump_session_generation(&self, user: &str) -> Result<(), Error> {
        let sql = Sql::new(
            self.dialect().bump_session(),
            vec![Value::Text(user.to_owned())],
        );
        // Not a read, but idempotent enough: a bump that reached a dead connection never ran.
        read!(
            self,
            |err| Error::Unavailable(err.to_string()),
            |conn| async { conn.execute(&sql).await.map(drop) }
        )
    }

    /// Ends the session `session` of `user`, whose token expires at `expires_at` (seconds
    /// since 1970); forgets the sessions whose tokens have expired by `now`.
    pub async fn revoke_session(
        &self,
        user: &str,
        session: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), Error> {
        let dialect = self.dialect();
        let mut forget = "DELETE FROM autoadmin_revoked_sessions WHERE expires_at < ".to_owned();
        dialect.placeholder(1, &mut forget);
        let forget = Sql::new(forget, vec![Value::Int(now)]);
        let mut insert =
            "INSERT INTO autoadmin_revoked_sessions (session_id, user_name, expires_at) VALUES ("
                .to_owned();
        for n in 1..=3 {
            if n > 1 {
                insert.push_str(", ");
            }
            dialect.placeholder(n, &mut insert);
        }
        insert.push(')');
        let insert = Sql::new(
            insert,
            vec![
                Value::Text(session.to_owned()),
                Value::Text(user.to_owned()),
                Value::Int(expires_at),
            ],
        );
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| async {
            conn.execute(&forget).await?;
            match conn.execute(&insert).await {
                // Ended twice (two logouts of one session): ended.
                Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(()),
                other => other.map(drop),
            }
        })
    }

    /// The sessions of `user` a logout ended, whose tokens have not expired by `now`.
    pub async fn revoked_sessions(&self, user: &str, now: i64) -> Result<Vec<String>, Error> {
        let dialect = self.dialect();
        let mut text =
            "SELECT session_id FROM autoadmin_revoked_sessions WHERE user_name = ".to_owned();
        dialect.placeholder(1, &mut text);
        text.push_str(" AND expires_at >= ");
        dialect.placeholder(2, &mut text);
        let sql = Sql::new(text, vec![Value::Text(user.to_owned()), Value::Int(now)]);
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| conn.fetch_texts(&sql))
    }
}
