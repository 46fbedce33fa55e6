//! New records of an import, a batch at a time, where the database returns the rows it
//! inserts (PostgreSQL, SQLite): one multi-row INSERT per run of rows that set the same
//! columns (as many as the bound on a statement's values allows), the many-to-many sets of
//! the rows that have some, and their audit rows in one INSERT. What the database refuses
//! fails the whole batch; the caller then writes it again row by row, to say which row.

use super::super::audit::{self, Actor, Change};
use super::super::sets::Wanted;
use super::super::tx::Tx;
use super::super::{Error, Record, sql};
use super::CAUSE;
use crate::schema::Changes;

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

/// Inserts `ready` (not empty), with their sets and audit rows.
pub(super) async fn insert(tx: &mut Tx, actor: &Actor, ready: &[Ready]) -> Result<(), Error> {
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
        records.extend(tx.insert_many(rows).await?);
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
    Ok(())
}

impl Tx {
    /// Inserts `rows` (not empty, each setting the same columns) in one statement; returns
    /// them as stored, in order. A versioned entity's rows start at version 1.
    async fn insert_many(&mut self, mut rows: Vec<Changes>) -> Result<Vec<Record>, Error> {
        let entity = self.entity.clone();
        if let Some(index) = entity.version_index() {
            for row in &mut rows {
                if !row.iter().any(|(i, _)| *i == index) {
                    row.push((index, crate::schema::Value::Int(1)));
                }
            }
        }
        let db = self.db.clone();
        let insert = sql::insert_many(db.dialect(), &db.catalog, &entity, rows, true);
        self.fetch_all(&insert, &entity).await
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
