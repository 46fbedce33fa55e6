//! PostgreSQL behind a transaction pooler (PgBouncer's `pool_mode = transaction`): a server
//! connection is this client's only inside a transaction; between two, the next statement
//! may run on another server connection, whose session another client shaped. So here:
//! - statements are unnamed and never cached: a named one would stay on a server connection
//!   this client may never see again (and collide with another client's of the same name);
//! - every piece of work, reads included, runs inside BEGIN … COMMIT: sqlx prepares the
//!   unnamed statement and binds it in two round trips, and only a transaction keeps both on
//!   the same server connection;
//! - the statement timeout, which a direct connection sets at startup (`options`, which a
//!   pooler refuses), is set per transaction with SET LOCAL.
//!
//! `[admin] transaction_pooler = true` says so; unsaid, it is detected: PgBouncer refuses the
//! startup parameters it cannot keep track of ("unsupported startup parameter"), and the
//! connection is then made again in this mode.

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::Db;
use super::driver::{Conn, Pooled};

/// How statements reach a PostgreSQL server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Statements {
    /// Prepared once per connection under a name, and kept: a direct connection.
    Named,
    /// Through a transaction pooler: unnamed, each piece of work in a transaction.
    Unnamed,
}

/// What a transaction behind a pooler starts with: BEGIN and the session's settings.
pub(super) fn begin_script(statement_timeout: Duration) -> String {
    format!(
        "BEGIN; SET LOCAL statement_timeout = {}; SET LOCAL autoadmin.writer = 'on'",
        statement_timeout.as_millis()
    )
}

/// Whether a connection failed because the server is a pooler refusing startup options.
pub(super) fn refused_startup_options(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db_error) => db_error
            .message()
            .starts_with("unsupported startup parameter"),
        _ => false,
    }
}

impl Db {
    /// Behind a pooler, opens the transaction a read runs in (elsewhere nothing).
    pub(super) async fn open_read(&self, conn: &mut Conn<'_>) -> Result<(), sqlx::Error> {
        match &self.pooler_begin {
            Some(begin) => conn.execute_raw(begin).await,
            None => Ok(()),
        }
    }

    /// Behind a pooler, ends the transaction `open_read` opened, after the read's `result`.
    pub(super) async fn close_read<T>(
        &self,
        conn: &mut Conn<'_>,
        result: Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        if self.pooler_begin.is_none() {
            return result;
        }
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = conn.execute_raw(end).await;
        let value = result?;
        ended.map(|()| value)
    }

    /// Runs `read` on `pooled` in the transaction a pooler needs (elsewhere as it is), for
    /// reads that take the pooled connection itself (the catalog's).
    pub(super) async fn read_on<T>(
        &self,
        pooled: &mut Pooled,
        read: impl for<'p> FnOnce(&'p mut Pooled) -> BoxFuture<'p, Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let result = match self.open_read(&mut pooled.conn()).await {
            Ok(()) => {
                let result = read(pooled).await;
                self.close_read(&mut pooled.conn(), result).await
            }
            Err(error) => Err(error),
        };
        pooled.finished(&result);
        result
    }

    /// How a write's transaction starts.
    pub(super) fn begin_statement(&self) -> &str {
        self.pooler_begin
            .as_deref()
            .unwrap_or(self.dialect().begin())
    }
}

/// Teaches a new connection the database's own types (enums, domains, extensions' types)
/// before any work. sqlx looks up a type it does not know with a simple query between
/// preparing a statement and binding it, and a simple query ends the unnamed statement: the
/// first statement to meet each such type would fail ("unnamed prepared statement does not
/// exist"). Here a statement of every such type is prepared, named, in a transaction, and
/// the name is given up before the transaction ends.
pub(super) async fn learn_types(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    conn.execute("BEGIN").await?;
    let learnt = async {
        let types: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT format_type(a.atttypid, NULL) FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid \
             WHERE a.attnum > 0 AND NOT a.attisdropped \
             AND t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) \
             AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)",
        )
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
        if !types.is_empty() {
            let columns: Vec<String> = types.iter().map(|(t,)| format!("NULL::{t}")).collect();
            let statement = format!("SELECT {}", columns.join(", "));
            conn.prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(statement)))
                .await?;
        }
        Ok::<_, sqlx::Error>(())
    }
    .await;
    match learnt {
        Ok(()) => conn.execute("DEALLOCATE ALL; COMMIT").await.map(drop),
        Err(error) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_transaction_sets_the_statement_timeout_itself() {
        assert_eq!(
            begin_script(Duration::from_millis(1500)),
            "BEGIN; SET LOCAL statement_timeout = 1500; SET LOCAL autoadmin.writer = 'on'"
        );
    }

    #[test]
    fn only_a_refused_startup_parameter_means_a_pooler() {
        assert!(!refused_startup_options(&sqlx::Error::PoolTimedOut));
        assert!(!refused_startup_options(&sqlx::Error::Protocol(
            "unsupported startup parameter: options".into()
        )));
    }
}
