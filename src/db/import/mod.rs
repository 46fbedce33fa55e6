//! An import: the rows of a file through the writes of the API, a batch at a time, in a task
//! the [`Db`] tracks (a client that goes away does not stop it half-way). Each row is the
//! body of a POST (or of a PATCH of the record its key finds) and passes the same checks;
//! its references and many-to-many members are found by key or by the value that names
//! their records, a batch's worth in one statement per column.
//!
//! Transactions: an `abort` import, and any dry run, is one transaction (rolled back after a
//! failed row, or a dry run); a `skip` import commits batch by batch, and each row is written
//! inside a savepoint, so that a row the database refuses takes nothing else with it.

mod batch;
mod errors;
mod lookup;
mod row;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::audit::{self, Actor};
use super::error::Operation;
use super::tx::Tx;
use super::write::take_relations;
use super::{Db, EntityRef, Error, Record};
use crate::import::csv::Row;
use crate::import::job::now_millis;
use crate::import::{
    Jobs, Layout, Progress, Rejected, Report, RowError, Source, SourceError, cells,
};
use crate::query::{ImportMode, ImportOptions, OnError};
use crate::schema;
use errors::{column_index, row_errors, target_name};
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
    /// Someone cancelled it: `report` is what was done before (committed only by a `skip`
    /// import).
    Cancelled(Box<Report>),
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

/// An import's place among the running ones: its id, what it shares with the requests about
/// it, and the registry it leaves when it ends.
pub struct JobContext {
    pub id: String,
    pub progress: Arc<Progress>,
    pub jobs: Arc<Jobs>,
}

impl Db {
    /// Imports the rows of `source` (the header row first) into `entity` as `options` say,
    /// in a task of its own: answers the report, whatever happened to the rows, and records
    /// how it ended in the table of imports (also when nobody waits for the answer).
    pub async fn import(
        &self,
        entity: EntityRef,
        options: ImportOptions,
        source: Source,
        actor: Actor,
        job: JobContext,
    ) -> Result<Report, ImportError> {
        if self.tasks.is_closed() {
            job.jobs.remove(&job.id);
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
            rejected: None,
            delimiter: b',',
            job,
            beat: Instant::now(),
            batched: None,
        };
        let task = self.tasks.spawn(importer.run(source)).await;
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
    /// The rows rejected so far (from the header row on).
    rejected: Option<Rejected>,
    delimiter: u8,
    job: JobContext,
    /// When the table of imports last heard of this one.
    beat: Instant,
    /// Whether new records are written a batch at a time, once known.
    batched: Option<Option<Option<batch::KeyStep>>>,
}

/// A row on its way: its number, its cells and body, and what is wrong with it so far.
struct Pending {
    row: u64,
    cells: Vec<String>,
    body: Record,
    errors: Vec<RowError>,
}

/// How often an import's counts are written to the table of imports (and a cancel from
/// another instance read there).
const BEAT: Duration = Duration::from_secs(1);

impl Importer {
    async fn run(mut self, mut source: Source) -> Result<Report, ImportError> {
        let read = self.read(&mut source).await;
        // A file refused (its header row, its size, its bytes) is refused in the answer, never
        // behind a 202: the client is let go only once the file has arrived and its header
        // row was accepted.
        if read.is_ok() {
            self.job.progress.mark_received();
        }
        let ended = match read {
            Ok(()) => self.end().await,
            Err(error) => {
                self.rollback().await;
                Err(error)
            }
        };
        let (status, result) = match ended {
            Ok(()) if self.report.aborted() => ("failed", Ok(())),
            Ok(()) => ("done", Ok(())),
            Err(ImportError::File { error, .. }) => {
                self.report.stopped = Some(error.to_string());
                ("failed", Err(Stop::File(error)))
            }
            Err(ImportError::Cancelled(_)) => {
                self.report.stopped = Some("cancelled".into());
                ("cancelled", Err(Stop::Cancelled))
            }
            Err(ImportError::Db(error)) => {
                self.report.stopped = Some("the database failed".into());
                ("failed", Err(Stop::Db(error)))
            }
        };
        self.finish(status).await;
        let report = Box::new(self.report);
        match result {
            Ok(()) => Ok(*report),
            Err(Stop::File(error)) => Err(ImportError::File { error, report }),
            Err(Stop::Cancelled) => Err(ImportError::Cancelled(report)),
            Err(Stop::Db(error)) => Err(ImportError::Db(error)),
        }
    }

    /// Records how the import ended in the table of imports, then leaves the running ones.
    async fn finish(&mut self, status: &str) {
        let counts = self.report.counts();
        self.job.progress.set(counts);
        let report = serde_json::to_value(&self.report).unwrap_or_default();
        let rejected = self.rejected.take().and_then(Rejected::file);
        let id = &self.job.id;
        let now = now_millis();
        let recorded = self
            .db
            .job_finish(id, status, counts, &report, rejected, now)
            .await;
        if let Err(error) = recorded {
            tracing::error!(import = %id, "the end of an import was not recorded: {error}");
        }
        self.job.jobs.remove(id);
    }

    /// After a batch: the counts to those who ask, and to the table of imports (at most
    /// once per [`BEAT`], and not on SQLite, whose one writer is the import's transaction);
    /// a cancel asked here or on another instance stops the import.
    async fn beat(&mut self) -> Result<(), ImportError> {
        let counts = self.report.counts();
        self.job.progress.set(counts);
        if !self.db.dialect().has_one_writer() && self.beat.elapsed() >= BEAT {
            self.beat = Instant::now();
            match self
                .db
                .job_progress(&self.job.id, counts, now_millis())
                .await
            {
                Ok(true) => self.job.progress.cancel(),
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(import = %self.job.id, "import progress not recorded: {error}")
                }
            }
        }
        if self.job.progress.cancelled() {
            return Err(ImportError::Cancelled(Box::default()));
        }
        Ok(())
    }

    /// Keeps a row as it would be stored, while the preview asked for wants more.
    fn preview(&mut self, row: u64, action: &str, record: Option<Record>) {
        if let Some(record) = record
            && self.report.preview.len() < self.options.preview
        {
            self.report.preview.push(serde_json::json!({
                "row": row, "action": action, "record": record,
            }));
        }
    }

    /// Counts a failed row, keeps its cells for the file of rejected rows.
    fn fail(&mut self, cells: &[String], errors: Vec<RowError>) {
        self.report.fail(errors);
        if let Some(rejected) = self.rejected.as_mut() {
            rejected.add(cells);
        }
    }

    /// Reads the file through, a batch at a time.
    async fn read(&mut self, source: &mut Source) -> Result<(), ImportError> {
        let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
        loop {
            // While the file is slow to come, the import still answers a cancel, and says
            // every second that it runs.
            let progress = self.job.progress.clone();
            let next = tokio::select! {
                next = source.rows.next() => next,
                () = progress.cancel_asked() => {
                    return Err(ImportError::Cancelled(Box::default()));
                }
                () = tokio::time::sleep(BEAT) => {
                    self.beat().await?;
                    continue;
                }
            };
            let Some(chunk) = next else {
                // Arrived whole: what is left to write no longer keeps the client waiting
                // (an empty file is refused below, in the answer).
                if self.layout.is_some() {
                    self.job.progress.mark_received();
                }
                break;
            };
            let chunk = chunk.map_err(|error| file_error(FileError::Source(error)))?;
            if source.whole() && self.layout.is_some() {
                // A workbook has arrived (and is read from disk): the client need not wait.
                self.job.progress.mark_received();
            }
            for row in chunk {
                if self.layout.is_none() {
                    if self.options.preview > 0 {
                        self.report.columns = row.1.clone();
                    }
                    let layout = Layout::new(&self.entity, &row.1, &self.options)
                        .map_err(|message| file_error(FileError::Header(message)))?;
                    self.layout = Some(layout);
                    if source.whole() {
                        self.job.progress.mark_received();
                    }
                    self.delimiter = source.delimiter();
                    self.rejected = Some(Rejected::new(&row.1, self.delimiter));
                    continue;
                }
                batch.push(row);
                let previewed = self.options.preview > 0
                    && self.report.rows as usize + batch.len() >= self.options.preview;
                if previewed {
                    // The rows asked for are read: the rest of the file is not (what is
                    // sent is taken and dropped, errors and all: a preview may get the
                    // start of a file, cut anywhere).
                    self.batch(std::mem::take(&mut batch)).await?;
                    if !source.whole() {
                        while source.rows.next().await.is_some() {}
                    }
                    self.job.progress.mark_received();
                    return Ok(());
                }
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
                cells,
                body: read.body,
                errors,
            });
        }
        self.report.rows += pending.len() as u64;
        if pending.is_empty() {
            return Ok(());
        }
        self.tx().await?;
        self.resolve(&layout, &mut pending)
            .await
            .map_err(ImportError::Db)?;
        if self.options.mode == ImportMode::Insert && self.batched().await?.is_some() {
            self.insert_rows(&layout, pending).await?;
        } else {
            for row in pending {
                self.row(&layout, row).await?;
            }
        }
        if !self.single {
            self.commit().await?;
        }
        self.beat().await
    }

    /// Whether new records are written a batch at a time (`batch.rs`), and how their keys
    /// follow each other where rows do not come back; asked once.
    async fn batched(&mut self) -> Result<Option<Option<batch::KeyStep>>, ImportError> {
        if self.batched.is_none() {
            let tx = self.tx().await?;
            let batched = batch::batched(tx).await.map_err(ImportError::Db)?;
            self.batched = Some(batched);
        }
        Ok(self.batched.flatten())
    }

    /// The open transaction, begun if there is none.
    async fn tx(&mut self) -> Result<&mut Tx, ImportError> {
        if self.tx.is_none() {
            let tx = self.db.begin(self.entity.clone(), Operation::Write).await;
            self.tx = Some(tx.map_err(ImportError::Db)?);
        }
        self.tx
            .as_mut()
            .ok_or_else(|| ImportError::Db(Error::Internal("no transaction".into())))
    }

    /// New records where the database returns the rows it inserts: the batch checked row by
    /// row, then written in a few statements (`batch.rs`). If the database refuses the
    /// batch, it is written again row by row, so that the refusal is the row's.
    async fn insert_rows(
        &mut self,
        layout: &Layout,
        pending: Vec<Pending>,
    ) -> Result<(), ImportError> {
        let entity = self.entity.clone();
        let mut ready = Vec::with_capacity(pending.len());
        for row in pending {
            if !row.errors.is_empty() {
                self.row(layout, row).await?;
                continue;
            }
            let mut body = row.body.clone();
            let checked = take_relations(&entity, &mut body, true).and_then(|(wanted, _)| {
                let changes = schema::prepare_create(&entity, &body).map_err(Error::Rejected)?;
                Ok((changes, wanted))
            });
            match checked {
                Ok((changes, wanted)) => ready.push(batch::Ready {
                    row: row.row,
                    cells: row.cells,
                    body: row.body,
                    passwords: audit::passwords(&entity, &changes),
                    changes,
                    wanted,
                }),
                Err(error) => {
                    let errors = row_errors(&entity, layout, row.row, error);
                    self.fail(&row.cells, errors);
                }
            }
        }
        if ready.is_empty() {
            return Ok(());
        }
        if self.report.aborted() {
            // Checked only: nothing more is written.
            self.report.inserted += ready.len() as u64;
            return Ok(());
        }
        let actor = self.actor.clone();
        let step = self.batched.flatten().flatten();
        let keep = self
            .options
            .preview
            .saturating_sub(self.report.preview.len());
        let tx = self.tx().await?;
        tx.raw("SAVEPOINT aa_import_batch")
            .await
            .map_err(ImportError::Db)?;
        match batch::insert(tx, &actor, &ready, step, keep).await {
            Ok(records) => {
                tx.raw("RELEASE SAVEPOINT aa_import_batch")
                    .await
                    .map_err(ImportError::Db)?;
                self.report.inserted += ready.len() as u64;
                for (record, ready) in records.into_iter().zip(&ready) {
                    self.preview(ready.row, "insert", Some(record));
                }
            }
            Err(error @ (Error::Unavailable(_) | Error::RolledBack(_) | Error::Internal(_))) => {
                return Err(ImportError::Db(error));
            }
            Err(_) => {
                tx.raw("ROLLBACK TO SAVEPOINT aa_import_batch")
                    .await
                    .map_err(ImportError::Db)?;
                for ready in ready {
                    let row = Pending {
                        row: ready.row,
                        cells: ready.cells,
                        body: ready.body,
                        errors: Vec::new(),
                    };
                    self.row(layout, row).await?;
                }
            }
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
            self.fail(&row.cells, row.errors);
            return Ok(());
        }
        let write = !self.report.aborted();
        let skip = self.options.on_error == OnError::Skip;
        let options = self.options.clone();
        let actor = self.actor.clone();
        let keep = self.report.preview.len() < self.options.preview;
        let tx = self.tx().await?;
        if skip && write {
            tx.raw("SAVEPOINT aa_import_row")
                .await
                .map_err(ImportError::Db)?;
        }
        let body = std::mem::take(&mut row.body);
        let result = write_row(tx, &options, &actor, body, write, keep).await;
        if skip && write {
            let end = match result {
                Ok(_) => "RELEASE SAVEPOINT aa_import_row",
                Err(_) => "ROLLBACK TO SAVEPOINT aa_import_row",
            };
            tx.raw(end).await.map_err(ImportError::Db)?;
        }
        match result {
            Ok(Outcome::Inserted(record)) => {
                self.report.inserted += 1;
                self.preview(row.row, "insert", record);
            }
            Ok(Outcome::Updated(record)) => {
                self.report.updated += 1;
                self.preview(row.row, "update", record);
            }
            Ok(Outcome::Unchanged(record)) => {
                self.report.unchanged += 1;
                self.preview(row.row, "unchanged", record);
            }
            Err(Error::Unavailable(why)) => return Err(ImportError::Db(Error::Unavailable(why))),
            Err(Error::Internal(why)) => return Err(ImportError::Db(Error::Internal(why))),
            Err(error) => {
                let statement_failed = !matches!(error, Error::Rejected(_) | Error::Missing(_));
                let errors = row_errors(&self.entity, layout, row.row, error);
                self.fail(&row.cells, errors);
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

/// Why `run` stopped, while the report is being recorded.
enum Stop {
    File(FileError),
    Cancelled,
    Db(Error),
}

fn file_error(error: FileError) -> ImportError {
    ImportError::File {
        error,
        report: Box::default(),
    }
}
