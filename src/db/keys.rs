//! autoadmin's table of API keys (`autoadmin_api_keys`, beside the sessions'): a user's named
//! keys, each with its expiry and permissions; the secret is stored as its SHA-256 alone.
//! Every instance reads the same table, so a revocation counts everywhere at once.

use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};

use super::sql::Sql;
use super::{Db, Error};
use crate::schema::{FieldType, Value};

/// The SHA-256 of `text` in hex: how autoadmin's tables keep what they must not keep in
/// clear (API key secrets, idempotency keys and bodies), in one length.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A key as its row says (never its secret).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRow {
    pub id: String,
    pub user: String,
    pub name: String,
    /// The SHA-256 of the secret, in hex.
    pub secret_sha256: String,
    /// The key's permissions (JSON: entity → actions).
    pub permissions: String,
    /// Seconds since 1970.
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, user_name, name, secret_sha256, permissions, created_at, expires_at, \
                       last_used_at, revoked_at";

/// Keys a user may hold at once (revoked and expired ones do not count).
pub const MAX_KEYS_PER_USER: usize = 50;

impl Db {
    /// Records a new key.
    pub async fn create_key(&self, key: &KeyRow) -> Result<(), Error> {
        let dialect = self.dialect();
        let mut text = format!("INSERT INTO autoadmin_api_keys ({COLUMNS}) VALUES (");
        for n in 1..=9 {
            if n > 1 {
                text.push_str(", ");
            }
            dialect.placeholder(n, &mut text);
        }
        text.push(')');
        let optional = |v: Option<i64>| v.map_or(Value::Null(crate::schema::Kind::Int), Value::Int);
        let sql = Sql::new(
            text,
            vec![
                Value::Text(key.id.clone()),
                Value::Text(key.user.clone()),
                Value::Text(key.name.clone()),
                Value::Text(key.secret_sha256.clone()),
                Value::Text(key.permissions.clone()),
                Value::Int(key.created_at),
                Value::Int(key.expires_at),
                optional(key.last_used_at),
                optional(key.revoked_at),
            ],
        );
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        // Its id is random and new: written again after a dead connection, it is the same key.
        read!(self, unavailable, |conn| async {
            conn.execute(&sql).await.map(drop)
        })
    }

    /// The key `id`, whoever holds it.
    pub async fn key(&self, id: &str) -> Result<Option<KeyRow>, Error> {
        let mut text = format!("SELECT {COLUMNS} FROM autoadmin_api_keys WHERE id = ");
        self.dialect().placeholder(1, &mut text);
        let sql = Sql::new(text, vec![Value::Text(id.to_owned())]);
        Ok(self.key_rows(&sql).await?.pop())
    }

    /// The keys of `user`, newest first.
    pub async fn keys_of(&self, user: &str) -> Result<Vec<KeyRow>, Error> {
        let mut text = format!("SELECT {COLUMNS} FROM autoadmin_api_keys WHERE user_name = ");
        self.dialect().placeholder(1, &mut text);
        text.push_str(" ORDER BY created_at DESC, id DESC");
        let sql = Sql::new(text, vec![Value::Text(user.to_owned())]);
        self.key_rows(&sql).await
    }

    async fn key_rows(&self, sql: &Sql) -> Result<Vec<KeyRow>, Error> {
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| async {
            let mut rows = conn.fetch(sql);
            let mut keys = Vec::new();
            while let Some(row) = rows.try_next().await? {
                keys.push(key_row(&row)?);
            }
            Ok(keys)
        })
    }

    /// Revokes the key `id` of `user` at `now`: whether there was such a key, not revoked.
    pub async fn revoke_key(&self, user: &str, id: &str, now: i64) -> Result<bool, Error> {
        let dialect = self.dialect();
        let mut text = "UPDATE autoadmin_api_keys SET revoked_at = ".to_owned();
        dialect.placeholder(1, &mut text);
        text.push_str(" WHERE id = ");
        dialect.placeholder(2, &mut text);
        text.push_str(" AND user_name = ");
        dialect.placeholder(3, &mut text);
        text.push_str(" AND revoked_at IS NULL");
        let binds = vec![
            Value::Int(now),
            Value::Text(id.to_owned()),
            Value::Text(user.to_owned()),
        ];
        let sql = Sql::new(text, binds);
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        let done = read!(self, unavailable, |conn| conn.execute(&sql))?;
        Ok(done.rows_affected > 0)
    }

    /// Notes that the key `id` was used at `now`.
    pub async fn touch_key(&self, id: &str, now: i64) -> Result<(), Error> {
        let dialect = self.dialect();
        let mut text = "UPDATE autoadmin_api_keys SET last_used_at = ".to_owned();
        dialect.placeholder(1, &mut text);
        text.push_str(" WHERE id = ");
        dialect.placeholder(2, &mut text);
        let sql = Sql::new(text, vec![Value::Int(now), Value::Text(id.to_owned())]);
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| async {
            conn.execute(&sql).await.map(drop)
        })
    }
}

fn key_row(row: &super::driver::Row) -> Result<KeyRow, sqlx::Error> {
    let text = |i| -> Result<String, sqlx::Error> {
        Ok(row
            .decode(i, FieldType::Text)?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    };
    let number =
        |i| -> Result<Option<i64>, sqlx::Error> { Ok(row.decode(i, FieldType::Integer)?.as_i64()) };
    Ok(KeyRow {
        id: text(0)?,
        user: text(1)?,
        name: text(2)?,
        secret_sha256: text(3)?,
        permissions: text(4)?,
        created_at: number(5)?.unwrap_or(0),
        expires_at: number(6)?.unwrap_or(0),
        last_used_at: number(7)?,
        revoked_at: number(8)?,
    })
}
