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

/// The WHERE of the page after a row, by keyset.
fn after_sql(sort: &str, values: Vec<serde_json::Value>) -> String {
    let entity = posts();
    let first = query::parse(&entity, sort, None, Limits::default()).unwrap();
    let cursor = query::cursor(&entity, &first.sort, values);
    let next = format!("{sort}&_cursor={cursor}");
    let list_query = query::parse(&entity, &next, None, Limits::default()).unwrap();
    let sql = list(Dialect::Postgres, &Catalog::default(), &entity, &list_query).text;
    let start = sql.find(" WHERE ").unwrap() + 7;
    sql[start..sql.find(" ORDER BY").unwrap()].to_owned()
}

#[test]
fn keyset_conditions_keep_nulls_but_not_on_the_key() {
    // The key is never NULL: a plain range, which its index serves.
    assert_eq!(
        after_sql(
            "_sortField=id&_sortDir=DESC",
            vec![serde_json::json!(100026)]
        ),
        "((\"id\" < $1))"
    );
    // Any other column may hold NULLs, which sort last when descending.
    assert_eq!(
        after_sql(
            "_sortField=title&_sortDir=DESC",
            vec![serde_json::json!("m"), serde_json::json!(7)]
        ),
        "(((\"title\" < $1 OR \"title\" IS NULL)) OR (\"title\" = $2 AND \"id\" < $3))"
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
