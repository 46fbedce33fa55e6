//! New records of an import, a batch at a time: one multi-row INSERT per run of rows that
//! set the same columns (as many as the bound on a statement's values allows), the
//! many-to-many sets of the rows that have some, and their audit rows in one INSERT. The rows
//! come back as stored by RETURNING (PostgreSQL, SQLite) or, on MySQL, read again by their
//! keys: given, or the consecutive ones the auto-increment gave a multi-row INSERT (in its
//! "consecutive" lock mode, the default of MariaDB, with the server's increment; in the
//! "interleaved" mode keys are not consecutive, and rows are written one by one instead).
//! What the database refuses fails the whole batch; the caller then writes it again row by
//! row, to say which row.

use super::super::audit::{self, Actor, Change};
use super::super::sets::Wanted;
use super::super::tx::Tx;
use super::super::{Error, Record, sql};
use super::CAUSE;
use crate::schema::{Changes, Value};

/// Values bound in one statement at most (SQLite's default bound is 32,766).
const MAX_BINDS: usize = 30_000;

/// A row checked and ready to insert.
pub(super) struct Ready {
    pub row: u64,
    pub cells: Vec<String>,
    /// The row's body as read, to write it again on its own.
    pub body: Record,
    pub changes: Changes,
    pub wanted: Wanted,
    pub passwords: Vec<String>,
}

/// How a multi-row INSERT's generated keys follow each other, where the database does not
/// return the rows (MySQL): from the first, by `increment`.
#[derive(Clone, Copy, Debug)]
pub(super) struct KeyStep {
    pub increment: i64,
}

/// Whether new records may be written a batch at a time: where rows come back by RETURNING,
/// or where the keys of a multi-row INSERT are known (MySQL: not in the interleaved
/// auto-increment lock mode). Asked once per import.
pub(super) async fn batched(tx: &mut Tx) -> Result<Option<Option<KeyStep>>, Error> {
    let dialect = tx.db.dialect();
    if dialect.has_returning() {
        return Ok(Some(None));
    }
    let Some(statement) = dialect.auto_increment_settings() else {
        return Ok(None);
    };
    let sql = sql::Sql::new(statement, Vec::new());
    let result = async {
        let mut conn = tx.conn();
        let mut rows = conn.fetch(&sql);
        let row = futures_util::TryStreamExt::try_next(&mut rows).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mode = row.decode(0, crate::schema::FieldType::Integer)?.as_i64();
        let increment = row.decode(1, crate::schema::FieldType::Integer)?.as_i64();
        Ok::<_, sqlx::Error>(mode.zip(increment))
    }
    .await;
    Ok(match result.map_err(|err| tx.fail(err))? {
        Some((mode, increment)) if mode != 2 && increment >= 1 => Some(Some(KeyStep { increment })),
        _ => None,
    })
}

/// Inserts `ready` (not empty), with their sets and audit rows; `step` where rows do not
/// come back by RETURNING. Answers the first `keep` records as stored.
pub(super) async fn insert(
    tx: &mut Tx,
    actor: &Actor,
    ready: &[Ready],
    step: Option<KeyStep>,
    keep: usize,
) -> Result<Vec<Record>, Error> {
    let entity = tx.entity.clone();
    let mut records = Vec::with_capacity(ready.len());
    let mut start = 0;
    while start < ready.len() {
        let columns: Vec<usize> = ready[start].changes.iter().map(|(i, _)| *i).collect();
        let per_statement = (MAX_BINDS / columns.len().max(1)).max(1);
        let same = ready[start..]
            .iter()
            .take(per_statement)
            .take_while(|r| {
                r.changes
                    .iter()
                    .map(|(i, _)| *i)
                    .eq(columns.iter().copied())
            })
            .count();
        let rows = ready[start..start + same]
            .iter()
            .map(|r| r.changes.clone())
            .collect();
        records.extend(tx.insert_many(rows, step).await?);
        start += same;
    }
    if records.len() != ready.len() {
        return Err(Error::Internal(format!(
            "{} rows inserted, {} returned",
            ready.len(),
            records.len()
        )));
    }
    if entity.sets().next().is_some() {
        for (record, row) in records.iter().zip(ready) {
            if !row.wanted.is_empty() {
                let key = record.get(&entity.primary_key).cloned().unwrap_or_default();
                tx.write_sets(&key, None, &row.wanted).await?;
            }
        }
        tx.attach_sets(&mut records).await?;
    }
    let kept = records.iter().take(keep).cloned().collect();
    let changes: Vec<Change> = records
        .into_iter()
        .zip(ready)
        .map(|(record, row)| {
            Change::created(&entity, record, row.passwords.clone()).caused_by(CAUSE.into())
        })
        .collect();
    // An audit row binds 9 values.
    for part in changes.chunks(MAX_BINDS / 9) {
        tx.audit_many(actor, part).await?;
    }
    Ok(kept)
}

impl Tx {
    /// Inserts `rows` (not empty, each setting the same columns) in one statement; returns
    /// them as stored, in order. A versioned entity's rows start at version 1.
    async fn insert_many(
        &mut self,
        mut rows: Vec<Changes>,
        step: Option<KeyStep>,
    ) -> Result<Vec<Record>, Error> {
        let entity = self.entity.clone();
        if let Some(index) = entity.version_index() {
            for row in &mut rows {
                if !row.iter().any(|(i, _)| *i == index) {
                    row.push((index, crate::schema::Value::Int(1)));
                }
            }
        }
        let db = self.db.clone();
        let Some(step) = step else {
            let insert = sql::insert_many(db.dialect(), &db.catalog, &entity, rows, true);
            let records = self.fetch_all(&insert, &entity).await?;
            // Rows outside the importer's scope fail the batch, and then each its own row.
            self.check_scope(&entity, &records).await?;
            return Ok(records);
        };
        // The keys: the rows', or the ones the auto-increment gave them, from the first.
        let key_index = entity
            .fields
            .iter()
            .position(|f| f.name == entity.primary_key);
        let given: Vec<Option<Value>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .find(|(i, _)| Some(*i) == key_index)
                    .map(|(_, v)| v.clone())
            })
            .collect();
        let count = rows.len() as i64;
        let insert = sql::insert_many(db.dialect(), &db.catalog, &entity, rows, false);
        let done = self.execute(&insert).await?;
        let keys: Vec<Value> = if given.iter().all(Option::is_some) {
            given.into_iter().flatten().collect()
        } else {
            let first = done.last_insert_id.ok_or_else(|| {
                Error::Internal("the database did not report the new keys".into())
            })?;
            (0..count)
                .map(|k| Value::Int(first + k * step.increment))
                .collect()
        };
        let select = sql::existing_records(db.dialect(), &db.catalog, &entity, &keys, false);
        let stored = self.fetch_all(&select, &entity).await?;
        if stored.len() < keys.len() && entity.row_scope.is_some() {
            // Read back through the importer's row scope: some rows are outside it.
            return Err(super::super::tx::out_of_scope(&entity));
        }
        super::super::write::in_order(&entity, stored, &keys)
            .map_err(|_| Error::Internal("the inserted rows were not found by their keys".into()))
    }

    /// Writes the audit rows of `changes` in one statement.
    async fn audit_many(&mut self, actor: &Actor, changes: &[Change]) -> Result<(), Error> {
        let db = self.db.clone();
        let entity = self.entity.clone();
        match audit::insert_many(&db, &entity, actor, changes) {
            Some(insert) => self.execute(&insert).await.map(drop),
            None => Ok(()),
        }
    }
}
