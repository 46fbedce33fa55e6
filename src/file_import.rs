//! Imports from files on disk (`autoadmin import`, for files too big for a browser): the
//! same checks, report, audit and job (`GET /_imports/{id}`) as `POST /{entity}/import`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::import::{Progress, Report, csv_rows, workbook_rows};
use crate::{Admin, db, import, query};

/// An import of a file as it runs.
pub struct FileImport {
    /// Its id (its job's: `GET /_imports/{id}`).
    pub id: String,
    /// Its counts so far.
    pub progress: Arc<Progress>,
    /// Bytes of the file read so far, of `size`.
    pub read: Arc<AtomicU64>,
    pub size: u64,
    /// Its end: the report, or why it stopped.
    pub outcome: tokio::task::JoinHandle<Result<Report, db::ImportError>>,
}

impl Admin {
    /// Starts importing the CSV file or Excel workbook (XLSX) at `path` into `entity`, with
    /// the options of an import's query string (`mode=upsert&on_error=skip`…), as `user` (whom the audit log
    /// names). The error says what is wrong with the request (entity, options, file).
    pub async fn import_file(
        &self,
        entity: &str,
        query_string: &str,
        path: &Path,
        user: Option<String>,
    ) -> Result<FileImport, String> {
        let target = db::EntityRef::new(self.schema(), entity)
            .filter(|e| !e.per_user)
            .ok_or_else(|| format!("unknown entity \"{entity}\""))?;
        if target.read_only {
            return Err(format!("entity \"{entity}\" is read-only"));
        }
        let options = query::parse_import(&target, query_string).map_err(|e| e.to_string())?;
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let limits = import::csv::Limits::default();
        let (source, read) = if import::file::is_workbook(path)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?
        {
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            // A workbook is read from its directory at the end: no part of it is read in
            // order, so the bar stands full and the counts of rows go on.
            let source = workbook_rows(file, options.sheet.clone(), limits);
            (source, Arc::new(AtomicU64::new(size)))
        } else {
            let (chunks, read) = import::file::chunks(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            (csv_rows(chunks, options.delimiter, limits, u64::MAX), read)
        };
        let id = format!("cli-{}", uuid::Uuid::now_v7().simple());
        let started = self
            .db()
            .start_import(&self.state.jobs, &id, entity, user.clone(), None);
        let (job, context) = started
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("an import is named {id} already"))?;
        let progress = job.progress.clone();
        let actor = db::Actor {
            user,
            request_id: Some(id.clone()),
        };
        let db = self.db().clone();
        let outcome =
            tokio::spawn(async move { db.import(target, options, source, actor, context).await });
        Ok(FileImport {
            id,
            progress,
            read,
            size,
            outcome,
        })
    }
}
