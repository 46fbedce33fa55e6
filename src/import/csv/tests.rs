use proptest::prelude::*;

use super::*;

/// Every row of `file`, fed in chunks of `size` bytes.
fn read(
    file: &[u8],
    size: usize,
    delimiter: Option<u8>,
    limits: Limits,
) -> Result<Vec<Row>, CsvError> {
    let mut reader = CsvReader::new(delimiter, limits);
    let mut rows = Vec::new();
    for chunk in file.chunks(size.max(1)) {
        rows.extend(reader.push(chunk)?);
    }
    rows.extend(reader.finish()?);
    Ok(rows)
}

fn cells(rows: &[Row]) -> Vec<Vec<&str>> {
    rows.iter()
        .map(|(_, cells)| cells.iter().map(String::as_str).collect())
        .collect()
}

#[test]
fn what_excel_and_the_export_write_reads_back_in_any_chunking() {
    // A byte order mark, `;` (Excel where decimals take a comma), CRLF, a quoted cell with
    // the delimiter, a quote and a line break, a comma that is no delimiter here, no line
    // break after the last row.
    let file = "\u{feff}Id;Title;Rating\r\n1;\"Crème; \"\"brûlée\"\"\r\nhot\";3,5\r\n2;'=1+2;\r\n3;plain;4";
    for size in 1..=file.len() {
        let rows = read(file.as_bytes(), size, None, Limits::default()).unwrap();
        assert_eq!(
            cells(&rows),
            [
                vec!["Id", "Title", "Rating"],
                vec!["1", "Crème; \"brûlée\"\r\nhot", "3,5"],
                vec!["2", "'=1+2", ""],
                vec!["3", "plain", "4"],
            ],
            "chunks of {size}"
        );
        assert_eq!(
            rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }
}

#[test]
fn the_delimiter_is_the_one_the_header_line_uses_most_outside_quotes() {
    let first = |file: &str| {
        let mut reader = CsvReader::new(None, Limits::default());
        let rows = reader.push(file.as_bytes()).unwrap();
        (
            reader.delimiter().map(char::from),
            rows.first().map(|(_, c)| c.len()),
        )
    };
    assert_eq!(first("a,b,c\n1,2,3\n"), (Some(','), Some(3)));
    assert_eq!(first("a;b;c\n"), (Some(';'), Some(3)));
    assert_eq!(first("a\tb\tc\n"), (Some('\t'), Some(3)));
    // Commas inside a quoted label do not count.
    assert_eq!(
        first("\"Price, EUR\";\"Qty, kg\";Name\n"),
        (Some(';'), Some(3))
    );
    // One column: a comma, as RFC 4180 says.
    assert_eq!(first("name\nAnn\n"), (Some(','), Some(1)));
    // Not yet known before the header line has ended.
    let mut reader = CsvReader::new(None, Limits::default());
    assert!(reader.push(b"a;b").unwrap().is_empty());
    assert_eq!(reader.delimiter(), None);
    assert_eq!(
        cells(&reader.push(b";c\r\n1;2;3\r\n").unwrap()),
        [vec!["a", "b", "c"], vec!["1", "2", "3"]]
    );
    // Given, it is not guessed.
    let rows = read(b"a;b,c\n", 3, Some(b','), Limits::default()).unwrap();
    assert_eq!(cells(&rows), [vec!["a;b", "c"]]);
}

#[test]
fn utf_16_and_bytes_that_are_not_utf_8_are_refused_with_their_row() {
    assert_eq!(
        read(b"\xFF\xFEa\x00", 4, None, Limits::default()),
        Err(CsvError::Utf16)
    );
    assert_eq!(
        read(b"name\nAnn\nCaf\xE9\n", 5, None, Limits::default()),
        Err(CsvError::NotUtf8 { row: 3 })
    );
}

#[test]
fn a_quote_left_open_is_refused_at_the_row_bound_not_read_whole() {
    let limits = Limits {
        max_row_bytes: 1000,
        max_cells: 10,
    };
    let mut reader = CsvReader::new(None, limits);
    reader.push(b"a,b\n1,\"never closed\n").unwrap();
    let line = [b'x'; 100];
    let mut refused = None;
    for _ in 0..100 {
        if let Err(error) = reader.push(&line) {
            refused = Some(error);
            break;
        }
    }
    assert_eq!(refused, Some(CsvError::RowTooLong { row: 2, max: 1000 }));
    // Ending inside quotes (which csv-core would read as closed) names the row they open.
    assert_eq!(
        read(b"a,b\n1,\"x\"\"y\"\n2,\"open\nz\n", 5, None, limits),
        Err(CsvError::OpenQuote { row: 3 })
    );
    assert_eq!(
        read(b"a\n5\" screen\n", 5, None, limits).map(|r| r.len()),
        Ok(2)
    );
    assert!(reader.out.len() <= 1000);
    let mut wide = b"a\n".to_vec();
    wide.extend(std::iter::repeat_n(b',', 20));
    assert_eq!(
        read(&wide, 7, None, limits),
        Err(CsvError::TooManyCells { row: 2, max: 10 })
    );
}

#[test]
fn an_empty_file_has_no_rows() {
    assert!(read(b"", 1, None, Limits::default()).unwrap().is_empty());
    assert!(read(BOM, 1, None, Limits::default()).unwrap().is_empty());
}

/// A cell as RFC 4180 writes it with `delimiter`: quoted when it must be.
fn quote(cell: &str, delimiter: char) -> String {
    if cell.contains([delimiter, '"', '\r', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

proptest! {
    /// Whatever the cells, the delimiter and the chunking, a file written by RFC 4180 reads
    /// back as written (a header of plain names, so that detection has something to go by).
    #[test]
    fn any_cells_read_back(
        rows in prop::collection::vec(prop::collection::vec(".{0,12}", 3), 0..8),
        delimiter in prop::sample::select(vec![',', ';', '\t']),
        size in 1usize..40,
        bom: bool,
    ) {
        let mut file = if bom { "\u{feff}".to_owned() } else { String::new() };
        let header = ["a", "b", "c"];
        file.push_str(&header.join(&delimiter.to_string()));
        for row in &rows {
            file.push_str("\r\n");
            let line: Vec<String> = row.iter().map(|cell| quote(cell, delimiter)).collect();
            file.push_str(&line.join(&delimiter.to_string()));
        }
        let read = read(file.as_bytes(), size, None, Limits::default()).unwrap();
        let mut expected = vec![header.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
        expected.extend(rows.iter().cloned());
        // A row of one empty cell per column still has its cells; only a wholly empty line
        // (which three cells never make) would be skipped.
        prop_assert_eq!(read.into_iter().map(|(_, cells)| cells).collect::<Vec<_>>(), expected);
    }

    /// Arbitrary bytes: rows or a refusal, never a panic, and never a row over the bound.
    #[test]
    fn any_bytes_are_read_or_refused(
        file in prop::collection::vec(any::<u8>(), 0..400),
        size in 1usize..50,
    ) {
        let limits = Limits { max_row_bytes: 64, max_cells: 8 };
        if let Ok(rows) = read(&file, size, None, limits) {
            for (_, cells) in rows {
                prop_assert!(cells.len() <= 8);
                prop_assert!(cells.iter().map(String::len).sum::<usize>() <= 64);
            }
        }
    }
}
