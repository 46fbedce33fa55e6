//! An Excel workbook of one sheet (ECMA-376, SpreadsheetML), written as a stream: the fixed
//! parts first, then the sheet a row at a time, every cell typed (numbers, booleans, dates,
//! text as inline strings, which a spreadsheet never runs as a formula).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde_json::Value as Json;

use super::zip::ZipStream;

/// The most rows a sheet holds (Excel's bound), the header row included.
pub const MAX_ROWS: u64 = 1_048_576;

/// How a column's values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Boolean,
    Date,
    Datetime,
    Time,
}

/// Cell styles, by their index in `styles.xml`.
const DATE_STYLE: u8 = 1;
const DATETIME_STYLE: u8 = 2;
const TIME_STYLE: u8 = 3;
const HEADER_STYLE: u8 = 4;

/// A workbook being written.
pub struct Workbook {
    zip: ZipStream,
    kinds: Vec<Kind>,
    /// The row written last (1: the header row).
    row: u64,
    line: String,
}

impl Workbook {
    /// A workbook whose sheet is named `sheet` and whose first row holds `headers`; then
    /// rows of values of `kinds`.
    pub fn new(sheet: &str, headers: &[&str], kinds: Vec<Kind>, now: NaiveDateTime) -> Workbook {
        let mut zip = ZipStream::new(now);
        for (name, text) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELATIONS),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELATIONS),
            ("xl/styles.xml", STYLES),
        ] {
            zip.start(name);
            zip.write(text.as_bytes());
        }
        zip.start("xl/workbook.xml");
        let mut name = String::new();
        escape(&mut name, &sheet_name(sheet));
        zip.write(WORKBOOK.replace("{name}", &name).as_bytes());
        zip.start("xl/worksheets/sheet1.xml");
        zip.write(SHEET_START.as_bytes());
        let mut book = Workbook {
            zip,
            kinds,
            row: 0,
            line: String::with_capacity(1024),
        };
        book.start_row();
        for (column, header) in headers.iter().enumerate() {
            book.text(column, header, Some(HEADER_STYLE));
        }
        book.end_row();
        book
    }

    /// Appends a row; `values[i]` is of the column's kind (or null, an empty cell).
    pub fn row<'a>(&mut self, values: impl IntoIterator<Item = &'a Json>) {
        self.start_row();
        for (column, value) in values.into_iter().enumerate() {
            let kind = self.kinds.get(column).copied().unwrap_or(Kind::Text);
            self.cell(column, kind, value);
        }
        self.end_row();
    }

    /// The bytes of the workbook written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        self.zip.take()
    }

    /// Ends the workbook: the last bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.zip.write(SHEET_END.as_bytes());
        self.zip.finish();
        self.zip.take()
    }

    fn start_row(&mut self) {
        self.row += 1;
        self.line.clear();
        self.line.push_str("<row r=\"");
        self.line.push_str(&self.row.to_string());
        self.line.push_str("\">");
    }

    fn end_row(&mut self) {
        self.line.push_str("</row>");
        self.zip.write(self.line.as_bytes());
    }

    fn cell(&mut self, column: usize, kind: Kind, value: &Json) {
        let text = match value {
            Json::Null => return,
            Json::String(text) => text.as_str(),
            Json::Bool(b) if kind == Kind::Boolean => {
                self.open(column, Some("b"), None);
                self.line.push_str(if *b { "1" } else { "0" });
                self.line.push_str("</v></c>");
                return;
            }
            Json::Number(n) if kind == Kind::Number => {
                let text = n.to_string();
                return self.number(column, &text, None);
            }
            // A multi-choice value: its values joined, as the CSV export has them.
            Json::Array(items) if items.iter().all(Json::is_string) => {
                let texts: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
                return self.text(column, &texts.join("; "), None);
            }
            other => return self.text(column, &other.to_string(), None),
        };
        match kind {
            Kind::Number if exact_as_double(text) => self.number(column, text, None),
            Kind::Date | Kind::Datetime | Kind::Time => match moment(kind, text) {
                Some((serial, style)) => self.number(column, &serial.to_string(), Some(style)),
                None => self.text(column, text, None),
            },
            _ => self.text(column, text, None),
        }
    }

    fn number(&mut self, column: usize, text: &str, style: Option<u8>) {
        self.open(column, None, style);
        self.line.push_str(text);
        self.line.push_str("</v></c>");
    }

    fn text(&mut self, column: usize, text: &str, style: Option<u8>) {
        self.line.push_str("<c r=\"");
        push_reference(&mut self.line, column, self.row);
        self.line.push('"');
        if let Some(style) = style {
            self.line.push_str(" s=\"");
            self.line.push_str(&style.to_string());
            self.line.push('"');
        }
        self.line
            .push_str(" t=\"inlineStr\"><is><t xml:space=\"preserve\">");
        escape(&mut self.line, text);
        self.line.push_str("</t></is></c>");
    }

    /// `<c r=".." [t=".."] [s=".."]><v>`
    fn open(&mut self, column: usize, cell_type: Option<&str>, style: Option<u8>) {
        self.line.push_str("<c r=\"");
        push_reference(&mut self.line, column, self.row);
        self.line.push('"');
        if let Some(cell_type) = cell_type {
            self.line.push_str(" t=\"");
            self.line.push_str(cell_type);
            self.line.push('"');
        }
        if let Some(style) = style {
            self.line.push_str(" s=\"");
            self.line.push_str(&style.to_string());
            self.line.push('"');
        }
        self.line.push_str("><v>");
    }
}

/// A date, date and time, or time as a serial number and its style; `None` for text that
/// is none of these, or a date Excel cannot show.
fn moment(kind: Kind, text: &str) -> Option<(f64, u8)> {
    match kind {
        Kind::Date => {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            Some((serial(date.and_time(NaiveTime::MIN))?, DATE_STYLE))
        }
        Kind::Datetime => {
            let at = DateTime::parse_from_rfc3339(text).ok()?;
            Some((serial(at.naive_utc())?, DATETIME_STYLE))
        }
        Kind::Time => {
            let time = NaiveTime::parse_from_str(text, "%H:%M:%S%.f").ok()?;
            let seconds =
                f64::from(time.num_seconds_from_midnight()) + f64::from(time.nanosecond()) / 1e9;
            Some((seconds / 86_400.0, TIME_STYLE))
        }
        _ => None,
    }
}

/// Whether a decimal text keeps every digit as a spreadsheet's number (a double: 15
/// significant digits); a longer one is written as text so that nothing is lost.
fn exact_as_double(text: &str) -> bool {
    let digits = text.trim_start_matches(['-', '+']);
    let significant: String = digits
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .trim_start_matches('0')
        .to_owned();
    let plain = digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && digits.starts_with(|c: char| c.is_ascii_digit());
    plain && significant.trim_end_matches('0').len() <= 15 && text.parse::<f64>().is_ok()
}

/// Days since Excel's epoch, with the time as the fraction; `None` before 1900-03-01 (where
/// Excel's calendar is wrong, and before 1900 it has none).
fn serial(at: NaiveDateTime) -> Option<f64> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(NaiveTime::MIN);
    let days = (at - epoch).num_milliseconds() as f64 / 86_400_000.0;
    (days >= 61.0).then_some(days)
}

/// A sheet's name as Excel allows it: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(label: &str) -> String {
    let name: String = label
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    let name = name.trim_matches('\'').trim();
    if name.is_empty() {
        "Sheet1".to_owned()
    } else {
        name.to_owned()
    }
}

/// `A1`-style reference of a 0-based column and a 1-based row.
fn push_reference(out: &mut String, column: usize, row: u64) {
    let mut letters = [0u8; 4];
    let mut n = column + 1;
    let mut i = letters.len();
    while n > 0 {
        i -= 1;
        letters[i] = b'A' + ((n - 1) % 26) as u8;
        n = (n - 1) / 26;
    }
    out.extend(letters[i..].iter().map(|b| *b as char));
    out.push_str(&row.to_string());
}

/// Text as XML character data. Characters XML cannot hold (control characters) and a carriage
/// return (which XML readers turn into a line feed) are written as Excel writes them,
/// `_x000D_`; text that reads as such an escape is itself escaped (`_x005F_`).
fn escape(out: &mut String, text: &str) {
    for (i, c) in text.char_indices() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&format!("_x{:04X}_", c as u32));
            }
            '_' if looks_escaped(&text[i..]) => out.push_str("_x005F_"),
            c => out.push(c),
        }
    }
}

/// Whether `text` starts with `_x00HH_`, which a reader takes for an escaped character.
fn looks_escaped(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 7
        && bytes.starts_with(b"_x00")
        && bytes[4].is_ascii_hexdigit()
        && bytes[5].is_ascii_hexdigit()
        && bytes[6] == b'_'
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#;

const ROOT_RELATIONS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK_RELATIONS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

/// Styles 1–3: date, date and time, time; 4: the header row, in bold.
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/><numFmt numFmtId="165" formatCode="yyyy\-mm\-dd\ hh:mm:ss"/><numFmt numFmtId="166" formatCode="hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

/// The sheet up to its rows: the header row stays in view as the rows scroll.
const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>"#;

const SHEET_END: &str = "</sheetData></worksheet>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_escapes() {
        let mut out = String::new();
        for column in [0, 25, 26, 701, 702, 16_383] {
            push_reference(&mut out, column, 7);
            out.push(' ');
        }
        assert_eq!(out, "A7 Z7 AA7 ZZ7 AAA7 XFD7 ");
        let mut out = String::new();
        escape(&mut out, "a<b & \r\n\u{1}_x0041_ _x00");
        assert_eq!(out, "a&lt;b &amp; _x000D_\n_x0001__x005F_x0041_ _x00");
    }

    #[test]
    fn long_decimals_stay_text_and_dates_have_serials() {
        assert!(exact_as_double("-12.50"));
        assert!(exact_as_double("123456789012345"));
        assert!(!exact_as_double("1234567890123456"));
        assert!(!exact_as_double("0.1234567890123456"));
        assert!(!exact_as_double("1e5"));
        assert!(!exact_as_double("NaN"));
        let at = NaiveDate::from_ymd_opt(2025, 10, 13)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(serial(at), Some(45943.5));
        let early = NaiveDate::from_ymd_opt(1900, 2, 28).unwrap();
        assert_eq!(serial(early.and_time(NaiveTime::MIN)), None);
        assert_eq!(sheet_name("a/b: [c]?"), "ab c");
        assert_eq!(sheet_name("''"), "Sheet1");
    }
}
