//! autoadmin's table of imports (`autoadmin_imports`): a row per import, written when it
//! starts, as it goes (its counts, from the instance that runs it, which also reads there
//! whether someone asked to cancel it) and when it ends (its report and its rejected rows).
//! Any instance answers `GET /imports/{id}` from it. An import whose row has not moved for a
//! while is one whose server stopped: it is marked failed (nothing of an `abort` import was
//! committed: its transaction died with the server).

use futures_util::TryStreamExt;
use serde_json::Value as Json;

use std::sync::Arc;

use super::import::JobContext;
use super::sql::Sql;
use super::{Db, Error};
use crate::import::job::now_millis;
use crate::import::{Counts, Job, Jobs, Progress};
use crate::schema::{FieldType, Value};

/// An import as its row says.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRow {
    pub id: String,
    pub entity: String,
    pub owner: Option<String>,
    /// `running`, `done`, `failed`, `cancelled` or `reverted`.
    pub status: String,
    pub counts: Counts,
    pub cancel_requested: bool,
    /// Milliseconds since 1970.
    pub started_at: i64,
    pub updated_at: i64,
    /// The report (JSON), once it has ended.
    pub report: Option<Json>,
    /// The rejected rows as a CSV file, once it has ended with some.
    pub rejected: Option<String>,
}

/// The counts of an import as bound values, in the table's order.
fn values(counts: Counts) -> [Value; 5] {
    [
        counts.rows,
        counts.inserted,
        counts.updated,
        counts.unchanged,
        counts.failed,
    ]
    .map(|n| Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

const COLUMNS: &str = "id, entity, owner, status, rows_read, inserted, updated, unchanged, failed, \
                       cancel_requested, started_at, updated_at, report, rejected";

impl Db {
    /// Starts the job of an import named `id`, into `entity`, by `owner`: registered among
    /// the running ones of `jobs` (with its `place` among those that may run at once) and
    /// recorded in the table of imports. `None` when an import is named `id` already.
    pub async fn start_import(
        &self,
        jobs: &Arc<Jobs>,
        id: &str,
        entity: &str,
        owner: Option<String>,
        place: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<Option<(Arc<Job>, JobContext)>, Error> {
        let started_at = now_millis();
        let progress = Arc::new(Progress::default());
        let job = Arc::new(Job {
            id: id.to_owned(),
            entity: entity.to_owned(),
            owner: owner.clone(),
            started_at,
            progress: progress.clone(),
            place,
        });
        // The registry answers at once for two requests of one id; the table for imports
        // of other instances and of the past.
        if !jobs.add(job.clone()) {
            return Ok(None);
        }
        let recorded = match self.job(id).await {
            Ok(Some(_)) => Ok(false),
            Ok(None) => self
                .job_start(id, entity, owner.as_deref(), started_at)
                .await
                .map(|()| true),
            Err(error) => Err(error),
        };
        if !matches!(recorded, Ok(true)) {
            jobs.remove(id);
            return recorded.map(|_| None);
        }
        let context = JobContext {
            id: id.to_owned(),
            progress,
            jobs: jobs.clone(),
        };
        Ok(Some((job, context)))
    }

    /// Creates the table if it is not there.
    pub async fn ensure_imports_table(&self) -> Result<(), Error> {
        self.execute_script(self.dialect().imports_table()).await
    }

    /// Records an import that starts.
    pub async fn job_start(
        &self,
        id: &str,
        entity: &str,
        owner: Option<&str>,
        now: i64,
    ) -> Result<(), Error> {
        let mut binds = vec![
            Value::Text(id.to_owned()),
            Value::Text(entity.to_owned()),
            owner.map_or(Value::Null(crate::schema::Kind::Text), |o| {
                Value::Text(o.to_owned())
            }),
            Value::Text("running".into()),
        ];
        binds.extend(values(Counts::default()));
        binds.extend([Value::Int(0), Value::Int(now), Value::Int(now)]);
        let text = format!(
            "INSERT INTO autoadmin_imports ({}) VALUES ({}, NULL, NULL)",
            COLUMNS,
            self.placeholders(1, binds.len())
        );
        self.job_execute(Sql::new(text, binds)).await
    }

    /// Records an import's counts; answers whether someone asked to cancel it.
    pub async fn job_progress(&self, id: &str, counts: Counts, now: i64) -> Result<bool, Error> {
        let mut text = "UPDATE autoadmin_imports SET rows_read = ".to_owned();
        let mut binds: Vec<Value> = Vec::new();
        for (i, (column, value)) in ["rows_read", "inserted", "updated", "unchanged", "failed"]
            .into_iter()
            .zip(values(counts))
            .enumerate()
        {
            if i > 0 {
                text.push_str(&format!(", {column} = "));
            }
            binds.push(value);
            self.dialect().placeholder(binds.len(), &mut text);
        }
        text.push_str(", updated_at = ");
        binds.push(Value::Int(now));
        self.dialect().placeholder(binds.len(), &mut text);
        text.push_str(" WHERE id = ");
        binds.push(Value::Text(id.to_owned()));
        self.dialect().placeholder(binds.len(), &mut text);
        self.job_execute(Sql::new(text, binds)).await?;
        Ok(self.job(id).await?.is_some_and(|job| job.cancel_requested))
    }

    /// Records how an import ended: its status, counts, report and rejected rows.
    pub async fn job_finish(
        &self,
        id: &str,
        status: &str,
        counts: Counts,
        report: &Json,
        rejected: Option<String>,
        now: i64,
    ) -> Result<(), Error> {
        let mut binds = vec![Value::Text(status.to_owned())];
        binds.extend(values(counts));
        binds.extend([
            Value::Int(now),
            Value::Text(report.to_string()),
            rejected.map_or(Value::Null(crate::schema::Kind::Text), Value::Text),
            Value::Text(id.to_owned()),
        ]);
        let mut text = String::from("UPDATE autoadmin_imports SET ");
        let columns = [
            "status",
            "rows_read",
            "inserted",
            "updated",
            "unchanged",
            "failed",
            "updated_at",
            "report",
            "rejected",
        ];
        for (n, column) in columns.iter().enumerate() {
            if n > 0 {
                text.push_str(", ");
            }
            text.push_str(column);
            text.push_str(" = ");
            self.dialect().placeholder(n + 1, &mut text);
        }
        text.push_str(" WHERE id = ");
        self.dialect().placeholder(columns.len() + 1, &mut text);
        self.job_execute(Sql::new(text, binds)).await
    }

    /// Asks the instance that runs an import to cancel it; `false` if it is not running.
    pub async fn job_request_cancel(&self, id: &str) -> Result<bool, Error> {
        let mut text =
            "UPDATE autoadmin_imports SET cancel_requested = 1 WHERE status = 'running' AND id = "
                .to_owned();
        self.dialect().placeholder(1, &mut text);
        self.job_execute(Sql::new(text, vec![Value::Text(id.to_owned())]))
            .await?;
        Ok(self
            .job(id)
            .await?
            .is_some_and(|job| job.status == "running"))
    }

    /// Marks failed the imports still running whose row has not moved since `before`: their
    /// server stopped.
    pub async fn jobs_fail_stale(&self, before: i64) -> Result<(), Error> {
        let mut text = "UPDATE autoadmin_imports SET status = 'failed' \
                        WHERE status = 'running' AND updated_at < "
            .to_owned();
        self.dialect().placeholder(1, &mut text);
        self.job_execute(Sql::new(text, vec![Value::Int(before)]))
            .await
    }

    /// The row of import `id`.
    pub async fn job(&self, id: &str) -> Result<Option<JobRow>, Error> {
        let mut text = format!("SELECT {COLUMNS} FROM autoadmin_imports WHERE id = ");
        self.dialect().placeholder(1, &mut text);
        let sql = Sql::new(text, vec![Value::Text(id.to_owned())]);
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| async {
            let mut rows = conn.fetch(&sql);
            match rows.try_next().await? {
                Some(row) => job_row(&row).map(Some),
                None => Ok(None),
            }
        })
    }

    /// The latest `limit` imports that `owner` may see (theirs, and those of nobody: an open
    /// server's, the command line's without a user), newest first, into `entity` if given;
    /// without their reports and rejected rows (`rejected` is only whether there are some).
    pub async fn jobs(
        &self,
        owner: Option<&str>,
        entity: Option<&str>,
        limit: u64,
    ) -> Result<Vec<JobRow>, Error> {
        let columns = COLUMNS.replace(
            "report, rejected",
            "NULL AS report, CASE WHEN rejected IS NULL THEN NULL ELSE '' END AS rejected",
        );
        let mut text = format!("SELECT {columns} FROM autoadmin_imports WHERE (owner IS NULL");
        let mut binds = Vec::new();
        if let Some(owner) = owner {
            binds.push(Value::Text(owner.to_owned()));
            text.push_str(" OR owner = ");
            self.dialect().placeholder(binds.len(), &mut text);
        }
        text.push(')');
        if let Some(entity) = entity {
            binds.push(Value::Text(entity.to_owned()));
            text.push_str(" AND entity = ");
            self.dialect().placeholder(binds.len(), &mut text);
        }
        text.push_str(" ORDER BY started_at DESC, id DESC LIMIT ");
        binds.push(Value::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        self.dialect().placeholder(binds.len(), &mut text);
        let sql = Sql::new(text, binds);
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| async {
            let mut rows = conn.fetch(&sql);
            let mut jobs = Vec::new();
            while let Some(row) = rows.try_next().await? {
                jobs.push(job_row(&row)?);
            }
            Ok(jobs)
        })
    }

    /// `n` placeholders from the `first`, separated by commas.
    fn placeholders(&self, first: usize, n: usize) -> String {
        let mut text = String::new();
        for i in first..first + n {
            if i > first {
                text.push_str(", ");
            }
            self.dialect().placeholder(i, &mut text);
        }
        text
    }

    /// Runs a statement on the table.
    async fn job_execute(&self, sql: Sql) -> Result<(), Error> {
        let unavailable = |err: sqlx::Error| Error::Unavailable(err.to_string());
        read!(self, unavailable, |conn| async {
            conn.execute(&sql).await.map(drop)
        })
    }
}

/// A row of the table, its columns in [`COLUMNS`]'s order.
fn job_row(row: &super::driver::Row) -> Result<JobRow, sqlx::Error> {
    let text = |i| -> Result<Option<String>, sqlx::Error> {
        Ok(row.decode(i, FieldType::Text)?.as_str().map(str::to_owned))
    };
    let number = |i| -> Result<i64, sqlx::Error> {
        Ok(row.decode(i, FieldType::Integer)?.as_i64().unwrap_or(0))
    };
    let count = |i| number(i).map(|n| u64::try_from(n).unwrap_or(0));
    Ok(JobRow {
        id: text(0)?.unwrap_or_default(),
        entity: text(1)?.unwrap_or_default(),
        owner: text(2)?,
        status: text(3)?.unwrap_or_default(),
        counts: Counts {
            rows: count(4)?,
            inserted: count(5)?,
            updated: count(6)?,
            unchanged: count(7)?,
            failed: count(8)?,
        },
        cancel_requested: number(9)? != 0,
        started_at: number(10)?,
        updated_at: number(11)?,
        report: text(12)?.and_then(|t| serde_json::from_str(&t).ok()),
        rejected: text(13)?,
    })
}
