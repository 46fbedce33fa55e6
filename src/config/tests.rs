//! The config file's checks: every mistake named by file, entity and field.

use super::*;
use crate::schema::FieldType;

const GOOD: &str = r#"
[admin]
title = "Blog"

[[entity]]
name = "authors"
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "name"
  type = "string"
  required = true

[[entity]]
name = "posts"
default_sort = "-id"
filters = ["author_id"]
  [[entity.field]]
  name = "id"
  type = "integer"
  [[entity.field]]
  name = "author_id"
  type = "reference"
  target = "authors"
  display = "name"
"#;

fn check(toml: &str, want: &str) {
    let got = load_str(toml, "blog.toml").map(|_| "ok".to_owned());
    assert_eq!(got.unwrap_or_else(|e| e.to_string()), want);
}

#[test]
fn the_blog_round_trips() {
    let loaded = load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let printed = print_toml(Some(&loaded.admin), loaded.schema.entities(), &[]);
    let again = load_str(&printed, "printed.toml").unwrap();
    assert_eq!(
        print_toml(Some(&again.admin), again.schema.entities(), &[]),
        printed
    );
    assert!(printed.contains("default_sort = \"-published_at\""));
    assert!(printed.contains("  pattern = \"^[a-z0-9-]+$\""));
    assert!(printed.contains(
        "  [[entity.action]]\n  name = \"publish\"\n  set = { published_at = \"now\", status = \"published\" }\n  confirm = true\n"
    ), "{printed}");
}

#[test]
fn dashboard_panels_are_requests_the_api_takes() {
    let config = load_str(crate::demo::CONFIG, "blog.toml").unwrap();
    let panels = &config.admin.dashboard;
    assert_eq!(panels.len(), 5);
    assert_eq!(panels[0].path, "aggregate");
    assert_eq!(
        panels[0].query,
        "_filters=%7B%22status%22%3A%22published%22%7D"
    );
    assert_eq!(
        panels[2].query,
        "group_by=published_at&bucket=month&limit=12"
    );
    assert_eq!(
        panels[3].query,
        "metric=sum%3Aviews&group_by=author_id&limit=5"
    );
    assert_eq!(panels[4].path, "");
    assert_eq!(
        panels[4].query,
        "_sortField=created_at&_sortDir=DESC&_page=1&_perPage=5"
    );
    let with = |panel: &str| format!("{GOOD}\n[[dashboard.panel]]\n{panel}\n");
    check(
        &with("title = \"n\"\nkind = \"count\"\nentity = \"posts\""),
        "ok",
    );
    for (panel, message) in [
        (
            "title = \"P\"\nkind = \"count\"\nentity = \"nope\"",
            "entity \"nope\" is not an entity",
        ),
        (
            "title = \"P\"\nkind = \"groups\"\nentity = \"posts\"",
            "a groups panel needs group_by",
        ),
        (
            "title = \"P\"\nkind = \"groups\"\nentity = \"posts\"\ngroup_by = \"nope\"",
            "unknown field \"nope\" in group_by of entity \"posts\"",
        ),
        (
            "title = \"P\"\nkind = \"series\"\nentity = \"posts\"\ngroup_by = \"author_id\"",
            "a series panel groups by a date or datetime field",
        ),
        (
            "title = \"P\"\nkind = \"count\"\nentity = \"posts\"\nmetric = \"sum:id\"\nfilters = { nope = 1 }",
            "unknown field \"nope\" in filter of entity \"posts\"",
        ),
        (
            "title = \"P\"\nkind = \"latest\"\nentity = \"posts\"\ngroup_by = \"id\"",
            "group_by does not apply to a latest panel",
        ),
        (
            "title = \"P\"\nkind = \"latest\"\nentity = \"posts\"\nsort = \"-nope\"",
            "unknown field \"nope\" in sort of entity \"posts\"",
        ),
        (
            "title = \"P\"\nkind = \"count\"\nentity = \"posts\"\nlimit = 3",
            "limit does not apply to a count panel",
        ),
    ] {
        check(
            &with(panel),
            &format!("blog.toml: [[dashboard.panel]] #1 \"P\": {message}"),
        );
    }
    check(
        &with("title = \"P\"\nkind = \"pie\"\nentity = \"posts\""),
        "blog.toml: TOML parse error at line 30, column 8 30 | kind = \"pie\" unknown variant `pie`, expected one of `count`, `latest`, `groups`, `series`",
    );
}

#[test]
fn formats_are_checked() {
    check(
        &GOOD.replace(
            "  required = true\n",
            "  required = true\n  format = \"markdown\"\n",
        ),
        "ok",
    );
    check(
        &GOOD.replace(
            "  required = true\n",
            "  required = true\n  format = \"html\"\n",
        ),
        "blog.toml: entity \"authors\", field \"name\": format \"html\" is not one of: markdown",
    );
    check(
        &GOOD.replace(
            "  type = \"reference\"\n",
            "  type = \"reference\"\n  format = \"markdown\"\n",
        ),
        "blog.toml: entity \"posts\", field \"author_id\": format \"markdown\" applies to string and text fields, not reference",
    );
}

#[test]
fn actions_are_checked_against_their_entity() {
    let with = |action: &str| {
        GOOD.replace(
            "  display = \"name\"\n",
            &format!("  display = \"name\"\n  [[entity.action]]\n{action}\n"),
        )
    };
    check(&with("  name = \"ok\"\n  set = { author_id = 1 }"), "ok");
    check(
        &with("  name = \"go\"\n  set = { writer = 1 }"),
        "blog.toml: entity \"posts\", field \"writer\": action \"go\" sets an unknown field",
    );
    check(
        &with("  name = \"go\"\n  set = { id = 1 }"),
        "blog.toml: entity \"posts\", field \"id\": action \"go\" sets a read-only field",
    );
    check(
        &with("  name = \"go\"\n  set = { author_id = \"now\" }"),
        "blog.toml: entity \"posts\", field \"author_id\": action \"go\": must be an integer",
    );
    check(
        &with("  name = \"go\"\n  set = {}"),
        "blog.toml: entity \"posts\": action \"go\": set names no field: an action sets at least one",
    );
    check(
        &with("  name = \"go\"\n  set = { author_id = 1 }\n  permission = \"own\""),
        "blog.toml: entity \"posts\": action \"go\": permission must be one of: view, add, edit, delete, not \"own\"",
    );
    check(
        &with("  name = \"go go\"\n  set = { author_id = 1 }"),
        "blog.toml: entity \"posts\": action \"go go\": the name must be letters, digits, _ or -",
    );
    check(
        &with("  name = \"go\"\n  sett = { author_id = 1 }"),
        "blog.toml: entity \"posts\": unknown field `sett`, expected one of `name`, `label`, `set`, `confirm`, `permission` in `action`",
    );
}

#[test]
fn declared_views_are_checked_against_their_entity() {
    let with = |view: &str| {
        GOOD.replace(
            "  display = \"name\"\n",
            &format!("  display = \"name\"\n  [[entity.view]]\n{view}\n"),
        )
    };
    check(
        &with(
            "  name = \"Ann's\"\n  filter = { author_id = 1 }\n  sort = \"-id\"\n  columns = [\"author_id\"]\n  per_page = 10",
        ),
        "ok",
    );
    check(
        &with("  name = \"V\"\n  filter = { writer = 1 }"),
        "blog.toml: entity \"posts\": view \"V\": filter: unknown field \"writer\" in filter of entity \"posts\"",
    );
    check(
        &with("  name = \"V\"\n  sort = \"-writer\""),
        "blog.toml: entity \"posts\": view \"V\": sort: unknown field \"writer\" in sort of entity \"posts\"",
    );
    check(
        &with("  name = \"V\"\n  columns = [\"id\", \"id\"]"),
        "blog.toml: entity \"posts\": view \"V\": columns: \"id\" is named twice",
    );
    check(
        &with("  name = \"V\"\n  per_page = 5000"),
        "blog.toml: entity \"posts\": view \"V\": per_page: must be an integer from 1 to 1000",
    );
    check(
        &with("  name = \"V\"\n  q = \"x\""),
        "blog.toml: entity \"posts\": view \"V\": q: entity \"posts\" has no quick search",
    );
    check(
        &with("  name = \" \""),
        "blog.toml: entity \"posts\": view #1: the name is empty",
    );
    check(
        &format!(
            "{}  [[entity.view]]\n  name = \"V\"\n",
            with("  name = \"V\"")
        ),
        "blog.toml: entity \"posts\": view \"V\" is declared twice",
    );
    check(
        &with("  name = \"V\"\n  filters = {}"),
        "blog.toml: entity \"posts\": unknown field `filters`, expected one of `name`, `filter`, `q`, `sort`, `per_page`, `columns` in `view`",
    );
}

#[test]
fn loads_a_good_file() {
    let config = load_str(GOOD, "blog.toml").unwrap();
    assert_eq!(config.admin.title, "Blog");
    let posts = config.schema.entity("posts").unwrap();
    assert_eq!(
        posts.find_field("author_id").unwrap().value_type(),
        FieldType::Integer
    );
}

#[test]
fn many_to_many_relations_are_checked() {
    let with = |relation: &str| format!("{GOOD}  [[entity.relation]]\n{relation}\n");
    let good = "  name = \"writers\"\n  target = \"authors\"\n  through = \"post_writers\"\n  foreign_key = \"post_id\"\n  target_key = \"author_id\"";
    check(&with(good), "ok");
    let loaded = load_str(&with(good), "blog.toml").unwrap();
    let posts = loaded.schema.entity("posts").unwrap();
    let relation = posts.find_set("writers").unwrap();
    // The name references to authors show, by default.
    assert_eq!(relation.display.as_deref(), Some("name"));
    assert!(crate::schema::print_entities(loaded.schema.entities()).contains(
        "through = \"post_writers\"\n  foreign_key = \"post_id\"\n  target_key = \"author_id\"\n  display = \"name\""
    ));
    check(
        &with(&good.replace("  target_key = \"author_id\"", "")),
        "blog.toml: entity \"posts\", field \"writers\": a many-to-many relation needs both through (the junction table) and target_key (its column that references the target)",
    );
    check(
        &with(&good.replace("name = \"writers\"", "name = \"author_id\"")),
        "blog.toml: entity \"posts\", field \"author_id\": a many-to-many relation's name is a key of the record: \"author_id\" is a field already",
    );
    check(
        &with(&format!("{good}\n  display = \"nom\"")),
        "blog.toml: entity \"posts\", field \"writers\": display field \"nom\" is not a field of \"authors\"",
    );
    check(
        &with(&good.replace("target_key = \"author_id\"", "target_key = \"post_id\"")),
        "blog.toml: entity \"posts\", field \"writers\": foreign_key and target_key must be two columns of the junction",
    );
    // Lists show and filter by it as by a field; quick search cannot.
    check(
        &with(good).replace(
            "filters = [\"author_id\"]",
            "filters = [\"writers\"]\nlist_columns = [\"id\", \"writers\"]",
        ),
        "ok",
    );
    check(
        &with(good).replace("filters = [\"author_id\"]", "search = [\"writers\"]"),
        "blog.toml: entity \"posts\", field \"writers\": search names an unknown field",
    );
}

#[test]
fn inline_relations_are_checked() {
    let children = |extra: &str| {
        GOOD.replace(
            "  [[entity.field]]\n  name = \"name\"",
            &format!("  [[entity.relation]]\n  name = \"posts\"\n  target = \"posts\"\n  foreign_key = \"author_id\"\n{extra}\n  [[entity.field]]\n  name = \"name\""),
        )
    };
    check(
        &children("  inline = true\n  inline_delete = true\n  inline_max = 5"),
        "ok",
    );
    check(
        &children("  inline_delete = true"),
        "blog.toml: entity \"authors\", field \"posts\": inline_delete and inline_max apply to inline relations (inline = true)",
    );
    check(
        &children("  inline = true\n  inline_max = 0"),
        "blog.toml: entity \"authors\", field \"posts\": inline_max must be at least 1",
    );
    check(
        &children("  inline = true")
            .replace("name = \"posts\"\n  target", "name = \"name\"\n  target"),
        "blog.toml: entity \"authors\", field \"name\": an inline relation's name is a key of the record: \"name\" is a field already",
    );
    check(
        &children("  inline = true\n  through = \"x\"\n  target_key = \"y\""),
        "blog.toml: entity \"authors\", field \"posts\": inline applies to one-to-many relations, not many-to-many",
    );
}

#[test]
fn bad_files_name_file_entity_and_field() {
    check(
        &GOOD.replace("type = \"string\"", "type = \"strin\""),
        "blog.toml: entity \"authors\", field \"name\": unknown type \"strin\" (known types: integer, float, decimal, string, text, boolean, date, datetime, time, uuid, json, email, url, choice, multichoice, reference, password)",
    );
    check(
        &GOOD.replace("target = \"authors\"", "target = \"writers\""),
        "blog.toml: entity \"posts\", field \"author_id\": reference target \"writers\" is not an entity",
    );
    check(
        &GOOD.replace("filters = [\"author_id\"]", "filters = [\"writer\"]"),
        "blog.toml: entity \"posts\", field \"writer\": filters names an unknown field",
    );
    check(
        &GOOD.replace("default_sort = \"-id\"", "default_sort = \"-idx\""),
        "blog.toml: entity \"posts\", field \"idx\": default_sort names an unknown field",
    );
    check(
        &GOOD.replace(
            "default_sort = \"-id\"",
            "default_sort = \"-author_id.bio\"",
        ),
        "blog.toml: entity \"posts\", field \"author_id.bio\": default_sort names neither a field nor a reference's display field (reference.display)",
    );
    check(
        &GOOD.replace("name = \"posts\"", "name = \"authors\""),
        "blog.toml: entity \"authors\": duplicate entity name",
    );
    check(
        &GOOD.replace("default_sort = \"-id\"", "primary_key = \"post_id\""),
        "blog.toml: entity \"posts\", field \"post_id\": primary key \"post_id\" is not a declared field",
    );
    check(
        &GOOD.replace("required = true", "requird = true"),
        "blog.toml: entity \"authors\", field \"name\": unknown field `requird`, expected one of `name`, `type`, `column`, `label`, `required`, `nullable`, `min_length`, `max_length`, `min`, `max`, `pattern`, `email`, `url`, `choices`, `read_only`, `default`, `unique`, `blank`, `format`, `target`, `display`, `generated`",
    );
    check(
        &GOOD.replace(
            "title = \"Blog\"",
            "title = \"Blog\"\ncors_origins = [\"https://a.example/admin\"]",
        ),
        "blog.toml: cors_origins: \"https://a.example/admin\" is not an origin (scheme://host[:port], no path) or \"*\"",
    );
    check(
        &GOOD.replace(
            "title = \"Blog\"",
            "title = \"Blog\"\ntrusted_proxies = [\"10.0.0.0/33\"]",
        ),
        "blog.toml: trusted_proxies: \"10.0.0.0/33\" is not an IP address or a CIDR range",
    );
    check(
        &GOOD.replace(
            "name = \"authors\"",
            "name = \"login\"\ntable = \"authors\"",
        ),
        "blog.toml: entity \"login\": \"login\" is taken by one of autoadmin's routes (/login): give the entity another name (its table stays: table = \"authors\")",
    );
    check(
        &GOOD.replace(
            "title = \"Blog\"",
            "title = \"Blog\"\nreplica_urls = [\"mysql://replica/blog\"]",
        ),
        "blog.toml: replica_urls: read replicas are PostgreSQL streaming replicas (postgres://…); this one's scheme is mysql",
    );
    check(
        &GOOD.replace("title = \"Blog\"", "title = \"Blog\"\nevents_poll_ms = 5"),
        "blog.toml: events_poll_ms must be at least 10",
    );
    check(
        &GOOD.replace(
            "title = \"Blog\"",
            "title = \"Blog\"\nevents_heartbeat_secs = 0",
        ),
        "blog.toml: events_heartbeat_secs must be at least 1",
    );
    check(
        &GOOD.replace(
            "title = \"Blog\"",
            "title = \"Blog\"\nmax_event_streams = -1",
        ),
        "blog.toml: TOML parse error at line 4, column 21 4 | max_event_streams = -1 invalid value: integer `-1`, expected u32",
    );
    check(
        &GOOD.replace("display = \"name\"", "display = \"nom\""),
        "blog.toml: entity \"posts\", field \"author_id\": display field \"nom\" is not a field of \"authors\"",
    );
}
