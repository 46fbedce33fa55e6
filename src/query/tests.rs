//! The parser, one line per case: each query string and what it parses to, or its error.

use super::*;
use crate::schema::{Field, Schema};

fn users() -> Entity {
    Schema::new(vec![
        Entity::new("users")
            .per_page(10)
            .search(["name"])
            .field(Field::integer("id"))
            .field(Field::string("name"))
            .field(Field::integer("age"))
            .field(Field::boolean("active"))
            .field(Field::choice("role", ["admin", "staff"]))
            .field(Field::json("prefs"))
            .field(Field::password("password")),
    ])
    .unwrap()
    .entity("users")
    .unwrap()
    .clone()
}

/// Renders a ListQuery compactly, so cases read as one line each.
fn render(entity: &Entity, q: &ListQuery) -> String {
    let mut parts = Vec::new();
    for filter in &q.filters {
        let name = &entity.fields[filter.field].name;
        parts.push(match &filter.condition {
            Condition::Compare(c, v) => format!("filter {name} {} {v:?}", c.symbol()),
            Condition::In(vs) => format!("filter {name} in {vs:?}"),
            Condition::NotIn(vs) => format!("filter {name} nin {vs:?}"),
            Condition::Contains {
                text,
                case_sensitive,
            } => {
                format!(
                    "filter {name} contains{} {text}",
                    if *case_sensitive { "" } else { "/i" }
                )
            }
            Condition::IsNull(b) => format!("filter {name} is_null {b}"),
            Condition::HasAny(vs) => format!("filter {name} any {vs:?}"),
            Condition::HasAll(vs) => format!("filter {name} all {vs:?}"),
        });
    }
    if let Some(s) = &q.search {
        parts.push(format!("search {s}"));
    }
    let sort: Vec<String> = q
        .sort
        .iter()
        .map(|k| format!("{} {:?}", entity.fields[k.field].name, k.direction).to_lowercase())
        .collect();
    parts.push(format!("sort {}", sort.join(", ")));
    parts.push(match q.page {
        Page::Window { limit, offset } => format!("limit {limit} offset {offset}"),
        Page::All { max_rows } => format!("all {max_rows}"),
    });
    parts.join("; ")
}

fn check(qs: &str, want: Result<&str, &str>) {
    check_with_range(qs, None, want)
}

fn check_with_range(qs: &str, range: Option<&str>, want: Result<&str, &str>) {
    let entity = users();
    let got = parse(
        &entity,
        qs,
        range,
        Limits {
            max_per_page: 100,
            max_rows: 500,
        },
    )
    .map(|q| render(&entity, &q))
    .map_err(|e| e.to_string());
    assert_eq!(
        got.as_deref().map_err(String::as_str),
        want,
        "query string: {qs}"
    );
}

#[test]
fn paging_and_sorting() {
    check("", Ok("sort id asc; all 500"));
    check("_page=3", Ok("sort id asc; limit 10 offset 20"));
    check("_page=2&_perPage=25", Ok("sort id asc; limit 25 offset 25"));
    check("_perPage=5000", Ok("sort id asc; limit 100 offset 0"));
    check(
        "_sortField=age&_sortDir=DESC",
        Ok("sort age desc, id desc; all 500"),
    );
    check(
        "_sortField=age&_sortDir=asc",
        Ok("sort age asc, id asc; all 500"),
    );
    check("_sortDir=DESC", Ok("sort id desc; all 500"));
    check(
        "_page=0",
        Err("query parameter \"_page\" must be a whole number from 1, not \"0\""),
    );
    check(
        "_perPage=x",
        Err("query parameter \"_perPage\" must be a whole number from 1, not \"x\""),
    );
    check(
        "_sortDir=sideways",
        Err("query parameter \"_sortDir\" must be ASC or DESC, not \"sideways\""),
    );
    check(
        "_sortField=emial",
        Err("unknown field \"emial\" in sort of entity \"users\""),
    );
    check(
        "_sortField=password",
        Err("unknown field \"password\" in sort of entity \"users\""),
    );
    check(
        "_page=1&_page=2",
        Err("query parameter \"_page\" is given more than once"),
    );
    check("_pagee=1", Err("unknown query parameter \"_pagee\""));
    // The document's bound whatever the page size (found by schemathesis's coverage phase:
    // one above it was answered 200 with 10 rows a page).
    check(
        "_page=92233720368547758",
        Ok("sort id asc; limit 10 offset 922337203685477570"),
    );
    check(
        "_page=92233720368547759",
        Err("query parameter \"_page\" is too large (at most 92233720368547758)"),
    );
    check(
        "_page=99999999999999999999",
        Err(
            "query parameter \"_page\" must be a whole number from 1, not \"99999999999999999999\"",
        ),
    );
}

#[test]
fn query_strings_must_be_utf8_once_decoded() {
    check("q=%E2%82%AC", Ok("search €; sort id asc; all 500"));
    check("q=a+b%2Bc", Ok("search a b+c; sort id asc; all 500"));
    // A `%` without two hex digits is itself.
    check("q=100%", Ok("search 100%; sort id asc; all 500"));
    check("q=%zz", Ok("search %zz; sort id asc; all 500"));
    check(
        "q=%FF",
        Err("the query string cannot be decoded: \"%FF\" is not UTF-8 text once percent-decoded"),
    );
    check(
        "_filters=%7B%22name%22%3A%22%C3%28%22%7D",
        Err(
            "the query string cannot be decoded: \"%7B%22name%22%3A%22%C3%28%22%7D\" is not UTF-8 text once percent-decoded",
        ),
    );
    check(
        "%FF=1",
        Err("the query string cannot be decoded: \"%FF\" is not UTF-8 text once percent-decoded"),
    );
}

#[test]
fn filters() {
    check(
        r#"_filters={"age":{"gt":30}}"#,
        Ok("filter age > Int(30); sort id asc; all 500"),
    );
    check(
        r#"_filters={"age":{"gte":"30","le":40}}"#,
        Ok("filter age >= Int(30); filter age <= Int(40); sort id asc; all 500"),
    );
    check(
        r#"_filters={"name":{"ilike":"a%"}}"#,
        Ok("filter name contains/i a%; sort id asc; all 500"),
    );
    check(
        r#"_filters={"name":"Ann+Lee"}"#,
        Ok("filter name = Text(\"Ann Lee\"); sort id asc; all 500"),
    );
    check(
        r#"_filters={"id":[1,2,3]}"#,
        Ok("filter id in [Int(1), Int(2), Int(3)]; sort id asc; all 500"),
    );
    check(
        r#"_filters={"role":{"nin":["admin"]}}"#,
        Ok("filter role nin [Text(\"admin\")]; sort id asc; all 500"),
    );
    check(
        r#"_filters={"age":null}"#,
        Ok("filter age is_null true; sort id asc; all 500"),
    );
    check(
        r#"_filters={"age":{"ne":null}}"#,
        Ok("filter age is_null false; sort id asc; all 500"),
    );
    check(
        r#"_filters={"active":true}"#,
        Ok("filter active = Bool(true); sort id asc; all 500"),
    );
    check(
        r#"_filters={"prefs":{"is_null":false}}"#,
        Ok("filter prefs is_null false; sort id asc; all 500"),
    );
    check("q=bob", Ok("search bob; sort id asc; all 500"));
    check(
        r#"_filters={"emial":"x"}"#,
        Err("unknown field \"emial\" in filter of entity \"users\""),
    );
    check(
        r#"_filters={"password":"x"}"#,
        Err("unknown field \"password\" in filter of entity \"users\""),
    );
    check(
        r#"_filters={"age":{"between":1}}"#,
        Err(
            "unknown operator \"between\" for field \"age\" (operators: eq ne lt lte gt gte in nin is_null)",
        ),
    );
    check(
        r#"_filters={"age":{"like":"1"}}"#,
        Err("operator \"like\" does not apply to integer field \"age\""),
    );
    check(
        r#"_filters={"active":{"gt":true}}"#,
        Err("operator \"gt\" does not apply to boolean field \"active\""),
    );
    check(
        r#"_filters={"prefs":{"a":1}}"#,
        Err("unknown operator \"a\" for field \"prefs\" (operators: is_null)"),
    );
    check(
        r#"_filters={"age":"old"}"#,
        Err("filter value for field \"age\" must be an integer"),
    );
    check(
        r#"_filters={"role":"boss"}"#,
        Err("filter value for field \"role\" must be one of: admin, staff"),
    );
    check(
        r#"_filters={"age":{}}"#,
        Err("filter value for field \"age\" has no operator"),
    );
    check(
        r#"_filters={"age":{"in":5}}"#,
        Err("filter value for field \"age\" must be a list for \"in\""),
    );
    check(
        r#"_filters=[1]"#,
        Err("query parameter \"_filters\" must be a JSON object of field: condition"),
    );
    check(
        r#"_filters={"age""#,
        Err(
            "query parameter \"_filters\" is not valid JSON: EOF while parsing an object at line 1 column 6",
        ),
    );
}

#[test]
fn react_admin_simple_rest() {
    check(r#"range=[0,24]"#, Ok("sort id asc; limit 25 offset 0"));
    check(
        r#"range=[10,19]&sort=["age","DESC"]"#,
        Ok("sort age desc, id desc; limit 10 offset 10"),
    );
    check(
        r#"filter={"id":[1,2]}"#,
        Ok("filter id in [Int(1), Int(2)]; sort id asc; all 500"),
    );
    check(
        r#"filter={"q":"bo","role":"admin"}"#,
        Ok("filter role = Text(\"admin\"); search bo; sort id asc; all 500"),
    );
    check(
        r#"filter={"age_gte":30}"#,
        Ok("filter age >= Int(30); sort id asc; all 500"),
    );
    check(r#"range=[0,5000]"#, Ok("sort id asc; limit 100 offset 0"));
    check_with_range("", Some("users=5-9"), Ok("sort id asc; limit 5 offset 5"));
    check_with_range(
        r#"range=[0,4]"#,
        Some("users=5-9"),
        Ok("sort id asc; limit 5 offset 0"),
    );
    check_with_range("", Some("users=9-5"), Ok("sort id asc; limit 0 offset 9"));
    // A Range header of another form is ignored (RFC 9110 lets a server).
    check_with_range("", Some("bytes=0-"), Ok("sort id asc; all 500"));
    // A window that ends before it starts is empty.
    check(r#"range=[5,1]"#, Ok("sort id asc; limit 0 offset 5"));
    check(
        r#"range=[0]"#,
        Err("query parameter \"range\" must be [first, last], two whole numbers, not \"[0]\""),
    );
    check(
        r#"sort=["age","UP"]"#,
        Err("query parameter \"sort\" must be ASC or DESC, not \"UP\""),
    );
    check(
        r#"sort=age"#,
        Err("query parameter \"sort\" must be [\"field\", \"ASC\" or \"DESC\"], not \"age\""),
    );
    check(
        r#"filter={"q":1}"#,
        Err("query parameter \"filter.q\" must be a string"),
    );
}

#[test]
fn react_admin_json_server() {
    check("_start=0&_end=10", Ok("sort id asc; limit 10 offset 0"));
    check(
        "_start=20&_end=25&_sort=age&_order=DESC",
        Ok("sort age desc, id desc; limit 5 offset 20"),
    );
    check(
        "_sort=role,age&_order=asc,desc",
        Ok("sort role asc, age desc, id asc; all 500"),
    );
    check("_sort=-age", Ok("sort age desc, id desc; all 500"));
    check("_page=2&_limit=5", Ok("sort id asc; limit 5 offset 5"));
    check(
        "role=admin",
        Ok("filter role = Text(\"admin\"); sort id asc; all 500"),
    );
    check(
        "id=1&id=3",
        Ok("filter id in [Int(1), Int(3)]; sort id asc; all 500"),
    );
    check(
        "age_gte=30&age_lte=40",
        Ok("filter age >= Int(30); filter age <= Int(40); sort id asc; all 500"),
    );
    check(
        "age_ne=3&age_ne=4",
        Ok("filter age nin [Int(3), Int(4)]; sort id asc; all 500"),
    );
    check(
        "name_like=An",
        Ok("filter name contains/i An; sort id asc; all 500"),
    );
    check(
        "active=true&q=x",
        Ok("filter active = Bool(true); search x; sort id asc; all 500"),
    );
    check(
        "age_is_null=true",
        Ok("filter age is_null true; sort id asc; all 500"),
    );
    check("_start=5&_end=2", Ok("sort id asc; limit 0 offset 5"));
    check(
        "_end=x",
        Err("query parameter \"_end\" must be a whole number from 0, not \"x\""),
    );
    check("agee=3", Err("unknown query parameter \"agee\""));
    check(
        "age_between=3",
        Err("unknown query parameter \"age_between\""),
    );
    check("password=x", Err("unknown query parameter \"password\""));
    check(
        "age=old",
        Err("filter value for field \"age\" must be an integer"),
    );
    check(
        "name_like=a&name_like=b",
        Err("query parameter \"name_like\" is given more than once"),
    );
    check(
        "_order=sideways&_sort=age",
        Err("query parameter \"_order\" must be ASC or DESC, not \"sideways\""),
    );
}

#[test]
fn dialects_meet_in_a_documented_order() {
    // Paging: range, then _start/_end, then _page with _perPage (before _limit).
    check("_page=3&range=[0,4]", Ok("sort id asc; limit 5 offset 0"));
    check(
        "_start=2&_end=4&_perPage=5",
        Ok("sort id asc; limit 2 offset 2"),
    );
    check(
        "_page=2&_perPage=5&_limit=7",
        Ok("sort id asc; limit 5 offset 5"),
    );
    // Sorting: sort, then _sort/_order, then _sortField/_sortDir.
    check(
        r#"_sortField=age&sort=["name","DESC"]"#,
        Ok("sort name desc, id desc; all 500"),
    );
    check(
        "_sort=age&_sortDir=DESC",
        Ok("sort age asc, id asc; all 500"),
    );
    // Filters: both objects apply.
    check(
        r#"_filters={"age":3}&filter={"active":true}&role=admin"#,
        Ok(
            r#"filter age = Int(3); filter active = Bool(true); filter role = Text("admin"); sort id asc; all 500"#,
        ),
    );
    // The search: q, then filter.q.
    check(
        r#"q=a&filter={"q":"b"}"#,
        Ok("search a; sort id asc; all 500"),
    );
    check(r#"filter={"q":"b"}"#, Ok("search b; sort id asc; all 500"));
}
