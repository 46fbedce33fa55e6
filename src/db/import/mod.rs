//! An import: the rows of a file through the writes of the API, a batch at a time, in a task
//! the [`Db`] tracks (a client that goes away does not stop it half-way). Each row is the
//! body of a POST (or of a PATCH of the record its key finds) and passes the same checks;
//! its references and many-to-many members are found by key or by the value that names
//! their records, a batch's worth in one statement per column.
//!
//! Transactions: an `abort` import, and any dry run, is one transaction (rolled back after a
//! failed row, or a dry run); a `skip` import commits batch by batch, and each row is written
//! inside a savepoint, so that a row the database refuses takes nothing else with it.

mod lookup;
mod row;

use futures_util::StreamExt;
use serde_json::Value as Json;

use super::audit::Actor;
use super::error::Operation;
use super::tx::Tx;
use super::{Db, EntityRef, Error, Record};
use crate::import::csv::Row;
use crate::import::{Layout, Report, RowError, Rows, SourceError, Target, cells};
use crate::query::{ImportMode, ImportOptions, OnError};
use crate::schema::{self, Entity, WriteError};
use lookup::Lookup;
use row::{Outcome, write_row};

/// Rows are read, their references found and written this many at a time.
const BATCH: usize = 500;

/// What the audit log says caused the changes of an import.
pub const CAUSE: &str = "import";

/// Why an import stopped before the end of its file.
#[derive(Debug)]
pub enum ImportError {
    /// The file cannot be read (its header row, or a row further on): `report` is what was
    /// done before (committed only by a `skip` import).
    File {
        error: FileError,
        report: Box<Report>,
    },
    /// The database failed, not a row: nothing of the current batch is written.
    Db(Error),
}

/// What is wrong with a file.
#[derive(Debug)]
pub enum FileError {
    /// No header row, or one that does not fit the entity.
    Header(String),
    /// A row that cannot be read, the file cut short or too large.
    Source(SourceError),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Header(message) => f.write_str(message),
            FileError::Source(error) => error.fmt(f),
        }
    }
}

impl Db {
    /// Imports `rows` (the header row first) into `entity` as `options` say; answers the
    /// report, whatever happened to the rows.
    pub async fn import(
        &self,
        entity: EntityRef,
        options: ImportOptions,
        rows: Rows,
        actor: Actor,
    ) -> Result<Report, ImportError> {
        if self.tasks.is_closed() {
            return Err(ImportError::Db(Error::Unavailable(
                "the server is shutting down".into(),
            )));
        }
        let importer = Importer {
            db: self.clone(),
            report: Report::new(&options),
            single: options.on_error == OnError::Abort || options.dry_run,
            entity,
            options,
            actor,
            layout: None,
            tx: None,
        };
        let task = self.tasks.spawn(importer.run(rows)).await;
        task.map_err(|err| ImportError::Db(Error::Internal(format!("import task failed: {err}"))))?
    }
}

/// One import's state as it goes through its file.
struct Importer {
    db: Db,
    entity: EntityRef,
    options: ImportOptions,
    actor: Actor,
    report: Report,
    layout: Option<Layout>,
    /// The open transaction.
    tx: Option<Tx>,
    /// One transaction for the whole file.
    single: bool,
}

/// A row on its way: its number, its body, and what is wrong with it so far.
struct Pending {
    row: u64,
    body: Record,
    errors: Vec<RowError>,
}

impl Importer {
    async fn run(mut self, rows: Rows) -> Result<Report, ImportError> {
        let read = self.read(rows).await;
        let ended = match read {
            Ok(()) => self.end().await,
            Err(error) => {
                self.rollback().await;
                Err(error)
            }
        };
        match ended {
            Ok(()) => Ok(self.report),
            Err(ImportError::File { error, .. }) => Err(ImportError::File {
                error,
                report: Box::new(self.report),
            }),
            Err(error) => Err(error),
        }
    }

    /// Reads the file through, a batch at a time.
    async fn read(&mut self, mut rows: Rows) -> Result<(), ImportError> {
        let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
        while let Some(chunk) = rows.next().await {
            let chunk = chunk.map_err(|error| file_error(FileError::Source(error)))?;
            for row in chunk {
                if self.layout.is_none() {
                    let layout = Layout::new(&self.entity, &row.1, &self.options)
                        .map_err(|message| file_error(FileError::Header(message)))?;
                    self.layout = Some(layout);
                    continue;
                }
                batch.push(row);
                if batch.len() == BATCH {
                    self.batch(std::mem::take(&mut batch)).await?;
                }
            }
        }
        if self.layout.is_none() {
            return Err(file_error(FileError::Header(
                "the file is empty: its first row must name the columns".into(),
            )));
        }
        if !batch.is_empty() {
            self.batch(batch).await?;
        }
        Ok(())
    }

    /// Reads, checks and writes a batch of rows.
    async fn batch(&mut self, rows: Vec<Row>) -> Result<(), ImportError> {
        let layout = self.layout.clone().unwrap_or(Layout {
            columns: Vec::new(),
        });
        let mut pending = Vec::with_capacity(rows.len());
        for (row, cells) in rows {
            let Some(read) = cells::read(&self.entity, &layout, &cells) else {
                continue;
            };
            let errors = read
                .errors
                .into_iter()
                .map(|(column, message)| RowError {
                    row,
                    field: column.and_then(|c| target_name(&self.entity, &layout.columns[c].1)),
                    column: column.map(|c| layout.columns[c].0.clone()),
                    message,
                })
                .collect();
            pending.push(Pending {
                row,
                body: read.body,
                errors,
            });
        }
        self.report.rows += pending.len() as u64;
        if pending.is_empty() {
            return Ok(());
        }
        if self.tx.is_none() {
            let tx = self.db.begin(self.entity.clone(), Operation::Write).await;
            self.tx = Some(tx.map_err(ImportError::Db)?);
        }
        self.resolve(&layout, &mut pending)
            .await
            .map_err(ImportError::Db)?;
        for row in pending {
            self.row(&layout, row).await?;
        }
        if !self.single {
            self.commit().await?;
        }
        Ok(())
    }

    /// Writes one row (after a failed row of an `abort` import, only checks it).
    async fn row(&mut self, layout: &Layout, mut row: Pending) -> Result<(), ImportError> {
        if !row.errors.is_empty() {
            // After a failed row, an `abort` import writes no more (its transaction is rolled
            // back at the end); the rows after it are still checked.
            let more = self.other_errors(layout, &row);
            row.errors.extend(more);
            row.errors
                .sort_by_key(|e| column_index(layout, e.column.as_deref()));
            self.report.fail(row.errors);
            return Ok(());
        }
        let write = !self.report.aborted();
        let skip = self.options.on_error == OnError::Skip;
        let Some(tx) = self.tx.as_mut() else {
            return Err(ImportError::Db(Error::Internal("no transaction".into())));
        };
        if skip && write {
            tx.raw("SAVEPOINT aa_import_row")
                .await
                .map_err(ImportError::Db)?;
        }
        let body = std::mem::take(&mut row.body);
        let result = write_row(tx, &self.options, &self.actor, body, write).await;
        if skip && write {
            let end = match result {
                Ok(_) => "RELEASE SAVEPOINT aa_import_row",
                Err(_) => "ROLLBACK TO SAVEPOINT aa_import_row",
            };
            tx.raw(end).await.map_err(ImportError::Db)?;
        }
        match result {
            Ok(Outcome::Inserted) => self.report.inserted += 1,
            Ok(Outcome::Updated) => self.report.updated += 1,
            Ok(Outcome::Unchanged) => self.report.unchanged += 1,
            Err(Error::Unavailable(why)) => return Err(ImportError::Db(Error::Unavailable(why))),
            Err(Error::Internal(why)) => return Err(ImportError::Db(Error::Internal(why))),
            Err(error) => {
                let statement_failed = !matches!(error, Error::Rejected(_) | Error::Missing(_));
                self.report
                    .fail(row_errors(&self.entity, layout, row.row, error));
                if statement_failed && !skip {
                    // The transaction may be spoilt (PostgreSQL): nothing of it will be
                    // committed now, and the rows after are checked in a fresh one.
                    self.rollback().await;
                }
                return Ok(());
            }
        }
        Ok(())
    }

    /// The errors a new record of `row`'s other cells would have: a row's errors all at
    /// once, not one per try.
    fn other_errors(&self, layout: &Layout, row: &Pending) -> Vec<RowError> {
        if self.options.mode == ImportMode::Update {
            return Vec::new();
        }
        let reported: Vec<&str> = row
            .errors
            .iter()
            .filter_map(|e| e.field.as_deref())
            .collect();
        let mut body = row.body.clone();
        body.retain(|name, _| !reported.contains(&name.as_str()));
        for relation in self.entity.sets() {
            body.remove(&relation.name);
        }
        match schema::prepare_create(&self.entity, &body) {
            Err(WriteError::Invalid(errors)) => errors
                .into_iter()
                .filter(|(field, _)| !reported.contains(&field.as_str()))
                .flat_map(|(field, message)| {
                    let error = Error::Rejected(WriteError::Invalid([(field, message)].into()));
                    row_errors(&self.entity, layout, row.row, error)
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Finds the records that the references and members of `rows` name, and puts their
    /// keys in the bodies; a name that finds none, or several, is the row's error.
    async fn resolve(&mut self, layout: &Layout, rows: &mut [Pending]) -> Result<(), Error> {
        let entity = self.entity.clone();
        for (column, target) in &layout.columns {
            let Some(lookup) = Lookup::of(&entity, target) else {
                continue;
            };
            let mut texts: Vec<String> = Vec::new();
            for row in rows.iter() {
                match row.body.get(&lookup.name) {
                    Some(Json::String(text)) => texts.push(text.clone()),
                    Some(Json::Array(items)) => {
                        texts.extend(items.iter().filter_map(Json::as_str).map(str::to_owned));
                    }
                    _ => {}
                }
            }
            texts.sort();
            texts.dedup();
            if texts.is_empty() {
                continue;
            }
            let Some(tx) = self.tx.as_mut() else {
                return Err(Error::Internal("no transaction".into()));
            };
            let found = lookup.find(tx, &texts).await?;
            for row in rows.iter_mut() {
                let Some(given) = row.body.get_mut(&lookup.name) else {
                    continue;
                };
                let mut missing = Vec::new();
                match given {
                    Json::String(text) => match found.key(text) {
                        Ok(key) => *given = key,
                        Err(why) => missing.push(why),
                    },
                    Json::Array(items) => {
                        for item in items.iter_mut() {
                            let Json::String(text) = item else { continue };
                            match found.key(text) {
                                Ok(key) => *item = key,
                                Err(why) => missing.push(why),
                            }
                        }
                    }
                    _ => {}
                }
                for message in missing {
                    row.errors.push(RowError {
                        row: row.row,
                        column: Some(column.clone()),
                        field: Some(lookup.name.clone()),
                        message,
                    });
                }
            }
        }
        Ok(())
    }

    /// Ends the current transaction: commits it, unless this is a dry run or a failed
    /// `abort` import.
    async fn commit(&mut self) -> Result<(), ImportError> {
        let Some(tx) = self.tx.take() else {
            return Ok(());
        };
        if self.options.dry_run || self.report.aborted() {
            tx.end(Err::<(), _>(Error::NotFound)).await.ok();
            return Ok(());
        }
        tx.end(Ok(())).await.map_err(ImportError::Db)?;
        self.report.committed = true;
        Ok(())
    }

    async fn end(&mut self) -> Result<(), ImportError> {
        self.commit().await?;
        if !self.options.dry_run && !self.report.aborted() {
            // A file of no rows, or of failed rows alone in `skip` mode: what it did is done.
            self.report.committed = true;
        }
        Ok(())
    }

    async fn rollback(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.end(Err::<(), _>(Error::NotFound)).await;
        }
    }
}

/// The field or relation a column goes to.
fn target_name(entity: &Entity, target: &Target) -> Option<String> {
    match target {
        Target::Field(i) => Some(entity.fields[*i].name.clone()),
        Target::Set(i) => Some(entity.relations[*i].name.clone()),
        Target::Skip => None,
    }
}

/// Where a column is in the file, for errors in the order of the row's cells (the row's
/// own errors first).
fn column_index(layout: &Layout, column: Option<&str>) -> usize {
    column
        .and_then(|name| layout.columns.iter().position(|(c, _)| c == name))
        .map_or(0, |i| i + 1)
}

/// A row's write error as the report lists it: a line per field, at its column.
fn row_errors(entity: &Entity, layout: &Layout, row: u64, error: Error) -> Vec<RowError> {
    let column_of = |field: &str| {
        let name = field.split('.').next().unwrap_or(field);
        layout
            .columns
            .iter()
            .find(|(_, t)| target_name(entity, t).as_deref() == Some(name))
            .map(|(column, _)| column.clone())
    };
    let one = |field: Option<String>, message: String| RowError {
        row,
        column: field.as_deref().and_then(column_of),
        field,
        message,
    };
    match error {
        Error::Rejected(WriteError::Invalid(errors)) | Error::Missing(errors) => errors
            .into_iter()
            .map(|(field, message)| one(Some(field), message))
            .collect(),
        Error::Rejected(WriteError::UnknownKeys(keys)) => keys
            .into_iter()
            .map(|key| one(Some(key), "is not a field".into()))
            .collect(),
        Error::Conflict { field, message } | Error::InvalidValue { field, message } => {
            vec![one(field, message)]
        }
        other => vec![one(None, other.to_string())],
    }
}

fn file_error(error: FileError) -> ImportError {
    ImportError::File {
        error,
        report: Box::default(),
    }
}
