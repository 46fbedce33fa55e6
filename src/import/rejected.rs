//! The rows an import rejected, as a CSV file to fix and import again: the file's header and
//! the rejected rows' cells as they were read, in the file's delimiter, with a byte order
//! mark (so that Excel reads it as UTF-8). Bounded: past [`MAX_ROWS`] rows or [`MAX_BYTES`],
//! the rest are counted, not kept.

/// At most this many rows are kept.
pub const MAX_ROWS: u64 = 10_000;
/// At most this many bytes are kept.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// The rejected rows so far.
#[derive(Debug)]
pub struct Rejected {
    csv: String,
    delimiter: char,
    /// Rows kept in `csv`.
    pub kept: u64,
    /// Rows rejected beyond those kept.
    pub left_out: u64,
}

impl Rejected {
    pub fn new(header: &[String], delimiter: u8) -> Rejected {
        let mut rejected = Rejected {
            csv: String::from("\u{feff}"),
            delimiter: char::from(delimiter),
            kept: 0,
            left_out: 0,
        };
        rejected.line(header);
        rejected
    }

    /// Adds a rejected row's cells.
    pub fn add(&mut self, cells: &[String]) {
        let size: usize = cells.iter().map(|c| c.len() + 3).sum();
        if self.kept >= MAX_ROWS || self.csv.len() + size > MAX_BYTES {
            self.left_out += 1;
            return;
        }
        self.kept += 1;
        self.line(cells);
    }

    /// The file, if any row was rejected.
    pub fn file(self) -> Option<String> {
        (self.kept > 0).then_some(self.csv)
    }

    fn line(&mut self, cells: &[String]) {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.csv.push(self.delimiter);
            }
            if cell.contains([self.delimiter, '"', '\n', '\r']) {
                self.csv.push('"');
                self.csv.push_str(&cell.replace('"', "\"\""));
                self.csv.push('"');
            } else {
                self.csv.push_str(cell);
            }
        }
        self.csv.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::csv::{CsvReader, Limits};

    #[test]
    fn the_rows_read_back_as_they_were() {
        let header = vec!["title".to_owned(), "body".to_owned()];
        let mut rejected = Rejected::new(&header, b';');
        let row = vec!["a;b".to_owned(), "say \"hi\"\r\nbye".to_owned()];
        rejected.add(&row);
        let file = rejected.file().unwrap();
        let mut reader = CsvReader::new(None, Limits::default());
        let mut rows = reader.push(file.as_bytes()).unwrap();
        rows.extend(reader.finish().unwrap());
        assert_eq!(rows, [(1, header), (2, row)]);
        assert_eq!(reader.delimiter(), Some(b';'));
    }

    #[test]
    fn past_the_bound_rows_are_counted_not_kept() {
        let mut rejected = Rejected::new(&["a".to_owned()], b',');
        for _ in 0..MAX_ROWS + 5 {
            rejected.add(&["x".to_owned()]);
        }
        assert_eq!((rejected.kept, rejected.left_out), (MAX_ROWS, 5));
        assert!(Rejected::new(&["a".to_owned()], b',').file().is_none());
    }
}
