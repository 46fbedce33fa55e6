//! Listing: paging, sorting, every filter operator, quick search; on every backend.
//! Expectations are computed from the data the test created, never hard-coded lists.

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, blog_app, urlencode};

/// What a test post is, kept on the Rust side to compute expected results.
#[derive(Clone, Debug)]
struct Post {
    id: i64,
    title: String,
    status: &'static str,
    author_id: i64,
    views: i64,
    rating: Option<f64>,
    published_day: Option<u32>,
    body: String,
}

struct Blog {
    app: TestApp,
    authors: Vec<i64>,
    posts: Vec<Post>,
}

const STATUSES: [&str; 3] = ["published", "draft", "archived"];

async fn blog(backend: Backend) -> Option<Blog> {
    let app = blog_app(backend).await?;
    let mut authors = Vec::new();
    for (i, name) in ["Ann", "Bob", "Cy"].iter().enumerate() {
        let author = app
            .create(
                "authors",
                json!({"name": name, "email": format!("{}@example.com", name.to_lowercase()),
                       "active": i != 1, "birth_date": format!("198{i}-06-15")}),
            )
            .await;
        authors.push(author["id"].as_i64().unwrap());
    }
    let mut posts = Vec::new();
    for i in 1..=30i64 {
        let title = match i {
            7 => "Sale 100% off".to_owned(),
            8 => "Sale 1000 off".to_owned(),
            9 => "snake_case names".to_owned(),
            10 => "snakeXcase names".to_owned(),
            _ => format!("Post {i:02}"),
        };
        let status = STATUSES[(i % 3) as usize];
        let author_id = authors[(i % 3) as usize];
        let views = (i * 7) % 31;
        let rating = (i % 4 != 0).then_some((i % 5) as f64 + 0.5);
        let published_day = (i % 5 != 0).then_some(i as u32);
        let body = if i % 2 == 0 {
            "All about Rust"
        } else {
            "All about SQL"
        }
        .to_owned();
        let created = app
            .create(
                "posts",
                json!({
                    "title": title, "status": status, "author_id": author_id, "views": views,
                    "rating": rating.map(|r| r.to_string()), "body": body,
                    "published_at": published_day.map(|d| format!("2024-01-{d:02}T10:00:00Z")),
                }),
            )
            .await;
        posts.push(Post {
            id: created["id"].as_i64().unwrap(),
            title,
            status,
            author_id,
            views,
            rating,
            published_day,
            body,
        });
    }
    Some(Blog {
        app,
        authors,
        posts,
    })
}

impl Blog {
    /// The ids the API returns for `query` (all pages: no paging parameter).
    async fn ids(&self, query: &str) -> Vec<i64> {
        let reply = self.app.get(&format!("/posts?{query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        reply.ids()
    }

    /// Ids of the posts matching `keep`, in id order.
    fn expect(&self, keep: impl Fn(&Post) -> bool) -> Vec<i64> {
        self.posts
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.id)
            .collect()
    }

    /// Checks a filter: results sorted by id, compared with the expectation.
    async fn check(&self, filters: Json, keep: impl Fn(&Post) -> bool) {
        let query = format!("_sortField=id&_filters={}", urlencode(&filters.to_string()));
        let got = self.ids(&query).await;
        let want = self.expect(keep);
        assert!(
            !want.is_empty(),
            "a filter test must match something: {filters}"
        );
        assert_eq!(got, want, "filter {filters}");
    }
}

pub async fn paging_headers_and_default_sort(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    let mut by_id = blog.expect(|_| true);
    by_id.sort();

    let reply = blog
        .app
        .get("/posts?_page=2&_perPage=10&_sortField=id")
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.ids(), by_id[10..20]);
    assert_eq!(reply.header("x-total-count"), Some("30"));
    assert_eq!(reply.header("content-range"), Some("posts 10-19/30"));

    let reply = blog.app.get("/posts?_page=4&_perPage=10").await;
    assert_eq!(reply.ids(), Vec::<i64>::new());
    assert_eq!(reply.header("content-range"), Some("posts */30"));

    // _page alone uses the entity's per_page (25).
    let reply = blog.app.get("/posts?_page=2&_sortField=id").await;
    assert_eq!(reply.ids(), by_id[25..]);
    assert_eq!(reply.header("content-range"), Some("posts 25-29/30"));

    // A page size above the cap is capped, not refused.
    let reply = blog.app.get("/posts?_perPage=5000&_sortField=id").await;
    assert_eq!(reply.ids(), by_id);

    // No paging parameter: every row, default sort -published_at, then id; rows without a
    // date come last on every backend.
    let mut want = blog.posts.clone();
    want.sort_by(|a, b| b.published_day.cmp(&a.published_day).then(b.id.cmp(&a.id)));
    let want: Vec<i64> = want.iter().map(|p| p.id).collect();
    let reply = blog.app.get("/posts").await;
    assert_eq!(reply.ids(), want);
    assert_eq!(reply.header("x-total-count"), Some("30"));
}

pub async fn sorting_is_total(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    for (field, direction) in [
        ("views", "DESC"),
        ("views", "ASC"),
        ("status", "ASC"),
        ("author_id", "DESC"),
    ] {
        let got = blog
            .ids(&format!("_sortField={field}&_sortDir={direction}"))
            .await;
        let mut want = blog.posts.clone();
        want.sort_by(|a, b| {
            let key = match field {
                "views" => a.views.cmp(&b.views),
                "status" => a.status.cmp(b.status),
                _ => a.author_id.cmp(&b.author_id),
            }
            .then(a.id.cmp(&b.id));
            if direction == "DESC" {
                key.reverse()
            } else {
                key
            }
        });
        let want: Vec<i64> = want.iter().map(|p| p.id).collect();
        if field == "status" && backend != Backend::Sqlite {
            // PostgreSQL and MySQL enums sort by declaration order (draft, published, archived).
            let order = |s: &str| {
                ["draft", "published", "archived"]
                    .iter()
                    .position(|x| *x == s)
            };
            let mut by_enum = blog.posts.clone();
            by_enum.sort_by(|a, b| order(a.status).cmp(&order(b.status)).then(a.id.cmp(&b.id)));
            let by_enum: Vec<i64> = by_enum.iter().map(|p| p.id).collect();
            assert_eq!(got, by_enum, "sort {field} {direction}");
        } else {
            assert_eq!(got, want, "sort {field} {direction}");
        }
    }
    // Paging through a sort with ties neither skips nor repeats a row.
    let mut seen = Vec::new();
    for page in 1..=4 {
        let reply = blog
            .app
            .get(&format!("/posts?_sortField=status&_page={page}&_perPage=8"))
            .await;
        seen.extend(reply.ids());
    }
    seen.sort();
    assert_eq!(seen, blog.expect(|_| true));
}

pub async fn every_filter_operator(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    let [ann, bob, _] = blog.authors[..] else {
        panic!()
    };
    blog.check(json!({"status": "published"}), |p| p.status == "published")
        .await;
    blog.check(json!({"status": {"eq": "draft"}}), |p| p.status == "draft")
        .await;
    blog.check(json!({"status": {"ne": "draft"}}), |p| p.status != "draft")
        .await;
    blog.check(json!({"status": ["draft", "archived"]}), |p| {
        p.status != "published"
    })
    .await;
    blog.check(json!({"status": {"in": ["archived"]}}), |p| {
        p.status == "archived"
    })
    .await;
    blog.check(json!({"status": {"nin": ["archived", "draft"]}}), |p| {
        p.status == "published"
    })
    .await;
    blog.check(json!({"views": {"gt": 20}}), |p| p.views > 20)
        .await;
    blog.check(json!({"views": {"gte": 20, "lt": 27}}), |p| {
        p.views >= 20 && p.views < 27
    })
    .await;
    blog.check(json!({"views": {"lte": 3}}), |p| p.views <= 3)
        .await;
    blog.check(json!({"views": {"le": "3"}}), |p| p.views <= 3)
        .await;
    blog.check(json!({"views": {"ge": 30}}), |p| p.views >= 30)
        .await;
    blog.check(json!({"rating": {"gte": "2.5"}}), |p| {
        p.rating.is_some_and(|r| r >= 2.5)
    })
    .await;
    blog.check(json!({"rating": {"lt": 1}}), |p| {
        p.rating.is_some_and(|r| r < 1.0)
    })
    .await;
    blog.check(json!({"rating": null}), |p| p.rating.is_none())
        .await;
    blog.check(json!({"rating": {"is_null": false}}), |p| {
        p.rating.is_some()
    })
    .await;
    blog.check(json!({"rating": {"ne": null}}), |p| p.rating.is_some())
        .await;
    // `ne` keeps the rows without a value.
    blog.check(json!({"rating": {"ne": "1.5"}}), |p| p.rating != Some(1.5))
        .await;
    blog.check(json!({"rating": {"nin": ["1.5", "2.5"]}}), |p| {
        p.rating != Some(1.5) && p.rating != Some(2.5)
    })
    .await;
    blog.check(
        json!({"published_at": {"gte": "2024-01-10T00:00:00Z", "lt": "2024-01-20"}}),
        |p| p.published_day.is_some_and(|d| (10..20).contains(&d)),
    )
    .await;
    blog.check(
        json!({"published_at": {"gt": "2024-01-25T10:00:00+00:00"}}),
        |p| p.published_day.is_some_and(|d| d > 25),
    )
    .await;
    blog.check(json!({"author_id": [ann, bob]}), |p| {
        p.author_id == ann || p.author_id == bob
    })
    .await;
    blog.check(json!({"author_id": ann, "status": "published"}), |p| {
        p.author_id == ann && p.status == "published"
    })
    .await;
    assert_eq!(
        blog.ids(&format!("_filters={}", urlencode(r#"{"id":[]}"#)))
            .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        blog.ids(&format!(
            "_sortField=id&_filters={}",
            urlencode(r#"{"id":{"nin":[]}}"#)
        ))
        .await,
        blog.expect(|_| true)
    );
    blog.check(json!({"title": {"like": "Post 1"}}), |p| {
        p.title.contains("Post 1")
    })
    .await;
    blog.check(json!({"title": {"ilike": "post 2"}}), |p| {
        p.title.to_lowercase().contains("post 2")
    })
    .await;
    // Wildcards in the value match literally.
    blog.check(json!({"title": {"like": "100%"}}), |p| {
        p.title.contains("100%")
    })
    .await;
    blog.check(json!({"title": {"ilike": "snake_case"}}), |p| {
        p.title.contains("snake_case")
    })
    .await;
    blog.check(json!({"status": {"ilike": "ARCH"}}), |p| {
        p.status == "archived"
    })
    .await;
    let like_case = blog
        .ids(&format!(
            "_filters={}",
            urlencode(r#"{"title":{"like":"post 1"}}"#)
        ))
        .await;
    assert_eq!(like_case, Vec::<i64>::new(), "like is case-sensitive");

    // Quick search: case-insensitive over title and body.
    let got = blog.ids("_sortField=id&q=RUST").await;
    assert_eq!(got, blog.expect(|p| p.body.contains("Rust")));
    let got = blog
        .ids("_sortField=id&q=sale&_filters=%7B%22status%22%3A%22published%22%7D")
        .await;
    assert_eq!(
        got,
        blog.expect(|p| p.title.contains("Sale") && p.status == "published")
    );

    // Booleans and dates on another entity.
    let reply = blog
        .app
        .get("/authors?_sortField=id&_filters=%7B%22active%22%3Atrue%7D")
        .await;
    assert_eq!(reply.ids(), vec![blog.authors[0], blog.authors[2]]);
    let reply = blog.app.get("/authors?_sortField=id&_filters=%7B%22birth_date%22%3A%7B%22gte%22%3A%221981-01-01%22%7D%7D").await;
    assert_eq!(reply.ids(), vec![blog.authors[1], blog.authors[2]]);
    let reply = blog
        .app
        .get("/authors?_sortField=id&_filters=%7B%22birth_date%22%3A%221982-06-15%22%7D")
        .await;
    assert_eq!(reply.ids(), vec![blog.authors[2]]);

    // The total header counts the filtered rows, not the page.
    let reply = blog
        .app
        .get("/posts?_perPage=2&_filters=%7B%22status%22%3A%22draft%22%7D")
        .await;
    let drafts = blog.expect(|p| p.status == "draft").len();
    assert_eq!(
        reply.header("x-total-count"),
        Some(drafts.to_string().as_str())
    );
    assert_eq!(reply.ids().len(), 2);
}

pub async fn plus_decodes_to_space_in_filters(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    // ng-admin sends `+` for spaces inside _filters.
    let got = blog
        .ids("_filters=%7B%22title%22%3A%22Sale+100%25+off%22%7D")
        .await;
    assert_eq!(got, blog.expect(|p| p.title == "Sale 100% off"));
}

/// The react-admin dialects give the same answers as the ng-admin one, over HTTP.
pub async fn react_admin_dialects(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    let published = |p: &Post| p.status == "published";
    let mut by_views: Vec<Post> = blog
        .posts
        .iter()
        .filter(|p| published(p))
        .cloned()
        .collect();
    by_views.sort_by(|a, b| b.views.cmp(&a.views).then(b.id.cmp(&a.id)));
    let by_views: Vec<i64> = by_views.iter().map(|p| p.id).collect();
    let total = by_views.len();

    // simple-rest: range (inclusive), sort, filter; Content-Range on the response.
    let query = format!(
        "range={}&sort={}&filter={}",
        urlencode("[2,5]"),
        urlencode(r#"["views","DESC"]"#),
        urlencode(r#"{"status":"published"}"#)
    );
    let reply = blog.app.get(&format!("/posts?{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.ids(), by_views[2..6]);
    assert_eq!(
        reply.header("content-range"),
        Some(format!("posts 2-5/{total}").as_str())
    );

    // The Range header alone pages too (react-admin sends it with countHeader Content-Range).
    let response = blog
        .app
        .client
        .get(format!(
            "{}/posts?sort={}",
            blog.app.api,
            urlencode(r#"["id","ASC"]"#)
        ))
        .header("Range", "posts=0-4")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-range"], "posts 0-4/30");
    let rows: Vec<serde_json::Value> = response.json().await.unwrap();
    assert_eq!(rows.len(), 5);

    // getMany and getManyReference: ids, and a reference with q inside filter.
    let [first, second, third] = [blog.posts[0].id, blog.posts[1].id, blog.posts[2].id];
    let reply = blog
        .app
        .get(&format!(
            "/posts?filter={}",
            urlencode(&format!(r#"{{"id":[{first},{third}]}}"#))
        ))
        .await;
    let mut ids = reply.ids();
    ids.sort();
    assert_eq!(ids, vec![first, third]);
    let author = blog.authors[0];
    let reply = blog
        .app
        .get(&format!(
            "/posts?sort={}&filter={}",
            urlencode(r#"["id","ASC"]"#),
            urlencode(&format!(r#"{{"author_id":{author},"q":"rust"}}"#))
        ))
        .await;
    assert_eq!(
        reply.ids(),
        blog.expect(|p| p.author_id == author && p.body.contains("Rust"))
    );

    // json-server: _start/_end (exclusive), _sort/_order, plain field filters.
    let reply = blog
        .app
        .get("/posts?_start=2&_end=6&_sort=views&_order=DESC&status=published")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.ids(), by_views[2..6]);
    assert_eq!(
        reply.header("x-total-count"),
        Some(total.to_string().as_str())
    );
    let reply = blog
        .app
        .get(&format!("/posts?_sort=id&id={first}&id={second}"))
        .await;
    assert_eq!(reply.ids(), vec![first, second]);
    let reply = blog
        .app
        .get("/posts?_sort=id&views_gte=10&views_lte=20")
        .await;
    assert_eq!(reply.ids(), blog.expect(|p| (10..=20).contains(&p.views)));
    let reply = blog
        .app
        .get("/posts?_sort=id&views_ne=3&status_ne=draft")
        .await;
    assert_eq!(
        reply.ids(),
        blog.expect(|p| p.views != 3 && p.status != "draft")
    );
    let reply = blog.app.get("/posts?_sort=id&title_like=SALE").await;
    assert_eq!(reply.ids(), blog.expect(|p| p.title.contains("Sale")));
    let reply = blog
        .app
        .get(&format!("/posts?_sort=id&author_id={author}&q=sql"))
        .await;
    assert_eq!(
        reply.ids(),
        blog.expect(|p| p.author_id == author && p.body.contains("SQL"))
    );

    // Unknown names are refused, whatever the dialect.
    let reply = blog.app.get("/posts?titel_like=x").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error().1, "unknown query parameter \"titel_like\"");
}

/// Without paging parameters a list streams every row up to `max_rows` (per entity here),
/// and the headers still tell the true total.
pub async fn unpaged_lists_stop_at_max_rows(backend: Backend) {
    let config = autoadmin::demo::CONFIG.replacen(
        "[[entity]]\nname = \"tags\"",
        "[[entity]]\nname = \"tags\"\nmax_rows = 4",
        1,
    );
    let Some(app) = crate::common::spawn_app(backend, &[backend.blog_schema()], &config).await
    else {
        return;
    };
    for i in 0..6 {
        app.create("tags", json!({"name": format!("t{i}")})).await;
    }
    let reply = app.get("/tags?_sortField=id").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.ids().len(), 4);
    assert_eq!(reply.header("x-total-count"), Some("6"));
    assert_eq!(reply.header("content-range"), Some("tags 0-3/6"));
    // Paging is not capped by max_rows.
    assert_eq!(app.get("/tags?_page=1&_perPage=6").await.ids().len(), 6);
    // An empty result is an empty array.
    let reply = app.get("/tags?name=none").await;
    assert_eq!(reply.body, json!([]));
    assert_eq!(reply.header("content-range"), Some("tags */0"));
}

/// CSV export: every matching row, same filters, search and sort; labels; references by
/// their display value; RFC 4180 quoting; formulas neutralised.
pub async fn csv_export(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    let tricky = blog
        .app
        .create(
            "posts",
            json!({"title": "=HYPERLINK(\"http://evil\",\"x\"), \"quoted\"", "author_id": blog.authors[1],
                   "status": "published", "views": 1000, "rating": "4.5", "body": "two\nlines"}),
        )
        .await;
    let response = blog
        .app
        .client
        .get(format!(
            "{}/posts/export.csv?_sortField=views&_sortDir=DESC&_filters={}",
            blog.app.api,
            urlencode(r#"{"status":"published"}"#)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"posts.csv\""
    );
    let text = response.text().await.unwrap();
    let lines = split_csv_records(&text);
    assert_eq!(
        lines[0],
        "Id,Title,Body,Status,Author,Main tag,Views,Rating,Published at,Created at,Tags"
    );
    let published = blog
        .posts
        .iter()
        .filter(|p| p.status == "published")
        .count();
    assert_eq!(
        lines.len(),
        1 + published + 1,
        "header, the published posts and the tricky one"
    );
    // Sorted by views descending: the tricky post (1000 views) first.
    let first = &lines[1];
    assert!(first.starts_with(&format!("{},\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\"), \"\"quoted\"\"\",\"two\nlines\",published,Bob,,1000,", tricky["id"])), "{first}");
    assert!(first.contains(",4.5"), "decimals as numbers: {first}");
    // Every other line shows the author's name, never the id.
    let names = ["Ann", "Bob", "Cy"];
    for line in &lines[2..] {
        let author = line.split(',').nth(4).unwrap();
        assert!(names.contains(&author), "{line}");
    }
    // Compressed, the streamed body still ends properly (regression: a body polled again
    // after its end used to panic and cut the download).
    let response = blog
        .app
        .client
        .get(format!("{}/posts/export.csv", blog.app.api))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.bytes().await.expect("a complete body");
    assert!(compressed.len() > 100);

    // Search applies too; paging does not.
    let text = blog.app.text("/posts/export.csv?q=sale").await;
    assert_eq!(split_csv_records(&text).len(), 1 + 2);
    let reply = blog.app.get("/posts/export.csv?_page=1").await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error().1,
        "export.csv takes no paging parameters: it exports every matching row"
    );
    assert_eq!(blog.app.get("/nope/export.csv").await.status, 404);
}

/// The export as Excel opens it: `;` between cells and a byte order mark, on request; a bad
/// value of either is a 400 naming the parameter, and a list does not take them.
pub async fn csv_export_for_excel(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    let post = blog
        .app
        .create(
            "posts",
            json!({"title": "Crème brûlée; 1,5 kg", "author_id": blog.authors[0],
                   "status": "draft", "views": 7, "rating": "3.5"}),
        )
        .await;
    let path = format!(
        "/posts/export.csv?_filters={}&_delimiter=semicolon&_bom=true",
        urlencode(&format!(r#"{{"id":{}}}"#, post["id"]))
    );
    let response = blog
        .app
        .client
        .get(format!("{}{path}", blog.app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(
        &bytes[..3],
        b"\xEF\xBB\xBF",
        "a UTF-8 byte order mark first"
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines = split_csv_records(text);
    assert_eq!(
        lines[0],
        "Id;Title;Body;Status;Author;Main tag;Views;Rating;Published at;Created at;Tags"
    );
    assert_eq!(lines.len(), 2, "{text}");
    // The cell holding `;` is quoted; its comma needs no quoting.
    assert!(
        lines[1].starts_with(&format!(
            "{};\"Crème brûlée; 1,5 kg\";;draft;Ann;;7;3.5;",
            post["id"]
        )),
        "{}",
        lines[1]
    );
    // The defaults: commas, no byte order mark (as before the options).
    let plain = blog
        .app
        .text(&format!(
            "/posts/export.csv?_filters={}&_delimiter=comma&_bom=false",
            urlencode(&format!(r#"{{"id":{}}}"#, post["id"]))
        ))
        .await;
    assert!(plain.starts_with("Id,Title,"), "{plain}");
    assert!(plain.contains("\"Crème brûlée; 1,5 kg\""), "{plain}");

    for (query, name, message) in [
        (
            "_delimiter=tab",
            "_delimiter",
            "must be comma or semicolon, not \"tab\"",
        ),
        (
            "_delimiter=%3B",
            "_delimiter",
            "must be comma or semicolon, not \";\"",
        ),
        ("_bom=1", "_bom", "must be true or false, not \"1\""),
        ("_bom=true&_bom=false", "_bom", ""),
    ] {
        let reply = blog.app.get(&format!("/posts/export.csv?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        let (code, text) = reply.error();
        assert_eq!(code, "bad_request", "{query}");
        assert!(text.contains(name), "{query}: {text}");
        assert!(text.contains(message), "{query}: {text}");
    }
    // A list's page has no file format: the names are unknown there.
    let reply = blog.app.get("/posts?_delimiter=semicolon").await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.error().1.contains("_delimiter"),
        "{:?}",
        reply.error()
    );
}

/// Splits CSV text into records (a quoted field may hold a line break).
fn split_csv_records(text: &str) -> Vec<String> {
    let mut records = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '\r' if !quoted && chars.peek() == Some(&'\n') => {
                chars.next();
                records.push(std::mem::take(&mut current));
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        records.push(current);
    }
    records
}

/// Count strategies: `estimated` is exact below the threshold and the planner's estimate
/// above it (SQLite: unknown); `none` gives no total; a request may ask for less, not more.
pub async fn count_strategies(backend: Backend) {
    let config = autoadmin::demo::CONFIG
        .replacen(
            "[[entity]]\nname = \"posts\"",
            "[[entity]]\nname = \"posts\"\ncount = \"estimated\"",
            1,
        )
        .replace(
            "base_path = \"/admin\"",
            "base_path = \"/admin\"\ncount_threshold = 10",
        );
    let Some(app) = crate::common::spawn_app(backend, &[backend.blog_schema()], &config).await
    else {
        return;
    };
    let author = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    for i in 0..30 {
        app.create(
            "posts",
            json!({"title": format!("P{i}"), "author_id": author["id"]}),
        )
        .await;
    }
    match backend {
        Backend::Postgres => app.db.execute("ANALYZE posts").await,
        Backend::MySql => app.db.execute("ANALYZE TABLE posts").await,
        Backend::Sqlite => {}
    }
    let reply = app.get("/posts?_page=1&_perPage=5").await;
    assert_eq!(reply.ids().len(), 5);
    if backend == Backend::Sqlite {
        assert_eq!(
            reply.header("x-total-count"),
            None,
            "more than the threshold, and no estimate"
        );
        assert_eq!(reply.header("content-range"), Some("posts 0-4/*"));
    } else {
        assert_eq!(reply.header("x-total-count-kind"), Some("estimated"));
        let estimate: u64 = reply.header("x-total-count").unwrap().parse().unwrap();
        assert!((10..=1000).contains(&estimate), "{estimate}");
        assert_eq!(
            reply.header("content-range"),
            Some(format!("posts 0-4/{estimate}").as_str())
        );
    }
    // Below the threshold, counting is exact on every backend (a key filter, which every
    // planner estimates precisely).
    let ids = app
        .get("/posts?_page=1&_perPage=3&_sortField=id&_count=none")
        .await
        .ids();
    let filter = urlencode(&json!({"id": ids}).to_string());
    let reply = app
        .get(&format!("/posts?_page=1&_perPage=5&_filters={filter}"))
        .await;
    assert_eq!(reply.header("x-total-count"), Some("3"));
    assert_eq!(reply.header("x-total-count-kind"), Some("exact"));
    // Less may be asked for; more may not.
    let reply = app.get("/posts?_page=2&_perPage=5&_count=none").await;
    assert_eq!(reply.header("x-total-count"), None);
    assert_eq!(reply.header("content-range"), Some("posts 5-9/*"));
    let reply = app.get("/posts?_count=exact").await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error().1,
        "query parameter \"_count\" \"exact\" is more than entity \"posts\" allows (estimated)"
    );
    assert_eq!(app.get("/posts?_count=roughly").await.status, 400);
    // Other entities count exactly.
    let reply = app.get("/authors?_page=1&_perPage=5").await;
    assert_eq!(reply.header("x-total-count-kind"), Some("exact"));
    assert_eq!(reply.header("x-total-count"), Some("1"));
}

/// Keyset paging: following `Link: rel="next"` walks every row once, in order, whatever the
/// sort (nullable, with ties, several keys in mixed directions).
pub async fn keyset_pages_walk_every_row(backend: Backend) {
    let Some(blog) = blog(backend).await else {
        return;
    };
    let origin = blog.app.api.trim_end_matches("/admin/api").to_owned();
    let walk = |first: String| {
        let app = &blog.app;
        let origin = origin.clone();
        async move {
            let mut ids = Vec::new();
            let mut next = Some(first);
            let mut pages = 0;
            while let Some(path) = next.take() {
                let response = app
                    .client
                    .get(format!("{origin}{path}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{path}");
                next = response.headers().get("link").map(|link| {
                    let link = link.to_str().unwrap();
                    assert!(link.ends_with(">; rel=\"next\""), "{link}");
                    link[1..link.find('>').unwrap()].to_owned()
                });
                let rows: Vec<serde_json::Value> = response.json().await.unwrap();
                ids.extend(rows.iter().map(|r| r["id"].as_i64().unwrap()));
                pages += 1;
                assert!(pages < 50, "the walk ends");
            }
            ids
        }
    };
    for (first, all) in [
        // The default sort: -published_at, NULLs last, then id.
        (
            "/admin/api/posts?_perPage=7".to_owned(),
            "/posts".to_owned(),
        ),
        // Ties: many posts share a status.
        (
            "/admin/api/posts?_sortField=status&_perPage=4".to_owned(),
            "/posts?_sortField=status".to_owned(),
        ),
        // json-server, two keys in mixed directions, and a filter.
        (
            "/admin/api/posts?_sort=status,published_at&_order=asc,desc&_limit=3&views_gte=5"
                .to_owned(),
            "/posts?_sort=status,published_at&_order=asc,desc&views_gte=5".to_owned(),
        ),
    ] {
        let walked = walk(first.clone()).await;
        let expected = blog.app.get(&all).await.ids();
        assert!(expected.len() > 10);
        assert_eq!(walked, expected, "keyset walk of {first}");
    }
    // A cursor keeps to its sort; it replaces the offset; it is ours.
    let reply = blog.app.get("/posts?_perPage=5").await;
    let link = reply.header("link").unwrap().to_owned();
    let cursor = crate::common::cursor_of(&link);
    assert_eq!(reply.header("content-range"), Some("posts 0-4/30"));
    let next = blog
        .app
        .get(&format!("/posts?_perPage=5&_cursor={cursor}"))
        .await;
    assert_eq!(
        next.header("content-range"),
        Some("posts */30"),
        "after a cursor the offset is unknown"
    );
    for (query, message) in [
        (
            format!("_perPage=5&_sortField=views&_cursor={cursor}"),
            "query parameter \"_cursor\" belongs to another sort order: keep the sort of the page it came from",
        ),
        (
            format!("_page=2&_perPage=5&_cursor={cursor}"),
            "query parameter \"_cursor\" replaces the page number or offset: ask for the page size only",
        ),
        (
            "_perPage=5&_cursor=bm90IG91cnM".to_owned(),
            "query parameter \"_cursor\" is not a cursor of this API",
        ),
        (
            "_perPage=5&_cursor=%%%".to_owned(),
            "query parameter \"_cursor\" is not a cursor of this API",
        ),
    ] {
        let reply = blog.app.get(&format!("/posts?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.error().1, message, "{query}");
    }
    assert_eq!(
        blog.app
            .get(&format!("/posts/export.csv?_cursor={cursor}"))
            .await
            .status,
        400
    );
}
