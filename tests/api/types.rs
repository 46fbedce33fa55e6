//! Every field type survives the round trip client → database → client, in the wire formats
//! of DESIGN.md §4, and can be filtered on; on every backend.

use serde_json::{Value as Json, json};

use crate::common::{Backend, spawn_app, urlencode};

pub const KITCHEN: &str = r#"
[[entity]]
name = "kitchen"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "small"
  type = "integer"
  [[entity.field]]
  name = "big"
  type = "integer"
  [[entity.field]]
  name = "ratio"
  type = "float"
  [[entity.field]]
  name = "real4"
  type = "float"
  [[entity.field]]
  name = "price"
  type = "decimal"
  [[entity.field]]
  name = "name"
  type = "string"
  [[entity.field]]
  name = "notes"
  type = "text"
  [[entity.field]]
  name = "flag"
  type = "boolean"
  [[entity.field]]
  name = "day"
  type = "date"
  [[entity.field]]
  name = "at"
  type = "datetime"
  [[entity.field]]
  name = "naive_at"
  type = "datetime"
  [[entity.field]]
  name = "clock"
  type = "time"
  [[entity.field]]
  name = "token"
  type = "uuid"
  [[entity.field]]
  name = "doc"
  type = "json"
  [[entity.field]]
  name = "doc_text"
  type = "json"
  [[entity.field]]
  name = "email"
  type = "email"
  [[entity.field]]
  name = "site"
  type = "url"
  [[entity.field]]
  name = "mood"
  type = "choice"
  choices = ["happy", "sad"]
  [[entity.field]]
  name = "secret"
  type = "password"
"#;

fn same_decimal(a: &Json, b: &str) -> bool {
    let parse = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap().normalize();
    a.as_str().is_some_and(|a| parse(a) == parse(b))
}

pub async fn every_type_round_trips(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], KITCHEN).await else {
        return;
    };
    let token = "6f1c1d1e-8f4b-4c55-9a59-7b0fd2c7f9a1";
    let sent = json!({
        "small": -32000,
        "big": "9007199254740993",
        "ratio": 0.1,
        "real4": 0.5,
        "price": "1234.5678",
        "name": "Zoë 🎉 \"quoted\" 'single'",
        "notes": "line one\nline two\t<b>not html</b>",
        "flag": true,
        "day": "2024-02-29",
        "at": "2024-05-01T14:30:00.123+02:00",
        "naive_at": "2024-05-01T12:30:00Z",
        "clock": "13:45:30",
        "token": token,
        "doc": {"a": [1, 2, {"b": null}], "c": "ü"},
        "doc_text": {"x": 1},
        "email": "zoe@example.com",
        "site": "https://example.com/a?b=c",
        "mood": "sad",
        "secret": "hunter2",
    });
    let created = app.create("kitchen", sent.clone()).await;
    let id = created["id"].as_i64().unwrap();
    let stored = app.get(&format!("/kitchen/{id}")).await.body;
    assert_eq!(stored, created, "create returns what get returns");

    let expect =
        |field: &str, value: Json| assert_eq!(stored[field], value, "{field} on {backend:?}");
    expect("small", json!(-32000));
    expect("big", json!("9007199254740993"));
    expect("ratio", json!(0.1));
    expect("real4", json!(0.5));
    assert!(
        same_decimal(&stored["price"], "1234.5678"),
        "price {}",
        stored["price"]
    );
    expect("name", sent["name"].clone());
    expect("notes", sent["notes"].clone());
    expect("flag", json!(true));
    expect("day", json!("2024-02-29"));
    expect("at", json!("2024-05-01T12:30:00.123Z"));
    expect("naive_at", json!("2024-05-01T12:30:00Z"));
    expect("clock", json!("13:45:30"));
    expect("token", json!(token));
    expect("doc", sent["doc"].clone());
    expect("doc_text", json!({"x": 1}));
    expect("email", json!("zoe@example.com"));
    expect("site", sent["site"].clone());
    expect("mood", json!("sad"));
    assert!(
        stored.get("secret").is_none(),
        "password fields are never returned"
    );
    assert_eq!(
        app.db
            .scalar(&format!("SELECT secret FROM kitchen WHERE id = {id}"))
            .await
            .as_deref(),
        Some("hunter2")
    );

    // Every field can be found by its value.
    for field in [
        "small", "big", "ratio", "real4", "price", "name", "flag", "day", "at", "naive_at",
        "clock", "token", "email", "site", "mood",
    ] {
        let filter = json!({ field: stored[field] }).to_string();
        let reply = app
            .get(&format!("/kitchen?_filters={}", urlencode(&filter)))
            .await;
        assert_eq!(reply.status, 200, "{field}: {}", reply.body);
        assert_eq!(reply.ids(), vec![id], "filter {filter} on {backend:?}");
    }

    // Nulls and false round-trip too; bigints at the extremes.
    let reply = app
        .put(
            &format!("/kitchen/{id}"),
            json!({
                "flag": false, "doc": null, "price": null, "big": i64::MIN.to_string(), "small": 0,
                "at": null, "clock": "00:00:00",
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["flag"], json!(false));
    assert_eq!(reply.body["doc"], json!(null));
    assert_eq!(reply.body["price"], json!(null));
    assert_eq!(reply.body["at"], json!(null));
    assert_eq!(reply.body["big"], json!(i64::MIN.to_string()));
    assert_eq!(reply.body["small"], json!(0));
    assert_eq!(reply.body["clock"], json!("00:00:00"));
    let reply = app.get("/kitchen?_filters=%7B%22flag%22%3Afalse%7D").await;
    assert_eq!(reply.ids(), vec![id]);

    // Decimals keep every digit where the column type can hold them.
    if backend != Backend::Sqlite {
        let reply = app
            .put(
                &format!("/kitchen/{id}"),
                json!({"price": "12345678901234.123456"}),
            )
            .await;
        assert_eq!(reply.body["price"], json!("12345678901234.123456"));
    }

    // A decimal sent in exponent form comes back in plain digits (SQLite keeps it as REAL).
    let reply = app
        .put(&format!("/kitchen/{id}"), json!({"price": 1.5e-7}))
        .await;
    let price = reply.body["price"].as_str().unwrap().to_owned();
    assert!(
        !price.contains(['e', 'E']) && price.parse::<f64>().is_ok(),
        "{price}"
    );

    // Values of the wrong type are refused per field, and the record is unchanged.
    let reply = app.put(&format!("/kitchen/{id}"), json!({
        "small": "x", "ratio": "y", "price": "1.2.3", "flag": "maybe", "day": "2023-02-29",
        "at": "noon", "clock": "25:61", "token": "zzz", "email": "no", "site": "no", "mood": "meh",
    })).await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body["errors"].as_object().unwrap().len(),
        11,
        "{}",
        reply.body
    );
    assert_eq!(
        app.get(&format!("/kitchen/{id}")).await.body["mood"],
        json!("sad")
    );
}

/// A value too long for the column is refused by the database when no rule catches it
/// first, as a 422 on the field (or the record), never a 500.
pub async fn database_refusals_are_4xx(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], KITCHEN).await else {
        return;
    };
    let reply = app
        .post("/kitchen", json!({"name": "x".repeat(60), "small": 1}))
        .await;
    if backend == Backend::Sqlite {
        // SQLite does not enforce VARCHAR lengths.
        assert_eq!(reply.status, 201);
    } else {
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert_eq!(reply.error().0, "validation_failed");
    }
    let reply = app.post("/kitchen", json!({"small": 70000})).await;
    if backend == Backend::Sqlite {
        assert_eq!(reply.status, 201);
    } else {
        assert_eq!(reply.status, 422, "{}", reply.body);
    }
}

/// Ordering and set operators on every ordered type, and substring operators on every text
/// type, against three rows whose values are low < mid < high in every column.
pub async fn operators_on_every_type(backend: Backend) {
    let Some(app) = spawn_app(backend, &[&backend.fixture("kitchen.sql")], KITCHEN).await else {
        return;
    };
    let rows = [
        json!({"small": -5, "big": "-9007199254740993", "ratio": -1.5, "real4": 0.25, "price": "-0.5",
               "name": "alpha", "day": "1999-12-31", "at": "2020-01-01T00:00:00Z",
               "naive_at": "2020-01-01T00:00:00.5Z", "clock": "00:00:01",
               "token": "00000000-0000-4000-8000-000000000001", "email": "a@x.org",
               "site": "http://a.example", "mood": "happy", "flag": false}),
        json!({"small": 0, "big": "42", "ratio": 0.0, "real4": 0.5, "price": "10.25",
               "name": "beta", "day": "2024-02-29", "at": "2024-05-01T12:30:00.123Z",
               "naive_at": "2024-05-01T12:30:00Z", "clock": "12:00:00",
               "token": "7fffffff-0000-4000-8000-000000000000", "email": "b@x.org",
               "site": "http://b.example", "mood": "happy", "flag": true}),
        json!({"small": 7, "big": "9007199254740993", "ratio": 2.5, "real4": 1.0, "price": "99.99",
               "name": "gamma", "day": "2030-01-01", "at": "2030-06-01T23:59:59Z",
               "naive_at": "2030-06-01T23:59:59Z", "clock": "23:59:59",
               "token": "ffffffff-0000-4000-8000-000000000000", "email": "c@x.org",
               "site": "http://c.example", "mood": "sad", "flag": false}),
    ];
    let mut ids = Vec::new();
    for row in &rows {
        ids.push(
            app.create("kitchen", row.clone()).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let [low, mid, high] = ids[..] else { panic!() };
    let check = |field: &'static str, operators: serde_json::Value, want: Vec<i64>| {
        let app = &app;
        async move {
            let filter = json!({ field: operators }).to_string();
            let reply = app
                .get(&format!(
                    "/kitchen?_sortField=id&_filters={}",
                    urlencode(&filter)
                ))
                .await;
            assert_eq!(reply.status, 200, "{filter}: {}", reply.body);
            assert_eq!(reply.ids(), want, "{filter} on {backend:?}");
        }
    };
    for field in [
        "small", "big", "ratio", "real4", "price", "name", "day", "at", "naive_at", "clock",
        "token", "email", "site",
    ] {
        let value = |i: usize| rows[i][field].clone();
        check(field, json!({"gt": value(1)}), vec![high]).await;
        check(field, json!({"gte": value(1)}), vec![mid, high]).await;
        check(field, json!({"lt": value(1)}), vec![low]).await;
        check(field, json!({"lte": value(1), "gt": value(0)}), vec![mid]).await;
        check(field, json!({"ne": value(1)}), vec![low, high]).await;
        check(field, json!({"in": [value(0), value(2)]}), vec![low, high]).await;
        check(field, json!({"nin": [value(0), value(2)]}), vec![mid]).await;
        check(field, json!({"eq": value(2)}), vec![high]).await;
    }
    check("flag", json!({"ne": true}), vec![low, high]).await;
    check("flag", json!({"in": [true]}), vec![mid]).await;
    check("mood", json!({"in": ["sad"]}), vec![high]).await;
    check("mood", json!({"ne": "happy"}), vec![high]).await;
    // Substrings, on every text-like type (the uuid and enum columns are cast to text).
    check("name", json!({"like": "et"}), vec![mid]).await;
    check("name", json!({"ilike": "AMM"}), vec![high]).await;
    check("email", json!({"ilike": "B@X"}), vec![mid]).await;
    check("site", json!({"like": "c.ex"}), vec![high]).await;
    check("token", json!({"like": "7fff"}), vec![mid]).await;
    check("token", json!({"ilike": "FFFFFFFF"}), vec![high]).await;
    check("mood", json!({"ilike": "SA"}), vec![high]).await;
    check("notes", json!({"is_null": true}), vec![low, mid, high]).await;
    check("doc", json!({"is_null": false}), vec![]).await;
}
