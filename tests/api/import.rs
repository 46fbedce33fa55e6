//! Import (`POST /{entity}/import`): CSV files into records, checked as the API's writes
//! are, with a report per row; on every backend. Rows are counted in the database itself.

use serde_json::{Value as Json, json};

use crate::common::{Backend, Reply, TestApp, blog_app, urlencode};

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

/// A blog with two authors (Ann, Bob) and two tags (rust, sql).
pub async fn blog(backend: Backend) -> Option<TestApp> {
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
    let audited = app
        .filtered(
            "_audit",
            &json!({"entity": "posts", "action": "create", "cause": "import"}),
        )
        .await;
    assert_eq!(audited.len(), 2, "a row per record: {audited:?}");
    let first_audited = audited
        .iter()
        .find(|a| a["after"]["title"] == "First")
        .unwrap();
    assert_eq!(first_audited["record_id"], first["id"].to_string());
    assert_eq!(first_audited["after"]["tags"], first["tags"]);
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

/// A preview reads the first rows of a file (the rest, cut anywhere, is dropped unread), writes
/// nothing, and answers them as they would be stored: the key the database would give, the
/// defaults.
pub async fn a_preview_shows_the_first_rows_as_stored(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let tags = app.db.count("tags").await;
    let cut = "name\nfirst-one\nBad Name\nsecond-one\nthird-one\n\"cut in the mid";
    let reply = import(&app, "tags", "preview=3&on_error=skip", cut).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["dry_run"], true);
    assert_eq!(reply.body["rows"], 3);
    let preview = reply.body["preview"].as_array().unwrap();
    assert_eq!(preview.len(), 2, "{}", reply.body);
    assert_eq!(preview[0]["row"], 2);
    assert_eq!(preview[0]["action"], "insert");
    assert_eq!(preview[0]["record"]["name"], "first-one");
    assert!(
        preview[0]["record"]["id"].is_i64(),
        "the key it would get: {}",
        reply.body
    );
    assert_eq!(preview[1]["record"]["name"], "second-one");
    assert_eq!(reply.body["errors"][0]["row"], 3);
    assert_eq!(app.db.count("tags").await, tags, "a preview writes nothing");
    let posts = "Title,Author,Status\nPreviewed,Ann,draft\n";
    let reply = import(&app, "posts", "preview=1", posts).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let record = &reply.body["preview"][0]["record"];
    assert_eq!(record["views"], 0, "the field's default: {record}");
    assert_eq!(record["tags"], json!([]));
    let bad = import(&app, "tags", "preview=0", "name\nx\n").await;
    assert_eq!(bad.status, 400);
    assert!(bad.error().1.contains("preview"));
}

/// Every malformed import is a 4xx in the error shape, naming what is wrong; none writes.
pub async fn bad_imports_are_4xx(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let posts = app.db.count("posts").await;
    let cases: [(&str, &str, &str, u16, &str); 12] = [
        ("", "application/json", "{}", 415, "CSV file"),
        ("", XLSX_TYPE, "PK", 400, "not an Excel workbook"),
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
        ("wait=soon", "text/csv", "title\nx\n", 400, "wait"),
        ("sheet=", "text/csv", "title\nx\n", 400, "sheet"),
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
    // A file refused whole is refused in the answer whatever `wait` says, never behind a 202
    // (the job's end is being written to the database while the answer is chosen).
    for body in ["", "[]", "Title,Junk\nx,y\n", "Title\n\"open\n"] {
        for _ in 0..10 {
            let reply = import(&app, "posts", "wait=0", body).await;
            assert_eq!(reply.status, 400, "wait=0 {body:?}: {}", reply.body);
        }
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

/// Sends `csv` to `/{entity}/import?{options}` with the request id `id`.
pub async fn import_as(app: &TestApp, id: &str, entity: &str, options: &str, csv: &str) -> Reply {
    let response = app
        .client
        .post(format!("{}/{entity}/import?{options}", app.api))
        .header("content-type", "text/csv")
        .header("x-request-id", id)
        .body(csv.to_owned())
        .send()
        .await
        .expect("request sent");
    crate::common::reply(response).await
}

/// Polls an import until it has ended; its job as `GET /_imports/{id}` says.
async fn ended(app: &TestApp, id: &str) -> Json {
    for _ in 0..200 {
        let job = app.get(&format!("/_imports/{id}")).await;
        assert_eq!(job.status, 200, "{}", job.body);
        if job.body["status"] != "running" {
            return job.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} still running after 10 s");
}

/// An import is a job named by its request's id: `GET /_imports/{id}` says how it ended,
/// with its report, and gives its rejected rows as a file to fix; an id is one import's.
pub async fn an_import_is_a_job(backend: Backend) {
    let Some(app) = blog(backend).await else {
        return;
    };
    let csv = "name;note\r\nperl;a\r\nBad Name;\"two\r\nlines\"\r\ngo;c\r\n";
    let mapping = urlencode(r#"{"note": null}"#);
    let reply = import_as(
        &app,
        "job-1",
        "tags",
        &format!("on_error=skip&mapping={mapping}"),
        csv,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("x-request-id"), Some("job-1"));
    let job = ended(&app, "job-1").await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        (job["rows"].clone(), job["inserted"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(job["failed"], 1);
    assert_eq!(job["report"]["errors"][0]["row"], 3);
    assert_eq!(
        job["rejected"],
        format!("{}/_imports/job-1/rejected.csv", api_path(&app))
    );
    let rejected = app.text("/_imports/job-1/rejected.csv").await;
    assert_eq!(
        rejected,
        "\u{feff}name;note\r\nBad Name;\"two\r\nlines\"\r\n"
    );

    let again = import_as(&app, "job-1", "tags", "", "name\nx\n").await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.error().1.contains("job-1"));
    assert_eq!(app.get("/_imports/nope").await.status, 404);
    assert_eq!(app.get("/_imports/job-1/../nope").await.status, 404);
    let cancel = app.delete("/_imports/job-1").await;
    assert_eq!(cancel.status, 409, "{}", cancel.body);
    // An abort import that fails is a failed job, with nothing to download but its rows.
    let reply = import_as(&app, "job-2", "tags", "", "name\nBad Name\n").await;
    assert_eq!(reply.status, 422);
    assert_eq!(ended(&app, "job-2").await["status"], "failed");
    assert_eq!(app.get("/_imports/job-2/rejected.csv").await.status, 200);
    assert_eq!(app.db.count("autoadmin_imports").await, 2);
}

/// The path of the API, as the server's links give it (`/admin/api`).
fn api_path(app: &TestApp) -> String {
    let after_scheme = app.api.split("//").nth(1).unwrap_or("");
    after_scheme[after_scheme.find('/').unwrap_or(0)..].to_owned()
}

/// An import that outlasts `wait` once its file has arrived is answered 202 with its job's
/// `Location`, and goes on: here another transaction locks the tags from the moment the
/// file's last rows are sent until after the answer.
pub async fn a_long_import_answers_202_and_goes_on(backend: Backend) {
    use sqlx::Connection;
    let Some(app) = blog(backend).await else {
        return;
    };
    let tags = app.db.count("tags").await;
    let mut upload =
        Upload::start(&app, "late-1", "/tags/import?wait=1", "name\nlate-a\n", 7).await;
    // The import has started (its job answers, and its row is in the table of imports: the
    // job answers from this instance's registry first) and holds no lock yet: its first
    // batch is not full.
    let mut job = Json::Null;
    let mut recorded = None;
    for _ in 0..100 {
        job = app.get("/_imports/late-1").await.body;
        recorded = app
            .db
            // One row whether the import's row is there yet or not (NULL until it is).
            .scalar("SELECT MAX(status) FROM autoadmin_imports WHERE id = 'late-1'")
            .await;
        if job["status"] == "running" && recorded.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(job["status"], "running", "{job}");
    assert_eq!(recorded.as_deref(), Some("running"));
    let lock = match backend {
        Backend::Sqlite => {
            let mut other = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut other)
                .await
                .unwrap();
            Locked::Sqlite(other)
        }
        Backend::Postgres => {
            let mut other = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE tags IN EXCLUSIVE MODE")
                .execute(&mut other)
                .await
                .unwrap();
            Locked::Postgres(other)
        }
        Backend::MySql => {
            let mut other = sqlx::MySqlConnection::connect(&app.db.url).await.unwrap();
            sqlx::raw_sql("LOCK TABLES tags WRITE")
                .execute(&mut other)
                .await
                .unwrap();
            Locked::MySql(other)
        }
    };
    upload.send("late-b\n").await;
    let answer = upload.answer().await;
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let location = format!("{}/_imports/late-1", api_path(&app));
    assert!(
        answer
            .to_lowercase()
            .contains(&format!("location: {location}")),
        "{answer}"
    );
    assert!(answer.contains("\"status\":\"running\""), "{answer}");
    lock.release().await;
    let job = ended(&app, "late-1").await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["report"]["inserted"], 2);
    assert_eq!(app.db.count("tags").await, tags + 2);
}

/// A CSV upload over a raw socket, sent in pieces as the test says.
struct Upload {
    socket: tokio::net::TcpStream,
}

impl Upload {
    /// Sends the head of `POST {api}{path}` with the request id `id` for a body of `first`
    /// and `more` bytes to come, then `first`.
    async fn start(app: &TestApp, id: &str, path: &str, first: &str, more: usize) -> Upload {
        use tokio::io::AsyncWriteExt;
        let address = app
            .api
            .split("//")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST {}{path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: text/csv\r\n\
             X-Request-Id: {id}\r\nContent-Length: {}\r\n\r\n{first}",
            api_path(app),
            first.len() + more
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        Upload { socket }
    }

    async fn send(&mut self, text: &str) {
        use tokio::io::AsyncWriteExt;
        self.socket.write_all(text.as_bytes()).await.unwrap();
    }

    /// The response, head and body, as text (within 10 s).
    async fn answer(&mut self) -> String {
        use tokio::io::AsyncReadExt;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut buffer = [0u8; 4096];
            loop {
                let n = self.socket.read(&mut buffer).await.unwrap_or(0);
                answer.extend_from_slice(&buffer[..n]);
                if n == 0 || String::from_utf8_lossy(&answer).trim_end().ends_with('}') {
                    break;
                }
            }
        })
        .await;
        assert!(read.is_ok(), "no answer within 10 s");
        String::from_utf8_lossy(&answer).into_owned()
    }
}

/// Another transaction's lock on the tags, until released.
enum Locked {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection),
}

impl Locked {
    async fn release(self) {
        match self {
            Locked::Sqlite(mut c) => drop(sqlx::raw_sql("ROLLBACK").execute(&mut c).await),
            Locked::Postgres(mut c) => drop(sqlx::raw_sql("ROLLBACK").execute(&mut c).await),
            Locked::MySql(mut c) => drop(sqlx::raw_sql("UNLOCK TABLES").execute(&mut c).await),
        }
    }
}

/// An import whose file is slow to come follows its rows as they arrive, can be cancelled
/// meanwhile (an `abort` import then writes nothing), and holds one of the `max_imports`
/// places: another import is 503 until it ends.
pub async fn a_slow_import_can_be_cancelled(backend: Backend) {
    let config = autoadmin::demo::CONFIG.replacen("[admin]\n", "[admin]\nmax_imports = 1\n", 1);
    let Some(app) = crate::common::spawn_app(backend, &[backend.blog_schema()], &config).await
    else {
        return;
    };
    let tags = app.db.count("tags").await;
    let mut file = String::from("name\n");
    for i in 0..600 {
        file.push_str(&format!("slow-{i}\n"));
    }
    let mut upload = Upload::start(&app, "slow-1", "/tags/import", &file, 1_000_000).await;
    // The first batch (500 rows) is written in the import's transaction; the rest waits.
    let mut job = Json::Null;
    for _ in 0..200 {
        job = app.get("/_imports/slow-1").await.body;
        if job["inserted"] == 500 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(job["status"], "running", "{job}");
    assert_eq!(job["inserted"], 500, "{job}");
    let busy = import(&app, "tags", "", "name\nother\n").await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(busy.header("retry-after"), Some("1"));
    let cancel = app.delete("/_imports/slow-1").await;
    assert_eq!(cancel.status, 202, "{}", cancel.body);
    assert_eq!(cancel.body["cancelling"], true);
    let answer = upload.answer().await;
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    assert!(
        answer.contains("the import was cancelled: nothing was written"),
        "{answer}"
    );
    assert_eq!(ended(&app, "slow-1").await["status"], "cancelled");
    assert_eq!(
        app.db.count("tags").await,
        tags,
        "a cancelled abort import writes nothing"
    );
    let after = import(&app, "tags", "", "name\nother\n").await;
    assert_eq!(after.status, 200, "the place is given back: {}", after.body);
}

/// An import left running by a server that stopped is failed when the next one starts (and
/// shown failed once its row has not moved for a minute).
pub async fn imports_of_a_stopped_server_are_failed(backend: Backend) {
    let Some(db) = crate::common::TestDb::create(backend).await else {
        return;
    };
    db.execute(backend.blog_schema()).await;
    db.execute(match backend {
        Backend::Sqlite => include_str!("../../migrations/sqlite/autoadmin_imports.sql"),
        Backend::Postgres => include_str!("../../migrations/postgres/autoadmin_imports.sql"),
        Backend::MySql => include_str!("../../migrations/mysql/autoadmin_imports.sql"),
    })
    .await;
    let lost = |id: &str| {
        let old = autoadmin_now() - 120_000;
        format!(
            "INSERT INTO autoadmin_imports (id, entity, owner, status, rows_read, inserted, \
             updated, unchanged, failed, cancel_requested, started_at, updated_at) VALUES \
             ('{id}', 'tags', NULL, 'running', 500, 500, 0, 0, 0, 0, {old}, {old})"
        )
    };
    db.execute(&lost("lost-1")).await;
    let app = crate::common::spawn_on(db, |builder| {
        builder.config_toml(autoadmin::demo::CONFIG, "test.toml")
    })
    .await;
    let status = "SELECT status FROM autoadmin_imports WHERE id = 'lost-1'";
    assert_eq!(app.db.scalar(status).await.as_deref(), Some("failed"));
    app.db.execute(&lost("lost-2")).await;
    let job = app.get("/_imports/lost-2").await.body;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["report"]["stopped"], "the server that ran it stopped");
    assert_eq!(job["inserted"], 500);
}

fn autoadmin_now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// With users: an import needs the entity's add (or edit) permission, and an import is its
/// owner's: another user, an administrator too, gets 404 for it, its report and its rows.
pub async fn an_import_is_its_owners(backend: Backend) {
    let Some(app) =
        crate::common::spawn_app(backend, &[backend.blog_schema()], &crate::auth::config()).await
    else {
        return;
    };
    let (root, ed, rita) = (
        crate::auth::token(&app, "root").await,
        crate::auth::token(&app, "ed").await,
        crate::auth::token(&app, "rita").await,
    );
    let send = |token: Option<String>, path: String, csv: Option<&'static str>| {
        let client = app.client.clone();
        let url = format!("{}{path}", app.api);
        async move {
            let mut request = match csv {
                Some(csv) => client
                    .post(url)
                    .header("content-type", "text/csv")
                    .header("x-request-id", "owned-1")
                    .body(csv),
                None => client.get(url),
            };
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            crate::common::reply(request.send().await.unwrap()).await
        }
    };
    let author = app
        .client
        .post(format!("{}/authors", app.api))
        .bearer_auth(&root)
        .json(&json!({"name": "Ann", "email": "ann@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(author.status(), 201);
    let csv = "Title,Author\nOwned post,Ann\n,Ann\n";
    let path = "/posts/import?on_error=skip".to_owned();
    assert_eq!(send(None, path.clone(), Some(csv)).await.status, 401);
    let refused = send(Some(rita.clone()), path.clone(), Some(csv)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let done = send(Some(ed.clone()), path, Some(csv)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["inserted"], 1);
    for (who, status) in [
        (Some(ed.clone()), 200),
        (Some(rita.clone()), 404),
        (Some(root.clone()), 404),
        (None, 401),
    ] {
        let job = send(who.clone(), "/_imports/owned-1".into(), None).await;
        assert_eq!(job.status, status, "{}", job.body);
        let rejected = send(who, "/_imports/owned-1/rejected.csv".into(), None).await;
        assert_eq!(rejected.status, status);
    }
    // The list of imports: each user's own, newest first, without reports.
    let listed = send(Some(ed.clone()), "/_imports?entity=posts".into(), None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let jobs = listed.body.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{}", listed.body);
    assert_eq!(
        (
            jobs[0]["id"].clone(),
            jobs[0]["status"].clone(),
            jobs[0]["inserted"].clone()
        ),
        (json!("owned-1"), json!("done"), json!(1))
    );
    assert!(jobs[0].get("report").is_none());
    assert!(
        jobs[0]["rejected"]
            .as_str()
            .is_some_and(|r| r.ends_with("/_imports/owned-1/rejected.csv"))
    );
    for (who, path) in [
        (rita, "/_imports"),
        (root, "/_imports"),
        (ed.clone(), "/_imports?entity=tags"),
    ] {
        let listed = send(Some(who), path.into(), None).await;
        assert_eq!(listed.body, json!([]), "{path}");
    }
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "sort=id",
        "entity=a&entity=b",
    ] {
        let refused = send(Some(ed.clone()), format!("/_imports?{bad}"), None).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
    }
    let audited = app.db.count("autoadmin_audit").await;
    assert_eq!(audited, 2, "the author and the imported post");
}
