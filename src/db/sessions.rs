//! autoadmin's own table: each user's session generation. Tokens carry the generation they
//! were made at; logout raises it, so every token of the user stops working on every instance.

use super::sql::Sql;
use super::{Db, Error};
use crate::schema::Value;

impl Db {
    /// Creates the table if it is not there.
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
}
