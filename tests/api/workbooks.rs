//! Excel workbooks (XLSX): `GET /{entity}/export.xlsx` writes typed cells that import back
//! unchanged, `POST /{entity}/import` reads workbooks as Excel writes them (shared strings,
//! date formats, several sheets), and hostile ones are refused with a 4xx before they are
//! unpacked; on every backend. Workbooks are read back here with calamine, and built with the
//! `zip` crate, independently of the server's writer.

use std::io::{Cursor, Read, Write};

use calamine::{Data, Reader, Xlsx};
use serde_json::{Value as Json, json};

use crate::common::{Backend, Reply, TestApp, blog_app, spawn_app};
use crate::import::blog;
use crate::types::KITCHEN;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn import(app: &TestApp, entity: &str, options: &str, workbook: Vec<u8>) -> Reply {
    let path = format!("/{entity}/import?{options}");
    app.send_raw(reqwest::Method::POST, &path, Some(XLSX_TYPE), workbook)
        .await
}

/// The rows of a workbook's first sheet, as calamine reads them.
fn sheet_rows(workbook: &[u8]) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(workbook.to_vec())).expect("a workbook");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("its first sheet");
    range.rows().map(<[Data]>::to_vec).collect()
}

/// Every type of field goes out as a typed cell and comes back as it was; so do the posts
/// of a blog, with references by label, many-to-many members and text a spreadsheet would
/// otherwise run.
pub async fn an_export_workbook_imports_back_unchanged(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], KITCHEN).await else {
        return;
    };
    app.create(
        "kitchen",
        json!({
            "small": -32000, "big": "9007199254740993", "ratio": 0.1, "real4": 0.5,
            "price": "1234.5678", "name": "Zoë \"q\" _x0041_ =1+2", "notes": "one\r\ntwo\u{1}",
            "flag": true, "day": "2024-02-29", "at": "2024-05-01T14:30:00.123+02:00",
            "naive_at": "2024-05-01T12:30:00Z", "clock": "13:45:30",
            "token": "6f1c1d1e-8f4b-4c55-9a59-7b0fd2c7f9a1", "doc": {"a": [1, {"b": null}]},
            "email": "zoe@example.com", "site": "https://example.com/a?b=c", "mood": "sad",
        }),
    )
    .await;
    app.create("kitchen", json!({"name": "empty", "flag": false}))
        .await;
    let before = app.get("/kitchen?_sortField=id").await.body;

    let (workbook, content_type) = app.bytes("/kitchen/export.xlsx?_sortField=id").await;
    assert_eq!(content_type, XLSX_TYPE);
    let rows = sheet_rows(&workbook);
    assert_eq!(rows.len(), 3, "a header row and a row per record");
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    let column = |label: &str| header.iter().position(|h| h == label).unwrap();
    let first = &rows[1];
    assert_eq!(first[column("Small")], Data::Float(-32000.0));
    // Beyond a double's digits: text, every digit kept.
    assert_eq!(
        first[column("Big")],
        Data::String("9007199254740993".into())
    );
    assert_eq!(first[column("Flag")], Data::Bool(true));
    assert!(
        matches!(first[column("Day")], Data::DateTime(_)),
        "{first:?}"
    );
    assert!(matches!(first[column("At")], Data::DateTime(_)));
    assert_eq!(
        first[column("Name")],
        Data::String("Zoë \"q\" _x0041_ =1+2".into())
    );
    assert_eq!(
        rows[2][column("Price")],
        Data::Empty,
        "null is an empty cell"
    );

    let reply = import(&app, "kitchen", "mode=upsert", workbook).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        (
            reply.body["unchanged"].clone(),
            reply.body["failed"].clone()
        ),
        (json!(2), json!(0)),
        "{}",
        reply.body
    );
    assert_eq!(app.get("/kitchen?_sortField=id").await.body, before);

    let Some(app) = blog(backend).await else {
        return;
    };
    let ann = app.filtered("authors", &json!({"name": "Ann"})).await[0]["id"].clone();
    let rust = app.filtered("tags", &json!({"name": "rust"})).await[0]["id"].clone();
    for (i, title) in ["=1+2", "two\r\nlines", "-minus", "Crème brûlée ✓"]
        .iter()
        .enumerate()
    {
        app.create(
            "posts",
            json!({"title": title, "author_id": ann, "status": "draft", "views": i,
                   "rating": "4.25", "published_at": "2024-05-01T08:30:00Z",
                   "tags": if i % 2 == 0 { json!([rust]) } else { json!([]) }}),
        )
        .await;
    }
    let before = app.get("/posts?_sortField=id").await.body;
    let (workbook, _) = app.bytes("/posts/export.xlsx?_sortField=id").await;
    let rows = sheet_rows(&workbook);
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    let author = header.iter().position(|h| h == "Author").unwrap();
    assert_eq!(rows[1][author], Data::String("Ann".into()), "by its label");
    let reply = import(&app, "posts", "mode=upsert", workbook).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["unchanged"], 4, "{}", reply.body);
    assert_eq!(app.get("/posts?_sortField=id").await.body, before);

    // The same filters as the CSV export; a workbook has no delimiter, and no pages.
    let (workbook, _) = app
        .bytes("/posts/export.xlsx?_filters=%7B%22views%22%3A1%7D")
        .await;
    assert_eq!(sheet_rows(&workbook).len(), 2);
    for bad in ["_delimiter=semicolon", "_page=1", "_sortField=nope"] {
        let reply = app.get(&format!("/posts/export.xlsx?{bad}")).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
    }
}

/// A workbook of several parts, built as Excel builds one: shared strings, styles with
/// Excel's own date formats, `sheets` in order (name, rows of cells as XML).
fn excel_workbook(strings: &[&str], sheets: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut part = |name: &str, text: &str| {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    };
    let mut overrides = String::new();
    let mut entries = String::new();
    let mut relations = String::new();
    for (i, (name, _)) in sheets.iter().enumerate() {
        let n = i + 1;
        overrides.push_str(&format!(
            r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        ));
        entries.push_str(&format!(
            r#"<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>"#
        ));
        relations.push_str(&format!(
            r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
        ));
    }
    part(
        "[Content_Types].xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#
        ),
    );
    part(
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        "xl/workbook.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{entries}</sheets></workbook>"#
        ),
    );
    part(
        "xl/_rels/workbook.xml.rels",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{relations}<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
        ),
    );
    // Styles 1, 2, 3: Excel's built-in formats 14 (date), 22 (date and time), 21 (time).
    part(
        "xl/styles.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" xfId="0"/><xf numFmtId="14" xfId="0" applyNumberFormat="1"/><xf numFmtId="22" xfId="0" applyNumberFormat="1"/><xf numFmtId="21" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"#,
    );
    let items: String = strings
        .iter()
        .map(|s| format!("<si><t xml:space=\"preserve\">{s}</t></si>"))
        .collect();
    part(
        "xl/sharedStrings.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">{items}</sst>"#,
            strings.len()
        ),
    );
    for (i, (_, rows)) in sheets.iter().enumerate() {
        part(
            &format!("xl/worksheets/sheet{}.xml", i + 1),
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
            ),
        );
    }
    zip.finish().unwrap().into_inner()
}

/// A workbook from Excel: shared strings, dates, times and booleans in Excel's formats,
/// empty cells left out, a formula's value; the sheet chosen by name, the file sent from a
/// browser's form (whose type says nothing: its first bytes do).
pub async fn a_workbook_as_excel_writes_it_is_imported(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], KITCHEN).await else {
        return;
    };
    let strings = [
        "name", "flag", "day", "at", "clock", "small", "price", "Zoë", "=1+2",
    ];
    let data = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c><c r="F1" t="s"><v>5</v></c><c r="G1" t="s"><v>6</v></c></row>
<row r="2"><c r="A2" t="s"><v>7</v></c><c r="B2" t="b"><v>1</v></c><c r="C2" s="1"><v>45352</v></c><c r="D2" s="2"><v>45352.5</v></c><c r="E2" s="3"><v>0.75</v></c><c r="F2"><f>40+2</f><v>42</v></c><c r="G2"><v>12.5</v></c></row>
<row r="4"><c r="A4" t="s"><v>8</v></c><c r="B4" t="b"><v>0</v></c></row>"#;
    let notes = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>not this sheet</t></is></c></row>"#;
    let workbook = excel_workbook(&strings, &[("Notes", notes), ("Data", data)]);

    let reply = import(&app, "kitchen", "sheet=Nope", workbook.clone()).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(
        reply.error().1,
        "the workbook has no sheet named \"Nope\"; its sheets: Notes, Data"
    );
    let mut form =
        b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"kitchen.xlsx\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
            .to_vec();
    form.extend_from_slice(&workbook);
    form.extend_from_slice(b"\r\n--b--\r\n");
    let reply = app
        .send_raw(
            reqwest::Method::POST,
            "/kitchen/import?sheet=Data",
            Some("multipart/form-data; boundary=b"),
            form,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["inserted"], 2, "{}", reply.body);
    let stored = app.get("/kitchen?_sortField=id").await.body;
    let first = &stored[0];
    assert_eq!(first["name"], "Zoë");
    assert_eq!(first["flag"], true);
    assert_eq!(first["day"], "2024-03-01");
    assert_eq!(first["at"], "2024-03-01T12:00:00Z");
    assert_eq!(first["clock"], "18:00:00");
    assert_eq!(first["small"], 42, "a formula's value");
    assert_eq!(
        first["price"].as_str().map(|p| p.parse::<f64>().ok()),
        Some(Some(12.5))
    );
    // A text that reads as a formula is text; the cells a row leaves out are empty.
    assert_eq!(stored[1]["name"], "=1+2");
    assert_eq!(stored[1]["flag"], false);
    assert_eq!(stored[1]["day"], Json::Null);

    // The first sheet, when none is named: its header names no field.
    let reply = import(&app, "kitchen", "", workbook).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.error().1.contains("not this sheet"), "{}", reply.body);
}

/// What a hostile or broken workbook gets: a 4xx that says why, before it is unpacked
/// (parts that say they are smaller than they are, texts longer than a row may be, more
/// columns than a row may have, a file cut short); nothing is written.
pub async fn hostile_workbooks_are_4xx(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let posts = app.db.count("tags").await;
    let (export, _) = app.bytes("/tags/export.xlsx").await;

    // A part that unpacks to 8 MB while its directory entry says 100 bytes.
    let big = format!(
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>name</t></is></c></row>{}",
        "<row/>".repeat(8 << 20 >> 3)
    );
    let mut bomb = excel_workbook(&[], &[("Tags", &big)]);
    let sheet = b"xl/worksheets/sheet1.xml";
    let entry = bomb
        .windows(46 + sheet.len())
        .rposition(|w| w.starts_with(b"PK\x01\x02") && w.ends_with(sheet))
        .expect("the sheet's directory entry");
    bomb[entry + 24..entry + 28].copy_from_slice(&100u32.to_le_bytes());

    let long = format!(
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>name</t></is></c></row>\
         <row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>{}</t></is></c></row>",
        "a".repeat(2 << 20)
    );
    let wide = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>name</t></is></c>\
                <c r=\"ALM1\" t=\"inlineStr\"><is><t>x</t></is></c></row>";
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        (
            "a part larger than it says",
            bomb,
            400,
            "unpacks to more than it says",
        ),
        (
            "a text of 2 MiB",
            excel_workbook(&[], &[("Tags", &long)]),
            400,
            "holds a text longer than 1048576 bytes",
        ),
        (
            "1001 columns",
            excel_workbook(&[], &[("Tags", wide)]),
            400,
            "row 1 has more than 1000 cells",
        ),
        (
            "a workbook cut short",
            export[..export.len() / 2].to_vec(),
            400,
            "not an Excel workbook",
        ),
        (
            "no workbook at all",
            b"name\nx\n".to_vec(),
            400,
            "not an Excel workbook",
        ),
    ];
    for (what, workbook, status, expected) in cases {
        let reply = import(&app, "tags", "", workbook).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
        let (_, message) = reply.error();
        assert!(message.contains(expected), "{what}: {message}");
    }
    assert_eq!(app.db.count("tags").await, posts, "nothing was written");

    // The export itself reads back whole.
    let mut archive = zip::ZipArchive::new(Cursor::new(export)).unwrap();
    let mut sheet = String::new();
    archive
        .by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert!(sheet.ends_with("</sheetData></worksheet>"));
}
