//! Excel workbooks (XLSX) written as a stream for `GET /{entity}/export.xlsx` ([`write`],
//! over a streamed ZIP archive, [`zip`]). Imports read workbooks in `import::workbook`.

pub mod write;
mod zip;

pub use write::{Kind, MAX_ROWS, Workbook};

/// The media type of an Excel workbook.
pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
