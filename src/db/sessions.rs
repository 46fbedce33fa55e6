//! autoadmin's own table: each user's session generation. Tokens carry the generation they
//! were made at; logout raises it, so every token of the user stops working on every instance.

use futures_util::TryStreamExt;

use super::sql::Sql;
use super::{Db, Dialect, Error};
use crate::schema::Value;

const CREATE: &str = "CREATE TABLE IF NOT EXISTS autoadmin_sessions (user_name VARCHAR(200) NOT NULL PRIMARY KEY, generation BIGINT NOT NULL)";

impl Db {
    /// Creates the table if it is not there (same SQL on the three backends).
    pub async fn ensure_sessions_table(&self) -> Result<(), Error> {
        self.execute_script(CREATE).await
    }

    pub async fn session_generation(&self, user: &str) -> Result<i64, Error> {
        let mut text = "SELECT generation FROM autoadmin_sessions WHERE user_name = ".to_owned();
        self.dialect().placeholder(1, &mut text);
        let sql = Sql {
            text,
            binds: vec![Value::Text(user.to_owned())],
        };
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        let generation = read!(self, unavailable, |conn| async {
            let mut rows = conn.fetch(&sql);
            let generation = match rows.try_next().await? {
                Some(row) => row.count()?,
                None => 0,
            };
            while rows.try_next().await?.is_some() {}
            Ok(generation)
        })?;
        Ok(i64::try_from(generation).unwrap_or(i64::MAX))
    }

    pub async fn bump_session_generation(&self, user: &str) -> Result<(), Error> {
        let text = match self.dialect() {
            Dialect::MySql => {
                "INSERT INTO autoadmin_sessions (user_name, generation) VALUES (?, 1) ON DUPLICATE KEY UPDATE generation = generation + 1"
            }
            Dialect::Postgres => {
                "INSERT INTO autoadmin_sessions (user_name, generation) VALUES ($1, 1) ON CONFLICT (user_name) DO UPDATE SET generation = autoadmin_sessions.generation + 1"
            }
            Dialect::Sqlite => {
                "INSERT INTO autoadmin_sessions (user_name, generation) VALUES (?, 1) ON CONFLICT (user_name) DO UPDATE SET generation = generation + 1"
            }
        };
        let sql = Sql {
            text: text.to_owned(),
            binds: vec![Value::Text(user.to_owned())],
        };
        // Not a read, but idempotent enough: a bump that reached a dead connection never ran.
        read!(
            self,
            |err| Error::Unavailable(err.to_string()),
            |conn| async { conn.execute(&sql).await.map(drop) }
        )
    }
}
