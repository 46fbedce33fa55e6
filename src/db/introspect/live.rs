//! Reading a live database's catalog, on a pooled connection (in the transaction a pooler
//! needs), through the backend's reader.

use super::{Options, Table};
use crate::db::{Db, Error};

impl Db {
    /// Reads the catalog of `schema` (PostgreSQL's, `public` by default): every table and view
    /// but autoadmin's own, sorted by name, with their columns and keys.
    pub async fn introspect_all(&self, schema: Option<&str>) -> Result<Vec<Table>, Error> {
        let unavailable =
            |err: sqlx::Error| Error::Unavailable(format!("reading the catalog: {err}"));
        let mut pooled = self.pool.acquire().await?;
        let schema = schema.unwrap_or("public").to_owned();
        let mut tables = self
            .read_on(&mut pooled, |p| {
                Box::pin(async move { p.introspect(&schema).await })
            })
            .await
            .map_err(unavailable)?;
        // autoadmin's own tables (sessions, audit log) are not the user's data.
        tables.retain(|t| !t.name.starts_with("autoadmin_"));
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tables)
    }

    /// Reads the catalog: the tables and views `options` select.
    pub async fn introspect(&self, options: &Options) -> Result<Vec<Table>, Error> {
        let tables = self.introspect_all(options.schema.as_deref()).await?;
        Ok(options.select(&tables))
    }
}
