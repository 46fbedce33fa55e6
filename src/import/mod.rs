//! Import of files into an entity (issue #18), the parts that know nothing of HTTP or SQL:
//! the CSV reader, which reads a file as it arrives, in chunks, into rows of text cells with
//! bounded memory whatever the file ([`csv`], [`source`]), and Excel workbooks' sheets, checked
//! against zip bombs first ([`workbook`]); where each column goes
//! ([`layout`]); a row's cells as the JSON body of a write ([`cells`]); and the report
//! ([`report`]), the rejected rows as a file to fix ([`rejected`]), and the imports running
//! on this instance ([`job`]). The db layer (`db/import.rs`) runs the rows through the writes.

pub mod cells;
pub mod csv;
pub mod file;
pub mod job;
pub mod layout;
pub mod rejected;
pub mod report;
pub mod source;
pub mod workbook;

pub use job::{Job, Jobs, Progress};
pub use layout::{Layout, Target};
pub use rejected::Rejected;
pub use report::{Counts, MAX_ERRORS, Report, RowError};
pub use source::{Format, Rows, Source, SourceError, csv_rows, file_rows, workbook_rows};
