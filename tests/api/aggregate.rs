//! `GET /{entity}/aggregate`: a count, sum or average per value of a field or per day, week or
//! month, of the rows a list's filters select; bounded, and every bad parameter a 400.

use serde_json::{Value as Json, json};

use crate::common::{Backend, TestApp, blog_app, urlencode};

async fn groups(app: &TestApp, query: &str) -> Json {
    let reply = app.get(&format!("/posts/aggregate?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.body);
    reply.body
}

pub async fn counts_sums_and_periods(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    let ann = app
        .create(
            "authors",
            json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await["id"]
        .clone();
    let bob = app
        .create(
            "authors",
            json!({"name": "Bob", "email": "bob@example.com"}),
        )
        .await["id"]
        .clone();
    // (author, status, views, rating, published_at)
    let posts = [
        (
            &ann,
            "published",
            10,
            Some("4.5"),
            Some("2024-01-01T10:00:00Z"),
        ), // a Monday
        (
            &ann,
            "published",
            20,
            Some("3.5"),
            Some("2024-01-07T23:00:00Z"),
        ), // its Sunday
        (&bob, "published", 5, None, Some("2024-01-08T00:30:00Z")), // the next Monday
        (&bob, "draft", 7, Some("2.0"), Some("2024-02-15T12:00:00Z")),
        (&ann, "draft", 1, None, None),
        (&bob, "archived", 100, None, None),
    ];
    for (i, (author, status, views, rating, at)) in posts.iter().enumerate() {
        app.create(
            "posts",
            json!({"title": format!("P{i}"), "author_id": author, "status": status, "views": views,
                   "rating": rating, "published_at": at}),
        )
        .await;
    }
    // Count per status, the biggest first.
    assert_eq!(
        groups(&app, "group_by=status").await,
        json!([{"key": "published", "value": 3}, {"key": "draft", "value": 2}, {"key": "archived", "value": 1}])
    );
    assert_eq!(
        groups(&app, "group_by=status&metric=count&limit=1").await,
        json!([{"key": "published", "value": 3}])
    );
    // A sum per author, of the published posts only (two filter dialects).
    let published = urlencode(r#"{"status":"published"}"#);
    for filter in [
        format!("_filters={published}"),
        "status=published".to_owned(),
    ] {
        assert_eq!(
            groups(
                &app,
                &format!("group_by=author_id&metric=sum:views&{filter}")
            )
            .await,
            json!([{"key": ann, "value": 30.0}, {"key": bob, "value": 5.0}]),
            "{filter}"
        );
    }
    // No group: one, of every matching row; an average of a decimal.
    let average = groups(&app, "metric=avg:rating").await;
    assert_eq!(average.as_array().unwrap().len(), 1);
    assert_eq!(average[0]["key"], Json::Null);
    let value = average[0]["value"].as_f64().unwrap();
    assert!((value - 10.0 / 3.0).abs() < 1e-9, "{average}");
    assert_eq!(
        groups(&app, "q=P1").await,
        json!([{"key": null, "value": 1}])
    );
    // Periods in time order, from the first day of each; rows without a date are left out.
    assert_eq!(
        groups(&app, "group_by=published_at&bucket=month").await,
        json!([{"key": "2024-01-01", "value": 3}, {"key": "2024-02-01", "value": 1}])
    );
    assert_eq!(
        groups(&app, "group_by=published_at&bucket=week").await,
        json!([{"key": "2024-01-01", "value": 2}, {"key": "2024-01-08", "value": 1}, {"key": "2024-02-12", "value": 1}])
    );
    assert_eq!(
        groups(&app, "group_by=published_at&metric=sum:views").await,
        json!([{"key": "2024-01-01", "value": 10.0}, {"key": "2024-01-07", "value": 20.0},
               {"key": "2024-01-08", "value": 5.0}, {"key": "2024-02-15", "value": 7.0}])
    );
    // The latest periods, when there are more than the limit.
    assert_eq!(
        groups(&app, "group_by=published_at&bucket=month&limit=1").await,
        json!([{"key": "2024-02-01", "value": 1}])
    );

    for (query, message) in [
        (
            "group_by=nope",
            "unknown field \"nope\" in group_by of entity \"posts\"",
        ),
        (
            "group_by=body",
            "query parameter \"group_by\" cannot group by text field \"body\"",
        ),
        (
            "metric=sum:title",
            "query parameter \"metric\" sum takes a number field, not string field \"title\"",
        ),
        (
            "metric=median:views",
            "query parameter \"metric\" must be count, sum:field or avg:field, not \"median:views\"",
        ),
        (
            "metric=sum",
            "query parameter \"metric\" must be count, sum:field or avg:field, not \"sum\"",
        ),
        (
            "group_by=published_at&bucket=year",
            "query parameter \"bucket\" must be day, week or month, not \"year\"",
        ),
        (
            "group_by=status&limit=0",
            "query parameter \"limit\" must be a number of groups from 1 to 1000, not \"0\"",
        ),
        (
            "group_by=status&limit=lots",
            "query parameter \"limit\" must be a number of groups from 1 to 1000, not \"lots\"",
        ),
        (
            "group_by=status&group_by=author_id",
            "query parameter \"group_by\" is given more than once",
        ),
        (
            "group_by=status&_page=2",
            "query parameter \"_page\" and the other paging parameters do not apply to an aggregate: it reads every matching row",
        ),
        ("group_by=status&nope=1", "unknown query parameter \"nope\""),
    ] {
        let reply = app.get(&format!("/posts/aggregate?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert_eq!(
            reply.error(),
            ("bad_request".to_owned(), message.to_owned()),
            "{query}"
        );
    }
}
