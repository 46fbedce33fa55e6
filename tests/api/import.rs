//! Import (`POST /{entity}/import`): CSV files into records, checked as the API's writes
//! are, with a report per row; on every backend. Rows are counted in the database itself.

use serde_json::{Value as Json, json};

use crate::common::{Backend, Reply, TestApp, blog_app};

/// Sends `csv` to the import of `entity` with the query `options`.
async fn import(app: &TestApp, entity: &str, options: &str, csv: &str) -> Reply {
    let path = format!("/{entity}/import?{options}");
    app.send_raw(
        reqwest::Method::POST,
        &path,
        Some("text/csv"),
        csv.as_bytes().to_vec(),
    )
    .await
}

/// A blog with two authors and two tags.
async fn blog(backend: Backend) -> Option<TestApp> {
    let app = blog_app(backend).await?;
    for (name, email) in [("Ann", "ann@example.com"), ("Bob", "bob@example.com")] {
        app.create("authors", json!({"name": name, "email": email}))
            .await;
    }
    for name in ["rust", "sql"] {
        app.create("tags", json!({"name": name})).await;
    }
    Some(app)
}

/// Each row is a POST: references and members by name or by id, every rule checked, every
/// error of a row at once with its row, column and field. `abort` writes nothing when a
/// row fails (422), `skip` writes the others, a dry run writes nothing and says what would
/// happen.
pub async fn rows_are_checked_and_reported(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let ann = app.filtered("authors", &json!({"name": "Ann"})).await[0]["id"].clone();
    let csv = format!(
        "Title,Status,Author,Views,Tags\r\n\
         First,draft,Ann,3,rust; sql\r\n\
         Second,published,{ann},,\r\n\
         ,draft,Nobody,many,perl\r\n\
         Fourth,unknown,bob,1,SQL\r\n"
    );
    let posts = app.db.count("posts").await;

    let reply = import(&app, "posts", "", &csv).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let (code, message) = reply.error();
    assert_eq!(code, "validation_failed");
    assert_eq!(message, "2 rows are invalid: nothing was written");
    let report = &reply.body["report"];
    assert_eq!(report["committed"], false);
    assert_eq!(
        (report["rows"].clone(), report["failed"].clone()),
        (json!(4), json!(2))
    );
    assert_eq!(app.db.count("posts").await, posts, "abort writes nothing");
    let errors: Vec<(i64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or(""),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (4, "Title", "title"),
            (4, "Author", "author_id"),
            (4, "Views", "views"),
            (4, "Tags", "tags"),
            (5, "Status", "status"),
        ],
        "{report}"
    );
    let nobody = &report["errors"][1]["message"];
    assert_eq!(
        nobody, "\"Nobody\" names no record of \"authors\" (by id or by name)",
        "{report}"
    );

    let reply = import(&app, "posts", "on_error=skip&dry_run=true", &csv).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["inserted"], 2);
    assert_eq!(reply.body["failed"], 2);
    assert_eq!(reply.body["committed"], false);
    assert_eq!(
        app.db.count("posts").await,
        posts,
        "a dry run writes nothing"
    );

    let reply = import(&app, "posts", "on_error=skip", &csv).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["inserted"], 2);
    assert_eq!(reply.body["committed"], true);
    assert_eq!(app.db.count("posts").await, posts + 2);
    let first = &app.filtered("posts", &json!({"title": "First"})).await[0];
    assert_eq!(first["author_id"], ann);
    assert_eq!(first["status"], "draft");
    assert_eq!(first["views"], 3);
    assert_eq!(first["tags"].as_array().map(Vec::len), Some(2), "{first}");
    let second = &app.filtered("posts", &json!({"title": "Second"})).await[0];
    assert_eq!(second["author_id"], ann, "a reference by id");
    assert_eq!(second["tags"], json!([]));
    assert_eq!(
        second["views"], 0,
        "an empty cell takes the field's default"
    );
}

/// A file written by the export comes back unchanged (`mode=upsert`: every row finds its
/// record): quotes, delimiters, line breaks, text that a spreadsheet would run, references
/// and members by name. A changed cell updates its record, audited as caused by the import.
pub async fn an_export_imports_back_unchanged(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let ann = app.filtered("authors", &json!({"name": "Ann"})).await[0]["id"].clone();
    let tags: Vec<Json> = app
        .get("/tags")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    let titles = [
        "=1+2",
        "say \"hi\", then; go",
        "two\r\nlines",
        "-minus",
        "'quoted'",
        "Crème brûlée ✓",
    ];
    for (i, title) in titles.iter().enumerate() {
        app.create(
            "posts",
            json!({"title": title, "author_id": ann, "status": "draft", "views": i,
                   "rating": "4.25", "body": if i % 2 == 0 { Json::Null } else { json!("+body") },
                   "published_at": "2024-05-01T08:30:00Z", "tags": tags[..i % 3].to_vec()}),
        )
        .await;
    }
    let before = app.get("/posts").await.body;
    for options in ["", "_delimiter=semicolon&_bom=true"] {
        let csv = app.text(&format!("/posts/export.csv?{options}")).await;
        let reply = import(&app, "posts", "mode=upsert", &csv).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.body["unchanged"],
            titles.len(),
            "{options}: {}",
            reply.body
        );
        assert_eq!(reply.body["updated"], 0);
        assert_eq!(reply.body["inserted"], 0);
        assert_eq!(app.get("/posts").await.body, before, "{options}");
    }

    let csv = app.text("/posts/export.csv").await;
    let changed = csv.replacen("Crème brûlée ✓", "Crème brûlée ✓✓", 1);
    let reply = import(&app, "posts", "mode=update", &changed).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["updated"], 1, "{}", reply.body);
    assert_eq!(reply.body["unchanged"], titles.len() - 1);
    let audit = app
        .filtered("_audit", &json!({"entity": "posts", "action": "update"}))
        .await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["cause"], "import");
    assert_eq!(audit[0]["after"]["title"], "Crème brûlée ✓✓");
}

/// `upsert` and `update` find records by the primary key or a unique field (`key=email`):
/// `upsert` inserts the rows that find none, `update` reports them.
pub async fn rows_find_their_records_by_a_unique_field(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let csv = "email,name\nann@example.com,Ann B.\nbob@example.com,Bob\ncy@example.com,Cy\n";
    let reply = import(&app, "authors", "mode=update&key=email&on_error=skip", csv).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        (
            reply.body["updated"].clone(),
            reply.body["unchanged"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(reply.body["failed"], 1);
    assert_eq!(
        reply.body["errors"][0],
        json!({"row": 4, "column": "email", "field": "email",
               "message": "finds no record (no email is \"cy@example.com\")"})
    );
    let reply = import(&app, "authors", "mode=upsert&key=email", csv).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["inserted"], 1);
    assert_eq!(reply.body["unchanged"], 2);
    let names: Vec<Json> = app
        .get("/authors?_sortField=email")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, [json!("Ann B."), json!("Bob"), json!("Cy")]);
}

/// What the database refuses (a duplicate of a unique value, here within the file itself) is
/// the row's error; with `skip`, the rows after it are written all the same (PostgreSQL
/// would otherwise end the transaction at the first refusal).
pub async fn database_refusals_are_the_rows_errors(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let csv = "name\nperl\nrust\nperl\ngo\n";
    let tags = app.db.count("tags").await;
    let reply = import(&app, "tags", "on_error=skip", csv).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["inserted"], 2, "{}", reply.body);
    assert_eq!(reply.body["failed"], 2);
    let rows: Vec<i64> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, [3, 4]);
    assert_eq!(reply.body["errors"][0]["field"], "name", "{}", reply.body);
    assert_eq!(app.db.count("tags").await, tags + 2);
    let reply = import(&app, "tags", "", "name\nc\nc\n").await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(app.db.count("tags").await, tags + 2);
}

/// Every malformed import is a 4xx in the error shape, naming what is wrong; none writes.
pub async fn bad_imports_are_4xx(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let posts = app.db.count("posts").await;
    let cases: [(&str, &str, &str, u16, &str); 11] = [
        ("", "application/json", "{}", 415, "CSV file"),
        ("", XLSX_TYPE, "PK", 415, "save the sheet as CSV"),
        ("mode=merge", "text/csv", "title\nx\n", 400, "mode"),
        ("dry_run=1", "text/csv", "title\nx\n", 400, "dry_run"),
        ("", "text/csv", "", 400, "the file is empty"),
        ("", "text/csv", "Title,Junk\nx,y\n", 400, "\"Junk\""),
        (
            "mode=update",
            "text/csv",
            "Title\nx\n",
            400,
            "but no column holds it",
        ),
        ("", "text/csv", "\u{feff}", 400, "the file is empty"),
        ("", "text/csv", "Title,Title\nx,y\n", 400, "both go to"),
        (
            "",
            "text/csv",
            "Title\n\"open\n",
            400,
            "row 2 opens a quote that is never closed",
        ),
        ("wait=3", "text/csv", "title\nx\n", 400, "wait"),
    ];
    for (options, content_type, body, status, expected) in cases {
        let path = format!("/posts/import?{options}");
        let reply = app
            .send_raw(
                reqwest::Method::POST,
                &path,
                Some(content_type),
                body.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(reply.status, status, "{options} {body:?}: {}", reply.body);
        let (_, message) = reply.error();
        assert!(message.contains(expected), "{body:?}: {message}");
    }
    let utf16 = b"\xFF\xFET\x00i\x00".to_vec();
    let reply = app
        .send_raw(
            reqwest::Method::POST,
            "/posts/import",
            Some("text/csv"),
            utf16,
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.error().1.contains("UTF-16"));
    let long = format!("Title\n\"{}\n", "x".repeat(2 * 1024 * 1024));
    let reply = import(&app, "posts", "", &long).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.error().1.contains("row 2 is longer than"),
        "{}",
        reply.body
    );
    let reply = import(&app, "_audit", "", "entity\nx\n").await;
    assert_eq!(reply.status, 405);
    let reply = import(&app, "nope", "", "x\n1\n").await;
    assert_eq!(reply.status, 404);
    // A form without a file part; then one with it.
    let form = "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n1\r\n--b--\r\n";
    let reply = app
        .send_raw(
            reqwest::Method::POST,
            "/posts/import",
            Some("multipart/form-data; boundary=b"),
            form.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.error().1.contains("no part named \"file\""));
    assert_eq!(app.db.count("posts").await, posts);
    let form = "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n1\r\n\
                --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n\
                Content-Type: text/csv\r\n\r\nname\r\nfrom-a-form\r\n--b--\r\n";
    let reply = app
        .send_raw(
            reqwest::Method::POST,
            "/tags/import",
            Some("multipart/form-data; boundary=b"),
            form.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["inserted"], 1);
    let found = app.filtered("tags", &json!({"name": "from-a-form"})).await;
    assert_eq!(found.len(), 1);
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
