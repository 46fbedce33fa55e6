//! What an import did, row by row: the counts a person checks and the errors they fix. The
//! same report answers a dry run (what would happen), a finished import, and a failed one.

use serde::Serialize;

use crate::query::{ImportOptions, OnError};

/// At most this many errors are listed; the counts go on.
pub const MAX_ERRORS: usize = 1000;

/// One thing wrong with one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowError {
    /// As a spreadsheet numbers it: the header is row 1.
    pub row: u64,
    /// The column, as the header row names it (none: the row as a whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// Rows read, inserted, updated, unchanged and failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
}

/// The outcome of an import.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    pub mode: &'static str,
    pub on_error: &'static str,
    pub dry_run: bool,
    /// Rows read (the header and empty rows aside).
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Rows whose record already held every value.
    pub unchanged: u64,
    pub failed: u64,
    /// Whether the rows counted as inserted and updated are stored: false after a dry run
    /// and after an `abort` import with a failed row.
    pub committed: bool,
    /// The first [`MAX_ERRORS`] errors, in row order.
    pub errors: Vec<RowError>,
    /// Errors beyond those listed.
    pub more_errors: u64,
    /// Why the import stopped before the end of its file (cancelled, the file broken, the
    /// database gone): what is above is what was done until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// With `preview`: the header row's cells, as read (what a workbook's columns are, for
    /// a client that cannot read the file itself).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// With `preview`: the first rows as they would be stored (`{row, action, record}`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<serde_json::Value>,
}

impl Report {
    pub fn new(options: &ImportOptions) -> Report {
        Report {
            mode: options.mode.name(),
            on_error: options.on_error.name(),
            dry_run: options.dry_run,
            ..Report::default()
        }
    }

    pub fn counts(&self) -> Counts {
        Counts {
            rows: self.rows,
            inserted: self.inserted,
            updated: self.updated,
            unchanged: self.unchanged,
            failed: self.failed,
        }
    }

    /// Records a failed row with its errors.
    pub fn fail(&mut self, errors: impl IntoIterator<Item = RowError>) {
        self.failed += 1;
        for error in errors {
            if self.errors.len() < MAX_ERRORS {
                self.errors.push(error);
            } else {
                self.more_errors += 1;
            }
        }
    }

    /// What a failed `abort` import says: how many rows, and that nothing was written.
    pub fn refusal(&self) -> String {
        match self.failed {
            1 => "1 row is invalid: nothing was written".to_owned(),
            n => format!("{n} rows are invalid: nothing was written"),
        }
    }

    /// Whether an `abort` import has failed (nothing more is written).
    pub fn aborted(&self) -> bool {
        self.on_error == OnError::Abort.name() && self.failed > 0
    }
}
