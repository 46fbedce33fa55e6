//! Responses are compressed when the client accepts it, lists included: a list's
//! `Content-Range` counts records, not bytes, and comes through compression unchanged.

use std::io::Read;

use super::common::{Backend, blog_app};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("a brotli body");
    out
}

pub async fn lists_are_compressed(backend: Backend) {
    let Some(app) = blog_app(backend).await else {
        return;
    };
    app.author_with_posts(40, |i| format!("A post of some length, number {i}"))
        .await;
    let url = format!("{}/posts?_page=2&_perPage=15&_sortField=id", app.api);
    let plain = app.client.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["content-range"], "posts 15-29/40");
    let plain = plain.bytes().await.unwrap();

    for (encoding, decode) in [("gzip", gunzip as fn(&[u8]) -> Vec<u8>), ("br", unbrotli)] {
        let response = app
            .client
            .get(&url)
            .header("Accept-Encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding);
        assert_eq!(response.headers()["content-range"], "posts 15-29/40");
        assert_eq!(response.headers()["x-total-count"], "40");
        assert!(
            response
                .headers()
                .get("x-autoadmin-parked-content-range")
                .is_none()
        );
        let body = response.bytes().await.unwrap();
        assert!(
            body.len() < plain.len() / 2,
            "{encoding}: {} of {}",
            body.len(),
            plain.len()
        );
        assert_eq!(decode(&body), plain, "{encoding}");
    }

    // config.json is compressed too.
    let root = app.api.trim_end_matches("/api");
    let response = app
        .client
        .get(format!("{root}/config.json"))
        .header("Accept-Encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-encoding").is_some());
}
