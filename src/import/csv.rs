//! CSV files as rows of text cells, read chunk by chunk as the body arrives (RFC 4180, with
//! what spreadsheets write besides): UTF-8 with or without a byte order mark; cells separated
//! by a comma, a semicolon (Excel where the decimal separator is a comma) or a tab, detected
//! from the header line; CRLF, LF or CR line ends. Memory is bounded by the longest row
//! allowed, however long the file: a quote left open, which makes the rest of a file one cell,
//! is refused at that bound, not read whole.

/// The separators a header line is searched for, in the order a tie is decided.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// How much of a file is read, at most, to find the header line's end.
const HEADER_SCAN: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file that cannot be read as CSV; the row is numbered as a spreadsheet numbers it (the
/// header is row 1), as long as no cell holds a line break.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CsvError {
    #[error("the file is UTF-16 text: save it as UTF-8 (\"CSV UTF-8\" in Excel)")]
    Utf16,
    #[error("row {row} is not UTF-8 text: save the file as UTF-8 (\"CSV UTF-8\" in Excel)")]
    NotUtf8 { row: u64 },
    #[error(
        "row {row} is longer than {max} bytes (a quote left open makes the rest of the file \
         one cell)"
    )]
    RowTooLong { row: u64, max: usize },
    #[error("row {row} has more than {max} cells")]
    TooManyCells { row: u64, max: usize },
    #[error("row {row} opens a quote that is never closed")]
    OpenQuote { row: u64 },
}

/// Where the reader is in a cell, to tell a file that ends inside quotes (which csv-core
/// reads as if they were closed) from one that does not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum InCell {
    #[default]
    CellStart,
    Unquoted,
    Quoted,
    /// A quote inside quotes: the end of them, or the first of two.
    ClosedOrDoubled,
}

/// Bounds on what one row may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_row_bytes: usize,
    pub max_cells: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_row_bytes: 1024 * 1024,
            max_cells: 1000,
        }
    }
}

/// Reads rows from the chunks it is given ([`CsvReader::push`], then [`CsvReader::finish`]).
pub struct CsvReader {
    limits: Limits,
    /// Set by the caller, or found in the header line.
    delimiter: Option<u8>,
    /// Until the delimiter is known: the start of the file, kept to be parsed once it is.
    head: Vec<u8>,
    /// Whether the start of the file (a byte order mark) has been looked at.
    started: bool,
    parser: Option<csv_core::Reader>,
    /// The current row's cells, back to back, and where each ends.
    out: Vec<u8>,
    out_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    /// The rows read so far.
    rows: u64,
    quote: InCell,
    /// The row where the last quoted cell opened.
    quote_row: u64,
}

/// One row: its number (the header is 1) and its cells.
pub type Row = (u64, Vec<String>);

impl CsvReader {
    /// A reader that finds the delimiter in the header line (`None`) or uses the one given.
    pub fn new(delimiter: Option<u8>, limits: Limits) -> CsvReader {
        CsvReader {
            limits,
            delimiter,
            head: Vec::new(),
            started: false,
            parser: None,
            out: vec![0; 4096.min(limits.max_row_bytes.max(1))],
            out_len: 0,
            ends: vec![0; 64.min(limits.max_cells.max(1))],
            ends_len: 0,
            rows: 0,
            quote: InCell::default(),
            quote_row: 0,
        }
    }

    /// The delimiter in use, once known.
    pub fn delimiter(&self) -> Option<u8> {
        self.parser.as_ref().and(self.delimiter)
    }

    /// Reads the rows that `chunk` completes.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Row>, CsvError> {
        if self.parser.is_none() {
            self.head.extend_from_slice(chunk);
            if !self.started {
                if self.head.len() < BOM.len() && BOM.starts_with(&self.head) {
                    return Ok(Vec::new());
                }
                self.started = true;
                if self.head.starts_with(b"\xFF\xFE") || self.head.starts_with(b"\xFE\xFF") {
                    return Err(CsvError::Utf16);
                }
                if self.head.starts_with(BOM) {
                    self.head.drain(..BOM.len());
                }
            }
            match self.delimiter {
                Some(_) => {}
                None => match header_end(&self.head) {
                    Some(end) => self.delimiter = Some(detect(&self.head[..end])),
                    None if self.head.len() >= HEADER_SCAN => {
                        self.delimiter = Some(detect(&self.head));
                    }
                    None => return Ok(Vec::new()),
                },
            }
            self.start_parser();
            let head = std::mem::take(&mut self.head);
            return self.parse(&head);
        }
        self.parse(chunk)
    }

    /// Reads what is left: the last row, if the file does not end with a line break.
    pub fn finish(&mut self) -> Result<Vec<Row>, CsvError> {
        let mut rows = Vec::new();
        if self.parser.is_none() {
            let head = std::mem::take(&mut self.head);
            if self.delimiter.is_none() {
                self.delimiter = Some(detect(&head));
            }
            self.start_parser();
            rows = self.parse(&head)?;
        }
        rows.extend(self.parse(&[])?);
        if self.quote == InCell::Quoted {
            return Err(CsvError::OpenQuote {
                row: self.quote_row,
            });
        }
        Ok(rows)
    }

    /// Follows the quotes of `bytes`, the next of the file.
    fn track(&mut self, bytes: &[u8]) {
        let delimiter = self.delimiter.unwrap_or(b',');
        let ends_cell = |b: u8| b == delimiter || b == b'\n' || b == b'\r';
        for &byte in bytes {
            self.quote = match (self.quote, byte) {
                (InCell::CellStart, b'"') => {
                    self.quote_row = self.rows + 1;
                    InCell::Quoted
                }
                (InCell::CellStart | InCell::Unquoted, b) if ends_cell(b) => InCell::CellStart,
                (InCell::CellStart | InCell::Unquoted, _) => InCell::Unquoted,
                (InCell::Quoted, b'"') => InCell::ClosedOrDoubled,
                (InCell::Quoted, _) => InCell::Quoted,
                (InCell::ClosedOrDoubled, b'"') => InCell::Quoted,
                (InCell::ClosedOrDoubled, b) if ends_cell(b) => InCell::CellStart,
                (InCell::ClosedOrDoubled, _) => InCell::Unquoted,
            };
        }
    }

    fn start_parser(&mut self) {
        let delimiter = self.delimiter.unwrap_or(b',');
        self.delimiter = Some(delimiter);
        self.parser = Some(csv_core::ReaderBuilder::new().delimiter(delimiter).build());
    }

    /// Parses `input` (empty: the end of the file), returning the rows it completes.
    fn parse(&mut self, mut input: &[u8]) -> Result<Vec<Row>, CsvError> {
        if self.parser.is_none() {
            return Ok(Vec::new());
        }
        let mut rows = Vec::new();
        loop {
            let Some(parser) = self.parser.as_mut() else {
                return Ok(rows);
            };
            let (result, read, written, ended) = parser.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.ends_len..],
            );
            let (consumed, rest) = input.split_at(read);
            input = rest;
            self.track(consumed);
            self.out_len += written;
            self.ends_len += ended;
            match result {
                csv_core::ReadRecordResult::InputEmpty => return Ok(rows),
                csv_core::ReadRecordResult::End => return Ok(rows),
                csv_core::ReadRecordResult::OutputFull => {
                    let max = self.limits.max_row_bytes;
                    if !grow(&mut self.out, max) {
                        let row = self.rows + 1;
                        return Err(CsvError::RowTooLong { row, max });
                    }
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let max = self.limits.max_cells;
                    if !grow(&mut self.ends, max) {
                        let row = self.rows + 1;
                        return Err(CsvError::TooManyCells { row, max });
                    }
                }
                csv_core::ReadRecordResult::Record => {
                    self.rows += 1;
                    let row = self.rows;
                    let mut cells = Vec::with_capacity(self.ends_len);
                    let mut start = 0;
                    for &end in &self.ends[..self.ends_len] {
                        let text = std::str::from_utf8(&self.out[start..end])
                            .map_err(|_| CsvError::NotUtf8 { row })?;
                        cells.push(text.to_owned());
                        start = end;
                    }
                    self.out_len = 0;
                    self.ends_len = 0;
                    rows.push((row, cells));
                }
            }
        }
    }
}

/// Doubles `buffer`, up to `max` elements; `false` if it holds that many already.
fn grow<T: Clone + Default>(buffer: &mut Vec<T>, max: usize) -> bool {
    if buffer.len() >= max {
        return false;
    }
    let grown = (buffer.len() * 2).min(max);
    buffer.resize(grown, T::default());
    true
}

/// Where the header line ends (its line break outside quotes), if `head` holds it.
fn header_end(head: &[u8]) -> Option<usize> {
    let mut quoted = false;
    head.iter().position(|&byte| {
        if byte == b'"' {
            quoted = !quoted;
        }
        !quoted && (byte == b'\n' || byte == b'\r')
    })
}

/// The separator the header line uses most, outside quotes (a comma if none: one column).
fn detect(line: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &byte in line {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = DELIMITERS.iter().position(|&d| d == byte) {
            counts[i] += 1;
        }
    }
    let mut best = 0;
    for (i, &count) in counts.iter().enumerate() {
        if count > counts[best] {
            best = i;
        }
    }
    DELIMITERS[best]
}

#[cfg(test)]
mod tests;
