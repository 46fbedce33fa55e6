//! Streamed bodies: `GET /{entity}/export.csv` and `export.xlsx`, and the JSON array of a list without paging
//! parameters. Rows are encoded batch by batch as the database sends them, so memory stays
//! flat however many rows there are.

use std::io;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use serde_json::Value as Json;

use crate::db::{Batches, Column, EntityRef};
use crate::query::CsvFormat;
use crate::schema::FieldType;
use crate::xlsx::{Kind, Workbook};

/// A JSON array of records whose fields are `names`, from `batches`.
pub fn json_array(names: Vec<String>, batches: Batches, request_id: String) -> Body {
    let mut first = true;
    let rows = batches.map(move |batch| {
        let batch = batch.map_err(|err| broken_stream(&request_id, &err))?;
        let mut out = Vec::with_capacity(batch.len() * 160);
        for values in batch {
            if !first {
                out.push(b',');
            }
            first = false;
            out.push(b'{');
            for (i, (name, value)) in names.iter().zip(&values).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut out, name).map_err(io::Error::other)?;
                out.push(b':');
                serde_json::to_writer(&mut out, value).map_err(io::Error::other)?;
            }
            out.push(b'}');
        }
        Ok::<_, io::Error>(Bytes::from(out))
    });
    let open = stream::once(async { Ok(Bytes::from_static(b"[")) });
    let close = stream::once(async { Ok(Bytes::from_static(b"]")) });
    Body::from_stream(open.chain(rows).chain(close).filter(non_empty).fuse())
}

/// An empty chunk can read as the end of the body to a layer below (compression): skip it.
fn non_empty(chunk: &Result<Bytes, io::Error>) -> std::future::Ready<bool> {
    std::future::ready(!matches!(chunk, Ok(bytes) if bytes.is_empty()))
}

/// The CSV response of an export: a header row of labels, then one line per row (RFC 4180,
/// CRLF; `;` between cells and a byte order mark first if `format` says so). References show
/// their display value; text cells that a spreadsheet would run as a formula are neutralised.
pub fn csv_response(
    entity: &EntityRef,
    columns: Vec<Column>,
    batches: Batches,
    format: CsvFormat,
    request_id: String,
) -> Response {
    let delimiter = format.delimiter;
    let (layout, labels) = layout(entity, &columns);
    let layout: Vec<(usize, bool)> = layout
        .into_iter()
        .map(|index| (index, columns[index].field_type.is_textual()))
        .collect();
    let mut header_line = String::new();
    if format.bom {
        header_line.push('\u{feff}');
    }
    for (i, label) in labels.into_iter().enumerate() {
        if i > 0 {
            header_line.push(delimiter);
        }
        push_cell(&mut header_line, label, true, delimiter);
    }
    header_line.push_str("\r\n");
    let rows = batches.map(move |batch| {
        let batch = batch.map_err(|err| broken_stream(&request_id, &err))?;
        let mut out = String::with_capacity(batch.len() * 128);
        for values in batch {
            for (n, (index, textual)) in layout.iter().enumerate() {
                if n > 0 {
                    out.push(delimiter);
                }
                push_value(&mut out, &values[*index], *textual, delimiter);
            }
            out.push_str("\r\n");
        }
        Ok::<_, io::Error>(Bytes::from(out))
    });
    let body = stream::once(async move { Ok(Bytes::from(header_line)) })
        .chain(rows)
        .filter(non_empty)
        .fuse();
    download(
        Body::from_stream(body),
        "text/csv; charset=utf-8",
        &format!("{}.csv", entity.name),
    )
}

/// A streamed file to save as `filename`.
fn download(body: Body, content_type: &'static str, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename=\"{filename}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Which column each cell of an exported row is taken from: a readable field's display
/// column if it has one (a reference shows its target's label), else its own; then the
/// many-to-many relations, the last columns. With the header of each.
fn layout<'a>(entity: &'a EntityRef, columns: &[Column]) -> (Vec<usize>, Vec<&'a str>) {
    let mut layout: Vec<usize> = entity
        .readable_fields()
        .enumerate()
        .map(|(i, field)| {
            columns
                .iter()
                .position(|c| c.shown.is_some() && c.field == field.name)
                .unwrap_or(i)
        })
        .collect();
    let first_set = columns.len() - entity.sets().count();
    layout.extend(first_set..columns.len());
    let labels = entity
        .readable_fields()
        .map(|f| f.label.as_str())
        .chain(entity.sets().map(|r| r.label.as_str()))
        .collect();
    (layout, labels)
}

/// The Excel workbook of an export (`export.xlsx`): the same cells as the CSV export, typed
/// (numbers, booleans, dates and times as Excel's, in UTC), one sheet named after the entity.
pub fn xlsx_response(
    entity: &EntityRef,
    columns: Vec<Column>,
    batches: Batches,
    request_id: String,
) -> Response {
    let (layout, labels) = layout(entity, &columns);
    let kinds = layout
        .iter()
        .map(|index| kind(columns[*index].field_type))
        .collect();
    let now = chrono::Utc::now().naive_utc();
    let book = Workbook::new(&entity.label, &labels, kinds, now);
    let body = stream::unfold(Some((batches, book)), move |state| {
        let layout = layout.clone();
        let request_id = request_id.clone();
        async move {
            let (mut batches, mut book) = state?;
            match batches.next().await {
                Some(Ok(batch)) => {
                    for values in &batch {
                        book.row(layout.iter().map(|index| &values[*index]));
                    }
                    let bytes = Bytes::from(book.take());
                    Some((Ok(bytes), Some((batches, book))))
                }
                Some(Err(error)) => Some((Err(broken_stream(&request_id, &error)), None)),
                None => Some((Ok(Bytes::from(book.finish())), None)),
            }
        }
    })
    .filter(non_empty)
    .fuse();
    download(
        Body::from_stream(body),
        crate::xlsx::MEDIA_TYPE,
        &format!("{}.xlsx", entity.name),
    )
}

fn kind(field_type: FieldType) -> Kind {
    match field_type {
        FieldType::Integer | FieldType::Float | FieldType::Decimal => Kind::Number,
        FieldType::Boolean => Kind::Boolean,
        FieldType::Date => Kind::Date,
        FieldType::Datetime => Kind::Datetime,
        FieldType::Time => Kind::Time,
        _ => Kind::Text,
    }
}

fn push_value(out: &mut String, value: &Json, textual: bool, delimiter: char) {
    match value {
        Json::Null => {}
        // A multi-choice value: its values joined, as the many-to-many columns are.
        Json::Array(items) if items.iter().all(Json::is_string) => {
            let texts: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
            push_cell(out, &texts.join("; "), true, delimiter);
        }
        Json::String(text) => push_cell(out, text, textual, delimiter),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        other => push_cell(out, &other.to_string(), false, delimiter),
    }
}

/// One cell: quoted when it holds the delimiter, a quote or a line break; a text cell
/// starting with `= + - @` (or a tab or carriage return) gets a leading `'` so spreadsheets
/// show it instead of running it.
fn push_cell(out: &mut String, text: &str, textual: bool, delimiter: char) {
    let neutralise = textual && text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = text.contains([delimiter, '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if neutralise {
        out.push('\'');
    }
    if quote {
        for (i, part) in text.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// A stream that fails after its headers are sent can only be cut short; the log says why.
fn broken_stream(request_id: &str, error: &crate::db::Error) -> io::Error {
    tracing::error!(request_id, "streamed response cut short: {error}");
    io::Error::other("the database stream failed")
}

/// Exposed for tests of the encoding.
#[cfg(test)]
fn cells(values: &[(&str, bool)], delimiter: char) -> String {
    let mut out = String::new();
    for (i, (text, textual)) in values.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        push_cell(&mut out, text, *textual, delimiter);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cells;

    #[test]
    fn rfc_4180_quoting_and_formula_neutralising() {
        assert_eq!(
            cells(&[("plain", true), ("a,b", true), ("say \"hi\"", true)], ','),
            "plain,\"a,b\",\"say \"\"hi\"\"\""
        );
        assert_eq!(cells(&[("line\r\nbreak", true)], ','), "\"line\r\nbreak\"");
        assert_eq!(
            cells(
                &[
                    ("=1+2", true),
                    ("+x", true),
                    ("-x", true),
                    ("@SUM(A1)", true)
                ],
                ','
            ),
            "'=1+2,'+x,'-x,'@SUM(A1)"
        );
        assert_eq!(
            cells(&[("=HYPERLINK(\"x\",\"y\")", true)], ','),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        // Numbers are not text: a negative decimal stays a number.
        assert_eq!(cells(&[("-1.5", false)], ','), "-1.5");
    }

    proptest::proptest! {
        /// What the export writes, the import's reader reads back: every cell as it was, but
        /// a text that a spreadsheet would run, which keeps the `'` it was given.
        #[test]
        fn the_import_reader_reads_an_export_back(
            texts in proptest::collection::vec(".{0,10}", 1..6),
            semicolon: bool,
            size in 1usize..30,
        ) {
            let delimiter = if semicolon { ';' } else { ',' };
            let values: Vec<(&str, bool)> = texts.iter().map(|t| (t.as_str(), true)).collect();
            // After a header row, as in an export (a file's first character may be its
            // byte order mark).
            let file = format!("Id\r\n{}\r\n", cells(&values, delimiter));
            let mut reader = crate::import::csv::CsvReader::new(
                Some(delimiter as u8),
                crate::import::csv::Limits::default(),
            );
            let mut rows = Vec::new();
            for chunk in file.as_bytes().chunks(size) {
                rows.extend(reader.push(chunk).unwrap());
            }
            rows.extend(reader.finish().unwrap());
            let expected: Vec<String> = texts
                .iter()
                .map(|t| {
                    if t.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                        format!("'{t}")
                    } else {
                        t.clone()
                    }
                })
                .collect();
            let header = (1, vec!["Id".to_owned()]);
            // A row of one empty cell is an empty line, which a reader skips.
            if texts.len() == 1 && texts[0].is_empty() {
                proptest::prop_assert_eq!(rows, vec![header]);
            } else {
                proptest::prop_assert_eq!(rows, vec![header, (2, expected)]);
            }
        }
    }

    #[test]
    fn with_semicolons_a_cell_is_quoted_for_a_semicolon_not_a_comma() {
        assert_eq!(
            cells(&[("1,5", true), ("a;b", true), ("=1;2", true)], ';'),
            "1,5;\"a;b\";\"'=1;2\""
        );
    }
}
