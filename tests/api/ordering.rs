//! Exact ordering (issue #13): a decimal sorts by its value, not its text, on every backend,
//! in every dialect, page by page and by keyset cursor.

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, spawn_app, urlencode};

const CONFIG: &str = r#"
[[entity]]
name = "prices"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "label"
  type = "string"
  [[entity.field]]
  name = "price"
  type = "decimal"
"#;

fn schema(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "CREATE TABLE prices (id SERIAL PRIMARY KEY, label VARCHAR(20), price NUMERIC(10,2))"
        }
        Backend::MySql => {
            "CREATE TABLE prices (id INT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(20), price DECIMAL(10,2))"
        }
        Backend::Sqlite => {
            "CREATE TABLE prices (id INTEGER PRIMARY KEY AUTOINCREMENT, label VARCHAR(20), price NUMERIC(10,2))"
        }
    }
}

/// Values whose text order differs from their numeric order, inserted out of order.
const PRICES: [&str; 7] = [
    "99.78", "1000.01", "0.50", "988.18", "10.00", "9.99", "-3.25",
];

async fn prices(backend: Backend) -> Option<TestApp> {
    let app = spawn_app(backend, &[schema(backend)], CONFIG).await?;
    for (i, price) in PRICES.iter().enumerate() {
        app.create("prices", json!({"label": format!("p{i}"), "price": price}))
            .await;
    }
    app.create("prices", json!({"label": "none", "price": null}))
        .await;
    Some(app)
}

fn as_number(value: &Json) -> Option<f64> {
    value.as_str().map(|s| s.parse().unwrap())
}

/// The prices of a list, in its order (NULL as None).
fn order(body: &Json) -> Vec<Option<f64>> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|r| as_number(&r["price"]))
        .collect()
}

fn expected(descending: bool) -> Vec<Option<f64>> {
    let mut values: Vec<f64> = PRICES.iter().map(|p| p.parse().unwrap()).collect();
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // NULL sorts as the smallest value.
    let mut all: Vec<Option<f64>> = std::iter::once(None)
        .chain(values.into_iter().map(Some))
        .collect();
    if descending {
        all.reverse();
    }
    all
}

pub async fn decimals_sort_by_value(backend: Backend) {
    let Some(app) = prices(backend).await else {
        return;
    };
    for descending in [false, true] {
        let dir = if descending { "DESC" } else { "ASC" };
        let want = expected(descending);
        for query in sorted_by("price", dir) {
            let reply = app.get(&format!("/prices?{query}")).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.body);
            assert_eq!(order(&reply.body), want, "{backend:?} {query}");
        }
        // Page by page, by keyset: the same order, whichever row a page ends on (a NULL,
        // a value: each cursor is one or two index ranges).
        for per_page in [1, 2, 3] {
            let first = format!("/prices?_sortField=price&_sortDir={dir}&_perPage={per_page}");
            let seen = order(&Json::Array(walk(&app, first).await));
            assert_eq!(seen, want, "{backend:?} keyset {dir} by {per_page}");
        }
    }
}

/// A list sorted by `field` in `dir`, in each dialect, paged and not (the streamed path).
fn sorted_by(field: &str, dir: &str) -> [String; 4] {
    let minus = if dir == "DESC" { "-" } else { "" };
    [
        format!("_sortField={field}&_sortDir={dir}&_page=1&_perPage=50"),
        format!(
            "sort={}&range=[0,49]",
            urlencode(&format!("[\"{field}\",\"{dir}\"]"))
        ),
        format!("_sort={minus}{field}&_start=0&_end=50"),
        format!("_sortField={field}&_sortDir={dir}"),
    ]
}

/// Every record from the page at `first` on, following each page's next link (its keyset
/// cursor) to the end.
async fn walk(app: &TestApp, first: String) -> Vec<Json> {
    let mut seen = Vec::new();
    let mut next = Some(first);
    while let Some(path) = next.take() {
        let reply = app.get(&path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        seen.extend(reply.body.as_array().unwrap().iter().cloned());
        next = reply.header("link").map(|link| {
            let target = link.trim_start_matches('<').split('>').next().unwrap();
            // The path from the API's root.
            target[target.find("/api/").unwrap() + 4..].to_owned()
        });
    }
    seen
}

/// Quick search and `ilike` fold case beyond ASCII on every backend: "ÄRGER" finds "ärger".
pub async fn search_folds_case_beyond_ascii(backend: Backend) {
    let config = CONFIG.replace(
        "name = \"prices\"",
        "name = \"prices\"\nsearch = [\"label\"]",
    );
    let Some(app) = spawn_app(backend, &[schema(backend)], &config).await else {
        return;
    };
    for label in [
        "Ärger im Büro",
        "ärgerlich",
        "ÅNGSTRÖM",
        "plain",
        "100% (sure)",
    ] {
        app.create("prices", json!({"label": label, "price": "1"}))
            .await;
    }
    let labels = |reply: &crate::common::Reply| -> Vec<String> {
        let mut labels: Vec<String> = reply
            .body
            .as_array()
            .unwrap_or_else(|| panic!("{}", reply.body))
            .iter()
            .map(|r| r["label"].as_str().unwrap().to_owned())
            .collect();
        labels.sort();
        labels
    };
    let search = |needle: &str| format!("/prices?q={}", urlencode(needle));
    let ilike = |needle: &str| {
        format!(
            "/prices?_filters={}",
            urlencode(&json!({"label": {"ilike": needle}}).to_string())
        )
    };
    for path in [
        search("ÄRGER"),
        ilike("ÄRGER"),
        search("ärger"),
        search("RGER"),
    ] {
        assert_eq!(
            labels(&app.get(&path).await),
            ["Ärger im Büro", "ärgerlich"],
            "{backend:?} {path}"
        );
    }
    assert_eq!(labels(&app.get(&search("ångström")).await), ["ÅNGSTRÖM"]);
    assert_eq!(labels(&app.get(&search("büro")).await), ["Ärger im Büro"]);
    // What looks like a pattern is matched as it is written.
    assert_eq!(labels(&app.get(&search("0% (S")).await), ["100% (sure)"]);
    assert_eq!(labels(&app.get(&search("(Ü)")).await), Vec::<String>::new());
}

/// On PostgreSQL, with the index `check --advise` gives for the default sort of a nullable
/// column, every page by keyset (after a value, after a NULL) is index range scans: the plan
/// of the statement the admin runs has no sequential scan, over enough rows that one would
/// show.
pub async fn keyset_pages_are_index_ranges_on_postgres(backend: Backend) {
    if backend != Backend::Postgres {
        return;
    }
    const EVENTS: &str = r#"
[[entity]]
name = "events"
default_sort = "-happened_at"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "happened_at"
  type = "datetime"
  [[entity.field]]
  name = "title"
  type = "string"
"#;
    let table = "CREATE TABLE events (id SERIAL PRIMARY KEY, happened_at TIMESTAMPTZ, title VARCHAR(40));
        INSERT INTO events (happened_at, title)
          SELECT CASE WHEN n % 10 = 0 THEN NULL ELSE timestamptz '2024-01-01' + n * interval '1 minute' END, 'event ' || n
          FROM generate_series(1, 50000) n;
        -- The plan of a statement with its parameters given as literals.
        CREATE FUNCTION aa_explain(statement text, args text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
        DECLARE line text;
        BEGIN
          EXECUTE 'PREPARE aa_page AS ' || statement;
          FOR line IN EXECUTE 'EXPLAIN EXECUTE aa_page(' || args || ')' LOOP RETURN NEXT line; END LOOP;
          DEALLOCATE aa_page;
        END $f$;";
    let Some(app) = spawn_app(backend, &[table], EVENTS).await else {
        return;
    };
    let schema = app.schema.clone().unwrap();
    let advice = autoadmin::index_advice(&schema, &app.db.admin_url)
        .await
        .unwrap();
    let ordered = advice
        .iter()
        .find(|a| a.contains("DESC NULLS LAST"))
        .unwrap_or_else(|| panic!("{advice:#?}"));
    app.db.execute(ordered.split(": ").last().unwrap()).await;
    app.db.execute("ANALYZE events").await;
    let entity = schema.entity("events").unwrap();
    // Walk to a page after a value, then to the NULLs' pages (the last tenth).
    let mut cases = Vec::new();
    let mut path = "/events?_perPage=1000".to_owned();
    for _ in 0..48 {
        let reply = app.get(&path).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let link = reply.header("link").expect("a full page has a next one");
        let target = link.trim_start_matches('<').split('>').next().unwrap();
        let query = target.split_once('?').unwrap().1.to_owned();
        path = format!("/events?{query}");
        cases.push(query);
    }
    let after_a_value = &cases[2];
    let after_a_null = cases.last().unwrap();
    for query in [after_a_value, after_a_null] {
        let list_query =
            autoadmin::query::parse(entity, query, None, autoadmin::query::Limits::default())
                .unwrap();
        let sql = autoadmin::db::sql::list(
            autoadmin::db::Dialect::Postgres,
            &autoadmin::db::Catalog::default(),
            entity,
            &list_query,
        );
        let literals: Vec<String> = sql
            .binds
            .iter()
            .map(|value| match value {
                autoadmin::schema::Value::Int(n) => n.to_string(),
                autoadmin::schema::Value::DateTime(at) => format!("'{}'", at.to_rfc3339()),
                other => panic!("a bind this test does not write: {other:?}"),
            })
            .collect();
        let plan = app
            .db
            .scalar(&format!(
                "(SELECT string_agg(line, E'\\n') FROM (SELECT * FROM aa_explain($q${}$q$, $q${}$q$)) lines(line))",
                sql.text,
                literals.join(", ")
            ))
            .await
            .unwrap();
        // Each scan is a range of the index: an index condition, nothing filtered after.
        let scans = plan.matches("Index Scan").count() + plan.matches("Index Only Scan").count();
        assert!(scans > 0, "{plan}");
        assert!(!plan.contains("Seq Scan"), "{query}:\n{}\n{plan}", sql.text);
        assert!(!plan.contains("Filter:"), "{query}:\n{}\n{plan}", sql.text);
        assert_eq!(plan.matches("Index Cond").count(), scans, "{plan}");
    }
}

const SHOWN: &str = r#"
[[entity]]
name = "authors"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"

[[entity]]
name = "posts"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "title"
  type = "string"
  [[entity.field]]
  name = "author_id"
  type = "reference"
  target = "authors"
  display = "name"

[[entity]]
name = "by_author"
table = "posts"
default_sort = "-author_id.name"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "author_id"
  type = "reference"
  target = "authors"
  display = "name"
"#;

fn shown_schema(backend: Backend) -> [&'static str; 2] {
    match backend {
        Backend::Postgres => [
            "CREATE TABLE authors (id SERIAL PRIMARY KEY, name VARCHAR(20))",
            "CREATE TABLE posts (id SERIAL PRIMARY KEY, title VARCHAR(20), author_id INT REFERENCES authors(id))",
        ],
        Backend::MySql => [
            "CREATE TABLE authors (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))",
            "CREATE TABLE posts (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(20), author_id INT REFERENCES authors(id))",
        ],
        Backend::Sqlite => [
            "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(20))",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, title VARCHAR(20), author_id INTEGER REFERENCES authors(id))",
        ],
    }
}

/// A reference column sorts by the value it shows (`author_id.name`): the author's name,
/// not their id, with NULL (no author, or an author without a name) first; in every dialect,
/// unpaged, exported, by default, and page by page by keyset cursor.
pub async fn references_sort_by_the_value_they_show(backend: Backend) {
    let Some(app) = spawn_app(backend, &shown_schema(backend), SHOWN).await else {
        return;
    };
    // Ids in another order than names.
    let mut names = std::collections::HashMap::new();
    for name in [Some("Dan"), Some("Ada"), None, Some("Cleo"), Some("Bea")] {
        let author = app.create("authors", json!({"name": name})).await;
        names.insert(author["id"].as_i64().unwrap(), name);
    }
    let ids: Vec<i64> = {
        let mut ids: Vec<i64> = names.keys().copied().collect();
        ids.sort_unstable();
        ids
    };
    for (i, author) in [3, 0, 4, 1, 2, 0, 3, 1, 4, 2, 0].iter().enumerate() {
        app.create(
            "posts",
            json!({"title": format!("post {i}"), "author_id": ids[*author]}),
        )
        .await;
        if i % 4 == 0 {
            app.create(
                "posts",
                json!({"title": format!("orphan {i}"), "author_id": null}),
            )
            .await;
        }
    }
    // (name, id) of every post, as the list must order them: NULL first, then by name,
    // ties by id; descending reverses both.
    let all = app.get("/posts?_sortField=id").await.body;
    let mut want: Vec<(Option<&str>, i64)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["author_id"].as_i64().and_then(|author| names[&author]);
            (name, p["id"].as_i64().unwrap())
        })
        .collect();
    want.sort();
    let want_ids = |descending: bool| -> Vec<i64> {
        let mut ids: Vec<i64> = want.iter().map(|(_, id)| *id).collect();
        if descending {
            ids.reverse();
        }
        ids
    };
    let post_ids = |body: &Json| -> Vec<i64> {
        body.as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect()
    };
    for descending in [false, true] {
        let dir = if descending { "DESC" } else { "ASC" };
        for query in sorted_by("author_id.name", dir) {
            let reply = app.get(&format!("/posts?{query}")).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.body);
            assert_eq!(
                post_ids(&reply.body),
                want_ids(descending),
                "{backend:?} {query}"
            );
        }
        // The export prints the rows in the same order.
        let csv = app
            .text(&format!(
                "/posts/export.csv?_sortField=author_id.name&_sortDir={dir}"
            ))
            .await;
        let exported: Vec<i64> = csv
            .lines()
            .skip(1)
            .map(|line| line.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(exported, want_ids(descending), "{backend:?} export {dir}");
        for per_page in [1, 2, 3, 5] {
            let first =
                format!("/posts?_sortField=author_id.name&_sortDir={dir}&_perPage={per_page}");
            let seen = post_ids(&Json::Array(walk(&app, first).await));
            assert_eq!(
                seen,
                want_ids(descending),
                "{backend:?} keyset {dir} by {per_page}"
            );
        }
    }
    // A second sort key after the shown value, and the default sort of an entity.
    let reply = app.get("/posts?_sort=author_id.name,-title").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = app.get("/by_author?_perPage=50").await;
    assert_eq!(
        post_ids(&reply.body),
        want_ids(true),
        "{backend:?} default sort"
    );
    // Sorting by the reference itself still orders by its key.
    let by_key = post_ids(&app.get("/posts?_sortField=author_id").await.body);
    let mut keyed: Vec<(Option<i64>, i64)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["author_id"].as_i64(), p["id"].as_i64().unwrap()))
        .collect();
    keyed.sort();
    assert_eq!(by_key, keyed.iter().map(|(_, id)| *id).collect::<Vec<_>>());

    // What cannot be sorted by says what can.
    for (query, says) in [
        ("_sortField=author_id.id", "(author_id.name)"),
        ("_sortField=title.name", "\"title\" has no display field"),
        ("_sortField=nothing.name", "unknown field \"nothing.name\""),
        ("_sort=author_id.", "(author_id.name)"),
    ] {
        let reply = app.get(&format!("/posts?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        let (code, message) = reply.error();
        assert_eq!(code, "bad_request", "{query}");
        assert!(message.contains(says), "{query}: {message}");
    }
    // The default sort by a shown value wants an index on it, in the referenced table.
    let schema = app.schema.clone().unwrap();
    let advice = autoadmin::index_advice(&schema, &app.db.admin_url)
        .await
        .unwrap();
    let shown = advice
        .iter()
        .find(|a| a.starts_with("entity \"by_author\", field \"author_id.name\": sorted on by default (the value the reference shows) without an index: CREATE INDEX"))
        .unwrap_or_else(|| panic!("{advice:#?}"));
    assert!(shown.contains("authors_name_idx"), "{shown}");
    app.db.execute(shown.split(": ").last().unwrap()).await;
    let after = autoadmin::index_advice(&schema, &app.db.admin_url)
        .await
        .unwrap();
    assert!(
        !after.iter().any(|a| a.contains("author_id.name")),
        "{after:#?}"
    );
    // A cursor keeps the sort it was made for.
    let reply = app.get("/posts?_sortField=author_id.name&_perPage=2").await;
    let link = reply.header("link").unwrap().to_owned();
    let cursor = link
        .split("_cursor=")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap();
    let reply = app
        .get(&format!(
            "/posts?_sortField=author_id&_perPage=2&_cursor={cursor}"
        ))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
}
