//! Property-based tests of everything that reads what a client or an operator writes: the
//! list's three dialects and its filters, cursors, batch ids, aggregates, a saved view's
//! state, the descriptors' TOML and a record's JSON body. Whatever the input, the parsers
//! answer (never a panic), and a refusal is an error that the API sends as a 4xx.
//!
//! Inputs are made from the protocol's own words (parameter names, operators, the demo's
//! fields) mixed with arbitrary text, so that cases reach deep into the parsers rather than
//! stopping at the first unknown name. A bounded number of cases runs with `cargo test`;
//! `PROPTEST_CASES=100000 cargo test proptests` runs more.

use proptest::prelude::*;
use serde_json::{Map, Value as Json};

use super::params::PARAMETERS;
use super::{Limits, OPERATORS};
use crate::schema::{Entity, Schema};

fn blog() -> Schema {
    crate::config::load_str(crate::demo::CONFIG, "blog.toml")
        .expect("the demo's descriptors load")
        .schema
}

fn entity<'a>(schema: &'a Schema, name: &str) -> &'a Entity {
    schema.entity(name).expect("an entity of the demo")
}

const LIMITS: Limits = Limits {
    max_per_page: 100,
    max_rows: 10_000,
};

/// Words a client might send: the demo's field names, the protocol's parameters and
/// operators, and a few that are none of those.
fn word() -> impl Strategy<Value = String> {
    let mut words: Vec<String> = [
        "id",
        "title",
        "status",
        "author_id",
        "author_id.name",
        "tags",
        "tag_id",
        "views",
        "rating",
        "published_at",
        "body",
        "topics",
        "q",
        "all",
        "any",
        "is_empty",
        "ids",
        "versions",
        "group_by",
        "metric",
        "bucket",
        "limit",
        "count",
        "sum:views",
        "avg:rating",
        "day",
        "week",
        "month",
        "ASC",
        "DESC",
        "asc",
        "desc",
        "none",
        "estimated",
        "exact",
    ]
    .iter()
    .map(|w| (*w).to_owned())
    .collect();
    words.extend(PARAMETERS.iter().map(|p| p.name.to_owned()));
    words.extend(OPERATORS.iter().map(|o| o.name.to_owned()));
    prop_oneof![
        4 => proptest::sample::select(words),
        1 => "\\PC{0,12}",
        1 => "[a-z_]{1,8}_(gte|lte|ne|like|gt|lt|all|is_empty)",
    ]
}

/// A JSON value of the shapes filters take, small and nested.
fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        word().prop_map(Json::String),
        "\\PC{0,10}".prop_map(Json::String),
        Just(Json::String("2026-02-30T25:61:00Z".into())),
        Just(Json::String("2026-03-01".into())),
        Just(Json::String("1e400".into())),
        Just(Json::from(u64::MAX)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            proptest::collection::vec((word(), inner), 0..4)
                .prop_map(|pairs| Json::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A value as it may appear in a query string: JSON, a word, or raw bytes of text, percent-
/// encoded or not.
fn value() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        json().prop_map(|j| j.to_string()),
        word(),
        "\\PC{0,16}",
        "[0-9, \\[\\]-]{0,12}",
        "%[0-9A-Fa-f]{0,2}|%ZZ|%C3%28|%00",
    ];
    (text, any::<bool>()).prop_map(|(text, encode)| {
        if encode {
            super::params::encode_component(&text)
        } else {
            text
        }
    })
}

/// A whole query string: `name=value` pairs, sometimes a bare name, joined by `&`.
fn query_string() -> impl Strategy<Value = String> {
    let pair = prop_oneof![
        6 => (word(), value()).prop_map(|(name, value)| format!("{name}={value}")),
        1 => word(),
        1 => "\\PC{0,20}",
    ];
    proptest::collection::vec(pair, 0..6).prop_map(|pairs| pairs.join("&"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn list_queries_parse_or_are_refused(query in query_string(), range in proptest::option::of("\\PC{0,20}")) {
        let schema = blog();
        for name in ["posts", "authors", "comments", "tags"] {
            // An error is a `query::Error`, which the API answers with 400.
            let _ = super::parse(entity(&schema, name), &query, range.as_deref(), LIMITS);
        }
    }

    #[test]
    fn filters_of_any_shape_parse_or_are_refused(filter in json(), dialect in 0..3usize) {
        let schema = blog();
        let text = super::params::encode_component(&filter.to_string());
        let query = match dialect {
            0 => format!("_filters={text}"),
            1 => format!("filter={text}"),
            _ => format!("_filters={text}&_cursor={text}&_perPage=5"),
        };
        let _ = super::parse(entity(&schema, "posts"), &query, None, LIMITS);
    }

    #[test]
    fn cursors_decode_or_are_refused(cursor in "[A-Za-z0-9_=-]{0,64}", sort in word()) {
        let schema = blog();
        let query = format!("_sort={sort}&_limit=5&_cursor={cursor}");
        let _ = super::parse(entity(&schema, "posts"), &query, None, LIMITS);
    }

    #[test]
    fn batches_and_aggregates_parse_or_are_refused(query in query_string()) {
        let schema = blog();
        let posts = entity(&schema, "posts");
        let _ = super::parse_ids(posts, &query, LIMITS.max_per_page);
        let _ = super::parse_aggregate(posts, &query, LIMITS);
        let _ = super::parse_id(posts, &query);
    }

    #[test]
    fn view_states_are_checked_or_refused(state in json()) {
        let schema = blog();
        let _ = super::check_view_state(entity(&schema, "posts"), &state, LIMITS);
    }

    #[test]
    fn record_bodies_are_checked_or_refused(pairs in proptest::collection::vec((word(), json()), 0..8)) {
        let schema = blog();
        let body: Map<String, Json> = pairs.into_iter().collect();
        for name in ["posts", "authors", "comments"] {
            let entity = entity(&schema, name);
            let _ = crate::schema::prepare_create(entity, &body);
            let _ = crate::schema::prepare_update(entity, &body, &body);
        }
    }

    #[test]
    fn descriptor_files_load_or_name_what_is_wrong(text in descriptor()) {
        if let Err(error) = crate::config::load_str(&text, "fuzz.toml") {
            prop_assert_eq!(error.file, "fuzz.toml");
        }
    }
}

/// Cases per property: `PROPTEST_CASES`, else few enough for every `cargo test`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}

/// Descriptor text: the demo's, with a line changed, dropped or added.
fn descriptor() -> impl Strategy<Value = String> {
    let lines: Vec<String> = crate::demo::CONFIG.lines().map(str::to_owned).collect();
    let n = lines.len();
    (0..n, 0..3usize, word(), value()).prop_map(move |(at, edit, key, value)| {
        let mut lines = lines.clone();
        match edit {
            0 => lines[at] = format!("{key} = {value}"),
            1 => {
                lines.remove(at);
            }
            _ => lines.insert(at, format!("  {key} = \"{value}\"")),
        }
        lines.join("\n")
    })
}
