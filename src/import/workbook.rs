//! An Excel workbook's sheet as rows of text cells, for an import: a cell reads as its text
//! in a CSV export would (numbers as written, whole numbers without a fraction, dates
//! `YYYY-MM-DD`, date and time `YYYY-MM-DDTHH:MM:SS`, times `HH:MM:SS`, booleans
//! `true`/`false`), so that the same rules judge both kinds of file.
//!
//! A workbook is a ZIP archive, which can unpack to far more than its size (a "zip bomb"),
//! and whose parts can say they are smaller than they are. Before the reader (calamine)
//! opens it, [`check`] reads the archive's directory and unpacks each XML part once, counting:
//! too many parts, parts that unpack to more than they say or than [`Bounds`] allow, or a
//! text run longer than a row may be, and the workbook is refused before anything is held.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};

use calamine::{Data, DataRef, Reader, Xlsx};
use futures_util::StreamExt;

use super::csv::{CsvError, Limits, Row};
use super::{Rows, SourceError};

/// What a workbook may unpack to.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// All its XML parts together.
    pub unpacked: u64,
    /// The shared strings, which the reader holds in memory.
    pub strings: u64,
    /// Parts in the archive.
    pub parts: u64,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            unpacked: 4 << 30,
            strings: 128 << 20,
            parts: 10_000,
        }
    }
}

/// How many cells are sent on at a time.
const CHUNK_CELLS: usize = 16 * 1024;

/// The rows of the sheet named `sheet` (or the first) of the workbook in `file`, read on a
/// blocking thread (the reader is synchronous) a chunk at a time, as the import takes them.
pub fn rows(file: File, sheet: Option<String>, limits: Limits, bounds: Bounds) -> Rows {
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let task = tokio::task::spawn_blocking(move || {
        if let Err(error) = read(file, sheet, limits, bounds, &sender) {
            let _ = sender.blocking_send(Err(error));
        }
    });
    // The reading thread is owned by the stream: it ends when the stream is dropped (its
    // next send fails) and is awaited when the rows are all read.
    futures_util::stream::unfold((receiver, Some(task)), |(mut receiver, task)| async move {
        match receiver.recv().await {
            Some(chunk) => Some((chunk, (receiver, task))),
            None => {
                if let Some(task) = task
                    && let Err(error) = task.await
                {
                    let error = SourceError::Workbook(format!("the reader failed: {error}"));
                    return Some((Err(error), (receiver, None)));
                }
                None
            }
        }
    })
    .boxed()
}

type Sender = tokio::sync::mpsc::Sender<Result<Vec<Row>, SourceError>>;

fn read(
    mut file: File,
    sheet: Option<String>,
    limits: Limits,
    bounds: Bounds,
    sender: &Sender,
) -> Result<(), SourceError> {
    check(&mut file, bounds, limits.max_row_bytes, &|| {
        sender.is_closed()
    })?;
    if sender.is_closed() {
        // The import ended (cancelled, or the server stops): nothing more to read.
        return Ok(());
    }
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let mut workbook: Xlsx<_> = Xlsx::new(BufReader::new(file)).map_err(broken)?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(name) if names.contains(&name) => name,
        Some(name) => {
            return Err(SourceError::Workbook(format!(
                "the workbook has no sheet named \"{name}\"; its sheets: {}",
                names.join(", ")
            )));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| SourceError::Workbook("the workbook has no sheet".into()))?,
    };
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(broken)?;
    let mut rows = Chunk::default();
    let mut row: Option<(u64, Vec<String>, usize)> = None;
    while let Some(cell) = cells.next_cell().map_err(broken)? {
        let (at, column) = cell.get_position();
        let number = u64::from(at) + 1;
        let column = column as usize;
        let text = text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        if row.as_ref().is_some_and(|(n, _, _)| *n != number) {
            rows.push(row.take());
        }
        let (_, texts, bytes) = row.get_or_insert_with(|| (number, Vec::new(), 0));
        if column >= limits.max_cells {
            return Err(CsvError::TooManyCells {
                row: number,
                max: limits.max_cells,
            }
            .into());
        }
        *bytes += text.len();
        if *bytes > limits.max_row_bytes {
            return Err(CsvError::RowTooLong {
                row: number,
                max: limits.max_row_bytes,
            }
            .into());
        }
        if texts.len() <= column {
            texts.resize(column + 1, String::new());
        }
        texts[column] = text;
        if rows.cells >= CHUNK_CELLS && sender.blocking_send(Ok(rows.take())).is_err() {
            // Nobody reads on: the import ended.
            return Ok(());
        }
    }
    rows.push(row.take());
    if !rows.rows.is_empty() {
        let _ = sender.blocking_send(Ok(rows.take()));
    }
    Ok(())
}

/// The rows read and not yet sent on.
#[derive(Default)]
struct Chunk {
    rows: Vec<Row>,
    cells: usize,
    /// The header row's width, once it is read.
    width: Option<usize>,
}

impl Chunk {
    /// Adds a finished row. A sheet leaves out the empty cells at a row's end: a row's
    /// missing cells are empty ones, up to the header row's width (a row with a value beyond
    /// it keeps its length, which the import reports).
    fn push(&mut self, row: Option<(u64, Vec<String>, usize)>) {
        let Some((number, mut texts, _)) = row else {
            return;
        };
        let width = *self.width.get_or_insert(texts.len());
        if texts.len() < width {
            texts.resize(width, String::new());
        }
        self.cells += texts.len();
        self.rows.push((number, texts));
    }

    fn take(&mut self) -> Vec<Row> {
        self.cells = 0;
        std::mem::take(&mut self.rows)
    }
}

/// A cell's text, as an export would have written it.
fn text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(text) => text.clone(),
        DataRef::SharedString(text) => (*text).to_owned(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) => number(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(moment) => {
            let value = moment.as_f64();
            match moment.as_datetime() {
                Some(at) if moment.is_datetime() => {
                    let time = at.time();
                    if (0.0..1.0).contains(&value) {
                        time.format("%H:%M:%S%.f").to_string()
                    } else if time == chrono::NaiveTime::MIN {
                        at.date().format("%Y-%m-%d").to_string()
                    } else {
                        at.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
                    }
                }
                _ => number(value),
            }
        }
        DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.clone(),
        DataRef::Error(error) => Data::Error(error.clone()).to_string(),
    }
}

/// A number as it reads: whole ones without a fraction.
fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// Refuses a workbook that would unpack to more than `bounds` allow, whose parts are not what
/// they say, or that holds a text run longer than `max_run` bytes; reads the archive's
/// directory (bounded first by its declared size) and unpacks each XML part once, unless
/// `stopped` says nobody waits for it any more (then it ends at once, with `Ok`).
pub fn check(
    file: &mut File,
    bounds: Bounds,
    max_run: usize,
    stopped: &dyn Fn() -> bool,
) -> Result<(), SourceError> {
    directory_size(file, bounds)?;
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let mut archive = zip::ZipArchive::new(BufReader::new(&mut *file)).map_err(|error| {
        SourceError::Workbook(format!("the file is not an Excel workbook (XLSX): {error}"))
    })?;
    // What the parts say they unpack to, first: an honest bomb is refused unread.
    let mut declared_total = 0u64;
    for index in 0..archive.len() {
        let part = archive.by_index_raw(index).map_err(|error| {
            SourceError::Workbook(format!("the workbook cannot be read: {error}"))
        })?;
        let strings = part
            .name()
            .to_ascii_lowercase()
            .ends_with("sharedstrings.xml");
        declared_total = declared_total.saturating_add(part.size());
        if strings && part.size() > bounds.strings {
            return Err(SourceError::Unpacked {
                max: bounds.strings,
            });
        }
    }
    if declared_total > bounds.unpacked {
        return Err(SourceError::Unpacked {
            max: bounds.unpacked,
        });
    }
    let mut total = 0u64;
    let mut buffer = vec![0u8; 64 * 1024];
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).map_err(|error| {
            SourceError::Workbook(format!("the workbook cannot be read: {error}"))
        })?;
        let name = part.name().to_ascii_lowercase();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let declared = part.size();
        let bound = if name.ends_with("sharedstrings.xml") {
            bounds.strings
        } else {
            bounds.unpacked
        };
        let mut unpacked = 0u64;
        let mut run = 0usize;
        loop {
            if stopped() {
                return Ok(());
            }
            let n = part.read(&mut buffer).map_err(|error| {
                SourceError::Workbook(format!("the workbook's part {name} is broken: {error}"))
            })?;
            if n == 0 {
                break;
            }
            unpacked += n as u64;
            total += n as u64;
            if unpacked > declared {
                return Err(SourceError::Workbook(format!(
                    "the workbook's part {name} unpacks to more than it says: refused"
                )));
            }
            if unpacked > bound || total > bounds.unpacked {
                return Err(SourceError::Unpacked {
                    max: bound.min(bounds.unpacked),
                });
            }
            run = longest_run(&buffer[..n], run, max_run).map_err(|()| {
                SourceError::Workbook(format!(
                    "the workbook's part {name} holds a text longer than {max_run} bytes"
                ))
            })?;
        }
    }
    Ok(())
}

/// Follows the longest stretch between two markup characters across `bytes` (`run`: the
/// stretch open at its start); the open stretch at its end, or `Err` past `max`.
fn longest_run(bytes: &[u8], mut run: usize, max: usize) -> Result<usize, ()> {
    let mut start = 0;
    for at in memchr::memchr2_iter(b'<', b'>', bytes) {
        run += at - start;
        if run > max {
            return Err(());
        }
        run = 0;
        start = at + 1;
    }
    run += bytes.len() - start;
    if run > max { Err(()) } else { Ok(run) }
}

/// Bounds the archive's directory before it is read (every part has an entry there, which
/// the reader holds): the end record's count of parts and size of the directory.
fn directory_size(file: &mut File, bounds: Bounds) -> Result<(), SourceError> {
    let length = file.seek(SeekFrom::End(0)).map_err(read_error)?;
    let tail = length.min(66_000);
    file.seek(SeekFrom::Start(length - tail))
        .map_err(read_error)?;
    let mut bytes = Vec::with_capacity(tail as usize);
    file.take(tail)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let end = bytes
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .ok_or_else(|| {
            SourceError::Workbook(
                "the file is not an Excel workbook (XLSX): no ZIP directory".into(),
            )
        })?;
    let record = &bytes[end..];
    if record.len() < 22 {
        return Err(SourceError::Workbook(
            "the workbook's ZIP directory is cut short".into(),
        ));
    }
    let parts = u16::from_le_bytes([record[10], record[11]]);
    let size = u32::from_le_bytes([record[12], record[13], record[14], record[15]]);
    if u64::from(parts) > bounds.parts || parts == 0xFFFF || u64::from(size) > bounds.parts * 1024 {
        return Err(SourceError::Workbook(format!(
            "the workbook has more than {} parts: refused",
            bounds.parts
        )));
    }
    Ok(())
}

fn broken(error: calamine::XlsxError) -> SourceError {
    SourceError::Workbook(format!("the workbook cannot be read: {error}"))
}

fn read_error(error: std::io::Error) -> SourceError {
    SourceError::Read(error.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn workbook_file(parts: &[(&str, Vec<u8>)]) -> File {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in parts {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        file
    }

    #[test]
    fn a_workbook_past_its_bounds_is_refused_from_its_directory() {
        let bounds = Bounds {
            unpacked: 1 << 20,
            strings: 64 << 10,
            parts: 3,
        };
        let sheet = b"<x/>".repeat(300 << 10);
        let mut big = workbook_file(&[("xl/worksheets/sheet1.xml", sheet)]);
        assert_eq!(
            check(&mut big, bounds, 1024, &|| false),
            Err(SourceError::Unpacked { max: 1 << 20 })
        );
        let strings = b"<si/>".repeat(20 << 10);
        let mut many = workbook_file(&[("xl/sharedStrings.xml", strings)]);
        assert_eq!(
            check(&mut many, bounds, 1024, &|| false),
            Err(SourceError::Unpacked { max: 64 << 10 })
        );
        let parts: Vec<(String, Vec<u8>)> = (0..4)
            .map(|i| (format!("{i}.xml"), b"<a/>".to_vec()))
            .collect();
        let parts: Vec<(&str, Vec<u8>)> =
            parts.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        let Err(SourceError::Workbook(message)) =
            check(&mut workbook_file(&parts), bounds, 1024, &|| false)
        else {
            panic!("four parts of three");
        };
        assert!(message.contains("more than 3 parts"), "{message}");
        let fine = workbook_file(&[("a.xml", b"<a>text</a>".to_vec())]);
        assert_eq!(
            check(&mut fine.try_clone().unwrap(), bounds, 4, &|| false),
            Ok(())
        );
        assert!(check(&mut fine.try_clone().unwrap(), bounds, 3, &|| false).is_err());
        // Nobody waits any more: it stops before it unpacks anything.
        assert_eq!(
            check(&mut fine.try_clone().unwrap(), bounds, 3, &|| true),
            Ok(())
        );
    }

    #[test]
    fn a_text_run_is_followed_across_reads() {
        assert_eq!(longest_run(b"ab<c>de", 0, 10), Ok(2));
        assert_eq!(longest_run(b"fgh", 2, 10), Ok(5));
        assert_eq!(longest_run(b"fgh<", 8, 10), Err(()));
        assert_eq!(longest_run(b"<>", 9, 10), Ok(0));
    }

    #[test]
    fn cells_read_as_an_export_writes_them() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let moment = |value| {
            DataRef::DateTime(ExcelDateTime::new(
                value,
                ExcelDateTimeType::DateTime,
                false,
            ))
        };
        assert_eq!(text(&moment(45352.0)), "2024-03-01");
        assert_eq!(text(&moment(45352.5)), "2024-03-01T12:00:00");
        assert_eq!(text(&moment(45_352.000_011_574)), "2024-03-01T00:00:01");
        assert_eq!(text(&moment(0.75)), "18:00:00");
        assert_eq!(text(&DataRef::Float(3.0)), "3");
        assert_eq!(text(&DataRef::Float(-0.25)), "-0.25");
        assert_eq!(text(&DataRef::Float(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(text(&DataRef::Bool(false)), "false");
        assert_eq!(
            text(&DataRef::Error(calamine::CellErrorType::Div0)),
            "#DIV/0!"
        );
    }
}
