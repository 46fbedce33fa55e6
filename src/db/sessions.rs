//! autoadmin's own table: each user's session generation. Tokens carry the generation they
//! were made at; logout raises it, so every token of the user stops working on every instance.

use super::{Db, Dialect, Error, Pool};

const CREATE: &str = "CREATE TABLE IF NOT EXISTS autoadmin_sessions (user_name VARCHAR(200) NOT NULL PRIMARY KEY, generation BIGINT NOT NULL)";

impl Db {
    /// Creates the table if it is not there (same SQL on the three backends).
    pub async fn ensure_sessions_table(&self) -> Result<(), Error> {
        self.execute_script(CREATE).await
    }

    pub async fn session_generation(&self, user: &str) -> Result<i64, Error> {
        let sql = "SELECT generation FROM autoadmin_sessions WHERE user_name = ";
        let found: Option<i64> = match &self.pool {
            Pool::Postgres(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}$1")))
                    .bind(user)
                    .fetch_optional(pool)
                    .await
            }
            Pool::MySql(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}?")))
                    .bind(user)
                    .fetch_optional(pool)
                    .await
            }
            Pool::Sqlite(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}?")))
                    .bind(user)
                    .fetch_optional(pool)
                    .await
            }
        }
        .map_err(|err| Error::Unavailable(err.to_string()))?;
        Ok(found.unwrap_or(0))
    }

    pub async fn bump_session_generation(&self, user: &str) -> Result<(), Error> {
        let upsert = match self.dialect() {
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
        let done = match &self.pool {
            Pool::Postgres(pool) => sqlx::query(upsert).bind(user).execute(pool).await.map(drop),
            Pool::MySql(pool) => sqlx::query(upsert).bind(user).execute(pool).await.map(drop),
            Pool::Sqlite(pool) => sqlx::query(upsert).bind(user).execute(pool).await.map(drop),
        };
        done.map_err(|err| Error::Unavailable(err.to_string()))
    }
}
