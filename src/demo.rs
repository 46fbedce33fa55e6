//! The demo: a seeded SQLite database of the blog schema and the descriptors that go with it,
//! both embedded in the binary so that `autoadmin demo` works from anywhere.

use std::path::Path;

use crate::db::{Db, Settings};

/// The blog descriptors (config/blog.toml).
pub const CONFIG: &str = include_str!("../config/blog.toml");

/// The blog schema per backend (migrations/*/0001_blog.sql).
pub const SCHEMA_SQLITE: &str = include_str!("../migrations/sqlite/0001_blog.sql");
pub const SCHEMA_POSTGRES: &str = include_str!("../migrations/postgres/0001_blog.sql");
pub const SCHEMA_MYSQL: &str = include_str!("../migrations/mysql/0001_blog.sql");

const SEED_SQLITE: &str = include_str!("../migrations/sqlite/seed_demo.sql");

/// Creates a fresh SQLite database at `path` with the blog schema and demo rows, and returns
/// its URL. An existing file is replaced.
pub async fn create_database(path: &Path) -> Result<String, crate::db::Error> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(crate::db::Error::Unavailable(format!(
                    "cannot replace {}: {err}",
                    path.display()
                )));
            }
        }
    }
    let url = format!("sqlite://{}", path.display());
    let settings = Settings {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(30),
        max_cascade_rows: 10_000,
        transaction_pooler: None,
    };
    let db = Db::connect(&url, &settings, true).await?;
    db.execute_script(SCHEMA_SQLITE).await?;
    db.execute_script(SEED_SQLITE).await?;
    db.close().await;
    Ok(url)
}
