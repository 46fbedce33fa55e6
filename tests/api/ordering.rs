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
        for query in [
            format!("_sortField=price&_sortDir={dir}&_page=1&_perPage=50"),
            format!(
                "sort={}&range=[0,49]",
                urlencode(&format!("[\"price\",\"{dir}\"]"))
            ),
            format!("_sort=price&_order={dir}&_start=0&_end=50"),
            // Unpaged: the streamed path.
            format!("_sortField=price&_sortDir={dir}"),
        ] {
            let reply = app.get(&format!("/prices?{query}")).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.body);
            assert_eq!(order(&reply.body), want, "{backend:?} {query}");
        }
        // Page by page, by keyset: the same order.
        let mut seen = Vec::new();
        let mut next = Some(format!(
            "/prices?_sortField=price&_sortDir={dir}&_perPage=3"
        ));
        while let Some(path) = next.take() {
            let reply = app.get(&path).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
            seen.extend(order(&reply.body));
            next = reply.header("link").map(|link| {
                let target = link.trim_start_matches('<').split('>').next().unwrap();
                target[target.find("/prices").unwrap()..].to_owned()
            });
        }
        assert_eq!(seen, want, "{backend:?} keyset {dir}");
    }
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
