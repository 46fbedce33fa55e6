//! Reads: a list page and its total, a count, one record, the health check. A read runs on
//! any pooled connection and, when that connection turns out dead, once more on another
//! (`read!`).

use super::error::Operation;
use super::sql::{self, Sql};
use super::{Db, EntityRef, Error, Record, inline, sets};
use serde_json::Value as Json;

use crate::query::{Aggregate, ListQuery, Metric};
use crate::schema::{CountMode, Entity, Field, FieldType, Value};

/// Runs a read on a pooled connection: `read!(db, fail, |conn| future)`. A connection
/// found dead (the server restarted or ended it) is closed and the read runs again on
/// another: at most once per pooled connection, so this ends, and a read changes nothing,
/// so it may run twice. (A macro: an async closure here makes the futures that call it
/// lose `Send` to a compiler limitation.)
macro_rules! read {
    ($db:expr, $fail:expr, |$conn:ident| $work:expr) => {{
        let db: &$crate::db::Db = $db;
        let mut retries = 0;
        loop {
            let mut pooled = db.pool.acquire().await?;
            let result = {
                let $conn = &mut pooled.conn();
                match db.open_read($conn).await {
                    Ok(()) => {
                        let result = $work.await;
                        db.close_read($conn, result).await
                    }
                    Err(error) => Err(error),
                }
            };
            pooled.finished(&result);
            match result {
                Err(error)
                    if $crate::db::pool::is_dead(Some(&error))
                        && retries < db.pool.max_connections() =>
                {
                    retries += 1;
                }
                result => break result.map_err($fail),
            }
        }
    }};
}

/// A page of records, already written as the JSON array the API sends (each row straight
/// from the driver's buffer into this one: no map per record), and the total number of
/// matching rows.
#[derive(Debug)]
pub struct Page {
    pub json: Vec<u8>,
    pub rows: usize,
    /// The last record, whose sort values make the next page's cursor...
    pub last: Option<Record>,
    /// ...with the values its references show, for the sort keys by them (in order).
    pub shown: Vec<serde_json::Value>,
    pub total: Total,
}

/// A list's total, as exact as its count mode allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    Exact(u64),
    Estimated(u64),
    Unknown,
}

impl Db {
    /// How a read of `entity` failed, in client terms.
    fn read_error<'a>(&self, entity: &'a Entity) -> impl Fn(sqlx::Error) -> Error + 'a {
        let dialect = self.dialect();
        move |err| Error::from_sqlx(err, dialect, entity, Operation::Read)
    }

    /// 200-worthy when the database answers a trivial query.
    pub async fn health(&self) -> Result<(), Error> {
        let sql = Sql::new("SELECT 1", Vec::new());
        read!(
            self,
            |err| Error::Unavailable(err.to_string()),
            |conn| async { conn.execute(&sql).await.map(drop) }
        )
    }

    /// One page of an entity's records and the total count.
    pub async fn list(
        &self,
        entity: &Entity,
        list_query: &ListQuery,
        threshold: u64,
    ) -> Result<Page, Error> {
        let page_sql = sql::list(self.dialect(), &self.catalog, entity, list_query);
        let fail = self.read_error(entity);
        // The page and its total on two connections at once.
        let shown: Vec<FieldType> = (list_query.sort.iter())
            .filter(|key| key.shown)
            .map(|key| key.value_field(entity).value_type())
            .collect();
        let reader = self.sets_reader();
        let page = async {
            read!(self, &fail, |conn| async {
                let mut page = conn.write_page(&page_sql, entity, &shown).await?;
                if !page.ends.is_empty() {
                    // Each relation's keys for the whole page, in one statement.
                    let owners: Vec<_> = page.ends.iter().map(|(key, _)| key.clone()).collect();
                    let held = reader.held(conn, entity, &owners).await?;
                    sets::splice(entity, &mut page.json, &page.ends, &held);
                }
                Ok(page)
            })
        };
        let (page, total) = tokio::try_join!(page, self.total(entity, list_query, threshold))?;
        Ok(Page {
            json: page.json,
            rows: page.rows,
            last: page.last,
            shown: page.shown,
            total,
        })
    }

    /// The total of `list_query` in its count mode: exact; estimated (exact below
    /// `threshold`, the planner's estimate above it; where plans carry no estimate, a count
    /// capped at the threshold, unknown above it); or unknown.
    pub async fn total(
        &self,
        entity: &Entity,
        list_query: &ListQuery,
        threshold: u64,
    ) -> Result<Total, Error> {
        let dialect = self.dialect();
        let fail = self.read_error(entity);
        match list_query.count {
            CountMode::None => Ok(Total::Unknown),
            CountMode::Exact => Ok(Total::Exact(self.count(entity, list_query).await?)),
            CountMode::Estimated if !dialect.has_estimates() => {
                let capped = sql::capped_count(
                    dialect,
                    &self.catalog,
                    entity,
                    list_query,
                    threshold.saturating_add(1),
                );
                let n = read!(self, &fail, |conn| conn.fetch_count(&capped))?;
                Ok(if n > threshold {
                    Total::Unknown
                } else {
                    Total::Exact(n)
                })
            }
            CountMode::Estimated => {
                let explain = sql::explain_count(dialect, &self.catalog, entity, list_query);
                let count = sql::count(dialect, &self.catalog, entity, list_query);
                read!(self, &fail, |conn| async {
                    Ok(match conn.fetch_estimate(&explain).await? {
                        Some(n) if n >= threshold => Total::Estimated(n),
                        // Few rows: counting them is cheap and exact.
                        _ => Total::Exact(conn.fetch_count(&count).await?),
                    })
                })
            }
        }
    }

    /// The number of rows matching `list_query`'s filters and search.
    pub async fn count(&self, entity: &Entity, list_query: &ListQuery) -> Result<u64, Error> {
        let count_sql = sql::count(self.dialect(), &self.catalog, entity, list_query);
        read!(self, self.read_error(entity), |conn| conn
            .fetch_count(&count_sql))
    }

    /// The groups of an aggregate, as the API sends them: `{"key", "value"}` each (one group,
    /// key null, without `group_by`); periods in time order.
    pub async fn aggregate(
        &self,
        entity: &Entity,
        aggregate: &Aggregate,
        list_query: &ListQuery,
    ) -> Result<Vec<Json>, Error> {
        let sql = sql::aggregate(self.dialect(), &self.catalog, entity, aggregate, list_query);
        // The rows read as records of an entity of two fields: the group and the metric.
        let mut shape = Entity::new("aggregate");
        if let Some(field) = &aggregate.group_by {
            let key = match aggregate.bucket {
                Some(_) => Field::string("key"),
                None => Field {
                    name: "key".into(),
                    ..field.clone()
                },
            };
            shape.fields.push(key);
        }
        shape.fields.push(match aggregate.metric {
            Metric::Count => Field::integer("value"),
            Metric::Sum(_) | Metric::Avg(_) => Field::float("value"),
        });
        let rows = read!(self, self.read_error(entity), |conn| conn
            .fetch_all(&sql, &shape))?;
        let mut groups: Vec<Json> = rows
            .into_iter()
            .map(|mut row| {
                let key = row.remove("key").unwrap_or(Json::Null);
                let value = row.remove("value").unwrap_or(Json::Null);
                serde_json::json!({"key": key, "value": value})
            })
            .collect();
        if aggregate.bucket.is_some() {
            groups.reverse();
        }
        Ok(groups)
    }

    /// Every record `list_query` selects, as records (for the db layer's own reads).
    pub(super) async fn all(
        &self,
        entity: &Entity,
        list_query: &ListQuery,
    ) -> Result<Vec<Record>, Error> {
        let sql = sql::list(self.dialect(), &self.catalog, entity, list_query);
        read!(self, self.read_error(entity), |conn| conn
            .fetch_all(&sql, entity))
    }

    /// One record by key, with the keys it holds in its many-to-many relations and its
    /// inline children.
    pub async fn get(&self, entity: &EntityRef, key: Value) -> Result<Record, Error> {
        let sql = sql::get(self.dialect(), &self.catalog, entity, key, false);
        let reader = self.sets_reader();
        read!(self, self.read_error(entity), |conn| async {
            let Some(mut record) = conn.fetch_optional(&sql, entity).await? else {
                return Ok(None);
            };
            if entity.sets().next().is_some() {
                let owner = record.get(&entity.primary_key).cloned().unwrap_or_default();
                let held = reader.held(conn, entity, &[owner]).await?;
                sets::attach(entity, &mut record, &held);
            }
            inline::attach(conn, reader, entity, std::slice::from_mut(&mut record)).await?;
            Ok(Some(record))
        })?
        .ok_or(Error::NotFound)
    }

    /// [`Db::get`] as the JSON object the API sends, written straight from the row.
    pub async fn get_json(&self, entity: &EntityRef, key: Value) -> Result<Vec<u8>, Error> {
        if entity.sets().next().is_some() || entity.inlines().next().is_some() {
            let record = self.get(entity, key).await?;
            return serde_json::to_vec(&record).map_err(|err| Error::Internal(err.to_string()));
        }
        let sql = sql::get(self.dialect(), &self.catalog, entity, key, false);
        read!(self, self.read_error(entity), |conn| conn
            .fetch_optional_json(&sql, entity))?
        .ok_or(Error::NotFound)
    }

    /// What reading many-to-many relations needs.
    pub(super) fn sets_reader(&self) -> sets::Reader<'_> {
        sets::Reader {
            dialect: self.dialect(),
            catalog: &self.catalog,
        }
    }
}
