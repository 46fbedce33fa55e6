//! The SQL of lists per dialect, and keyset conditions.

use super::*;
use crate::query::{self, Limits};
use crate::schema::{Field, Schema};

fn posts() -> Entity {
    Schema::new(vec![
        Entity::new("posts")
            .search(["title"])
            .field(Field::integer("id"))
            .field(Field::string("title"))
            .field(Field::decimal("rating"))
            .field(Field::choice("status", ["draft", "published"]))
            .field(Field::password("secret")),
    ])
    .unwrap()
    .entity("posts")
    .unwrap()
    .clone()
}

fn check(dialect: Dialect, qs: &str, want: &str) {
    let entity = posts();
    let list_query = query::parse(&entity, qs, None, Limits::default()).unwrap();
    let mut catalog = Catalog::default();
    catalog.insert("posts", "status", "post_status");
    let sql = list(dialect, &catalog, &entity, &list_query);
    assert_eq!(sql.text, want);
}

/// The statement of the page after a row whose sort values are `values`, by keyset.
fn after_sql(sort: &str, values: Vec<serde_json::Value>) -> String {
    let entity = posts();
    let first = query::parse(&entity, sort, None, Limits::default()).unwrap();
    let cursor = query::cursor(&entity, &first.sort, values);
    let next = format!("{sort}&_perPage=10&_cursor={cursor}");
    let list_query = query::parse(&entity, &next, None, Limits::default()).unwrap();
    list(Dialect::Postgres, &Catalog::default(), &entity, &list_query).text
}

/// The WHERE of a statement, up to its ORDER BY.
fn condition(sql: &str) -> &str {
    let start = sql.find(" WHERE ").unwrap() + 7;
    &sql[start..sql.find(" ORDER BY").unwrap()]
}

#[test]
fn keyset_pages_are_index_ranges() {
    use serde_json::json;
    // The key alone is never NULL: one range.
    let sql = after_sql("_sortField=id&_sortDir=DESC", vec![json!(100026)]);
    assert_eq!(condition(&sql), "((\"id\" < $1))");
    // A column and the key, after a value, ascending: one row comparison (NULLs came first).
    let sql = after_sql("_sortField=title&_sortDir=ASC", vec![json!("m"), json!(7)]);
    assert_eq!(condition(&sql), "(\"title\", \"id\") > ($1, $2)");
    // After a NULL, descending: the rest of the NULLs, by key.
    let sql = after_sql(
        "_sortField=title&_sortDir=DESC",
        vec![json!(null), json!(7)],
    );
    assert_eq!(condition(&sql), "\"title\" IS NULL AND \"id\" < $1");
    // After a value, descending: the smaller values, then every NULL: two ranges.
    let sql = after_sql("_sortField=title&_sortDir=DESC", vec![json!("m"), json!(7)]);
    assert_eq!(
        sql,
        "SELECT * FROM (SELECT * FROM (SELECT \"id\", \"title\", CAST(\"rating\" AS TEXT), \"status\", 0 AS \"aa_part\", \"title\" AS \"aa_k1\", \"id\" AS \"aa_k2\" FROM \"posts\" WHERE (\"title\", \"id\") < ($1, $2) ORDER BY \"posts\".\"title\" DESC NULLS LAST, \"posts\".\"id\" DESC LIMIT $3) AS \"aa_b0\" UNION ALL SELECT * FROM (SELECT \"id\", \"title\", CAST(\"rating\" AS TEXT), \"status\", 1 AS \"aa_part\", \"title\" AS \"aa_k1\", \"id\" AS \"aa_k2\" FROM \"posts\" WHERE \"title\" IS NULL ORDER BY \"posts\".\"title\" DESC NULLS LAST, \"posts\".\"id\" DESC LIMIT $4) AS \"aa_b1\") AS \"aa_page\" ORDER BY \"aa_part\", \"aa_k1\" DESC, \"aa_k2\" DESC LIMIT $5"
    );
    // After a NULL, ascending: the rest of the NULLs, then every value.
    let sql = after_sql("_sortField=title&_sortDir=ASC", vec![json!(null), json!(7)]);
    assert!(
        sql.contains("WHERE \"title\" IS NULL AND \"id\" > $1 ORDER BY"),
        "{sql}"
    );
    assert!(
        sql.contains("WHERE \"title\" IS NOT NULL ORDER BY"),
        "{sql}"
    );
    // Several columns: the general condition.
    let sql = after_sql(
        "_sort=title,rating&_order=asc,asc",
        vec![json!("m"), json!("1.5"), json!(7)],
    );
    assert!(
        condition(&sql).starts_with("((\"title\" > $1) OR "),
        "{sql}"
    );
}

#[test]
fn list_sql_per_dialect() {
    check(
        Dialect::Postgres,
        r#"_filters={"status":"draft","rating":{"gte":"4.5"}}&q=a&_sortField=title&_page=2&_perPage=10"#,
        "SELECT \"id\", \"title\", CAST(\"rating\" AS TEXT), \"status\" FROM \"posts\" WHERE \"status\" = CAST($1 AS post_status) AND \"rating\" >= CAST($2 AS numeric) AND (\"title\" ILIKE $3) ORDER BY \"posts\".\"title\" ASC NULLS FIRST, \"posts\".\"id\" ASC LIMIT $4 OFFSET $5",
    );
    check(
        Dialect::MySql,
        r#"_filters={"status":{"ne":"draft","nin":["published"]},"title":{"like":"A"}}"#,
        "SELECT `id`, `title`, CAST(`rating` AS CHAR), `status` FROM `posts` WHERE NOT (`status` <=> ?) AND (`status` IS NULL OR `status` NOT IN (?)) AND `title` LIKE BINARY ? ORDER BY `posts`.`id` ASC LIMIT ? OFFSET ?",
    );
    check(
        Dialect::Sqlite,
        r#"_filters={"id":[],"title":{"ilike":"a"}}"#,
        "SELECT \"id\", \"title\", CAST(\"rating\" AS TEXT), \"status\" FROM \"posts\" WHERE 1 = 0 AND \"title\" LIKE ? ESCAPE '\\' ORDER BY \"posts\".\"id\" ASC LIMIT ? OFFSET ?",
    );
}

#[test]
fn a_shown_value_sorts_through_a_join() {
    use serde_json::json;
    let schema = Schema::new(vec![
        Entity::new("authors")
            .field(Field::integer("id"))
            .field(Field::string("name")),
        Entity::new("posts")
            .field(Field::integer("id"))
            .field(Field::string("title"))
            .field(Field::reference("author_id", "authors").display("name")),
    ])
    .unwrap();
    let entity = schema.entity("posts").unwrap();
    let parse = |qs: &str| query::parse(entity, qs, None, Limits::default()).unwrap();
    let first = parse("_sortField=author_id.name&_perPage=10&_filters={\"title\":\"a\"}");
    assert_eq!(
        list(Dialect::Postgres, &Catalog::default(), entity, &first).text,
        "SELECT \"t\".\"id\", \"t\".\"title\", \"t\".\"author_id\", \"aa_s0\".\"name\" FROM \"posts\" AS \"t\" LEFT JOIN \"authors\" AS \"aa_s0\" ON \"aa_s0\".\"id\" = \"t\".\"author_id\" WHERE \"t\".\"title\" = $1 ORDER BY \"aa_s0\".\"name\" ASC NULLS FIRST, \"t\".\"id\" ASC LIMIT $2 OFFSET $3"
    );
    // After a name: one row comparison over the joined column and the key.
    let cursor = query::cursor(entity, &first.sort, vec![json!("Bea"), json!(7)]);
    let next = parse(&format!(
        "_sortField=author_id.name&_perPage=10&_cursor={cursor}"
    ));
    let sql = list(Dialect::Sqlite, &Catalog::default(), entity, &next);
    assert_eq!(
        condition(&sql.text),
        "(\"aa_s0\".\"name\", \"t\".\"id\") > (?, ?)"
    );
    assert_eq!(sql.binds[..2], [Value::Text("Bea".into()), Value::Int(7)]);
}

#[test]
fn a_set_filters_through_its_junction() {
    // Declared in code, as in TOML.
    let schema = Schema::new(vec![
        Entity::new("tags")
            .field(Field::integer("id"))
            .field(Field::string("name")),
        Entity::new("posts")
            .field(Field::integer("id"))
            .many_to_many("tags", "tags", "post_tags", "post_id", "tag_id"),
    ])
    .unwrap();
    let entity = schema.entity("posts").unwrap();
    let relation = entity.find_set("tags").unwrap();
    assert_eq!(relation.display.as_deref(), Some("name"));
    let parse = |qs: &str| query::parse(entity, qs, None, Limits::default()).unwrap();
    let sql = |qs: &str| list(Dialect::Postgres, &Catalog::default(), entity, &parse(qs));
    assert_eq!(
        condition(&sql(r#"_filters={"tags":[3,5]}"#).text),
        "\"id\" IN (SELECT \"post_id\" FROM \"post_tags\" WHERE \"tag_id\" IN ($1, $2))"
    );
    let all = sql(r#"_filters={"tags":{"all":[3,5,3]}}"#);
    assert_eq!(
        condition(&all.text),
        "\"id\" IN (SELECT \"post_id\" FROM \"post_tags\" WHERE \"tag_id\" IN ($1, $2) GROUP BY \"post_id\" HAVING COUNT(DISTINCT \"tag_id\") = $3)"
    );
    assert_eq!(all.binds[2], Value::Int(2), "each key once");
    assert_eq!(
        condition(&sql(r#"_filters={"tags":{"is_empty":true}}"#).text),
        "\"id\" NOT IN (SELECT \"post_id\" FROM \"post_tags\" WHERE \"post_id\" IS NOT NULL)"
    );
}
