//! Streaming reads: every matching row, in batches, with constant memory.
//!
//! The query runs in a task tracked by the [`Db`] and sends decoded rows over a bounded
//! channel, so a slow client slows the query down instead of filling memory, and a client
//! that goes away ends the task. The first batch is awaited before the stream is handed
//! out, so that an error before any row (no connection, bad SQL) is still a proper error
//! response rather than a truncated body.

use std::pin::Pin;

use futures_util::{Stream, StreamExt, TryStreamExt};
use serde_json::Value as Json;
use tokio::sync::mpsc;

use super::error::Operation;
use super::sql::{self, Display, Sql};
use super::{Db, EntityRef, Error};
use crate::query::ListQuery;
use crate::schema::{Entity, Field, FieldType};

/// Rows per message: big enough to amortise the channel, small enough to stay flat.
const BATCH: usize = 256;

/// Decoded rows in batches; each row's values in the order of its [`Column`]s.
pub type Batches = Pin<Box<dyn Stream<Item = Result<Vec<Vec<Json>>, Error>> + Send>>;

/// A column of a streamed result: an entity's field, or the display value of a reference.
#[derive(Clone, Debug)]
pub struct Column {
    /// The entity's field this column belongs to.
    pub field: String,
    /// How the value is read: the field's own type, or the shown field's type.
    pub field_type: FieldType,
    /// For a reference's display column: the target's field that is shown.
    pub shown: Option<Field>,
}

impl Db {
    /// Every row matching `list_query` (its paging applies), fields in order.
    pub async fn stream_list(
        &self,
        entity: &EntityRef,
        list_query: &ListQuery,
    ) -> Result<Batches, Error> {
        let sql = sql::list_with_sets(self.dialect(), &self.catalog, entity, list_query);
        let types = entity.readable_fields().map(Field::value_type).collect();
        self.stream(entity.clone(), sql, types, false).await
    }

    /// Every row matching `list_query`'s filters, search and sort, with each reference's
    /// display value (from its target entity) after the fields, then each many-to-many
    /// relation's members by their display values.
    pub async fn stream_export(
        &self,
        entity: &EntityRef,
        list_query: &ListQuery,
    ) -> Result<(Vec<Column>, Batches), Error> {
        let displays = displays(entity);
        let sql = sql::export(self.dialect(), &self.catalog, entity, list_query, &displays);
        let mut columns: Vec<Column> = entity
            .readable_fields()
            .map(|f| Column {
                field: f.name.clone(),
                field_type: f.value_type(),
                shown: None,
            })
            .collect();
        columns.extend(displays.iter().map(|d| Column {
            field: d.field.name.clone(),
            field_type: d.shown.value_type(),
            shown: Some(d.shown.clone()),
        }));
        let types = columns.iter().map(|c| c.field_type).collect();
        columns.extend(entity.sets().map(|r| Column {
            field: r.name.clone(),
            field_type: FieldType::Text,
            shown: None,
        }));
        let batches = self.stream(entity.clone(), sql, types, true).await?;
        Ok((columns, batches))
    }

    /// Streams the rows of `sql`, decoded by `types`, then (for an entity with many-to-many
    /// relations, whose statement reads them as JSON arrays after the other columns) each
    /// relation's members: their keys in order, or with `labels` their display values as one
    /// text, in order.
    async fn stream(
        &self,
        entity: EntityRef,
        sql: Sql,
        types: Vec<FieldType>,
        labels: bool,
    ) -> Result<Batches, Error> {
        if self.tasks.is_closed() {
            return Err(Error::Unavailable("the server is shutting down".into()));
        }
        let (sender, mut receiver) = mpsc::channel::<Result<Vec<Vec<Json>>, Error>>(2);
        let db = self.clone();
        self.tasks.spawn(async move {
            let dialect = db.dialect();
            let fail = |err| Error::from_sqlx(err, dialect, &entity, Operation::Read);
            let run = async {
                let mut pooled = db.pool.acquire().await?;
                let mut conn = pooled.conn();
                db.open_read(&mut conn).await.map_err(fail)?;
                let mut rows = conn.fetch(&sql);
                let mut batch = Vec::with_capacity(BATCH);
                // Left before the last row (the client went away, an error), the
                // connection is closed rather than reused: `finished` is not reached.
                let sets = entity.sets().count();
                while let Some(row) = rows.try_next().await.map_err(fail)? {
                    let mut values = types
                        .iter()
                        .enumerate()
                        .map(|(i, t)| row.decode(i, *t))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(fail)?;
                    for n in 0..sets {
                        let members = row.decode(types.len() + n, FieldType::Json).map_err(fail)?;
                        values.push(super::sets::streamed(members, labels));
                    }
                    batch.push(values);
                    if batch.len() == BATCH
                        && sender.send(Ok(std::mem::take(&mut batch))).await.is_err()
                    {
                        // The client went away.
                        return Ok(());
                    }
                }
                drop(rows);
                let closed = db.close_read(&mut conn, Ok(())).await;
                pooled.finished(&closed);
                closed.map_err(fail)?;
                // Always one last message, so the receiver knows the query ran.
                let _ = sender.send(Ok(batch)).await;
                Ok(())
            };
            if let Err(error) = run.await {
                let _ = sender.send(Err(error)).await;
            }
        });
        let first = match receiver.recv().await {
            Some(Ok(first)) => first,
            Some(Err(error)) => return Err(error),
            None => {
                return Err(Error::Internal(
                    "the streaming task ended without a word".into(),
                ));
            }
        };
        let rest = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        // Fused: a body may be polled again after its end (compression does), and an unfused
        // `unfold` panics then.
        Ok(futures_util::stream::once(async move { Ok(first) })
            .chain(rest)
            .fuse()
            .boxed())
    }
}

/// The references of `entity` that name a display field, with their targets.
fn displays(entity: &EntityRef) -> Vec<Display<'_>> {
    entity
        .readable_fields()
        .filter_map(|field| {
            let target: &Entity = entity.schema().entity(field.target.as_deref()?)?;
            let shown = target.find_field(field.display.as_deref()?)?;
            Some(Display {
                field,
                target,
                shown,
            })
        })
        .collect()
}
