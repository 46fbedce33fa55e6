//! A live-updates stream whose client stops reading: its events wait in a bounded buffer
//! (1,024 behind, `crate::events`), and past it the stream is ended — the writes never wait
//! for it, and a stream that reads keeps getting every event. Raw sockets: the slow client
//! has a small receive buffer, so that the server's socket fills after a few events.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Backend, TestApp, spawn_app};

/// Posts written by each bulk update, and bulk updates: 16,000 events of about 250 bytes,
/// beyond the buffer and what the sockets hold: on loopback the kernel grows the server's
/// send buffer to megabytes (its MSS is 64 kB), whatever the client's receive buffer.
const POSTS: usize = 1000;
const UPDATES: usize = 16;

/// A stream of `app`'s events over a socket of its own, the request sent; `receive_buffer`
/// bytes of receive buffer, if given.
async fn open(app: &TestApp, receive_buffer: Option<u32>) -> TcpStream {
    let rest = app.api.strip_prefix("http://").unwrap();
    let (address, base) = rest.split_once('/').unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let mut stream = socket.connect(address.parse().unwrap()).await.unwrap();
    let request = format!(
        "GET /{base}/_events HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads `stream` until `done` says so of what was read, the stream ends, or `within`;
/// what was read, and whether the stream ended.
async fn read_until(
    stream: &mut TcpStream,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> (String, bool) {
    let mut text = String::new();
    let mut buffer = vec![0; 64 * 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (text, true),
            Ok(Ok(n)) => {
                text.push_str(&String::from_utf8_lossy(&buffer[..n]));
                // The end of a chunked body: the stream was ended by the server.
                if text.ends_with("\r\n0\r\n\r\n") {
                    return (text, true);
                }
                if done(&text) {
                    return (text, false);
                }
            }
            Err(_) => return (text, false),
        }
    }
}

fn changes(text: &str) -> usize {
    text.matches("event: change").count()
}

pub async fn a_stream_that_stops_reading_is_dropped_not_waited_for(backend: Backend) {
    let config = autoadmin::demo::CONFIG.replacen(
        "[admin]\n",
        "[admin]\nevents_poll_ms = 50\nevents_heartbeat_secs = 30\n",
        1,
    );
    let Some(app) = spawn_app(backend, &[backend.blog_schema()], &config).await else {
        return;
    };
    let author = app.an_author().await;
    // Made outside autoadmin: no events yet.
    let rows: Vec<String> = (0..POSTS).map(|i| format!("('p{i}', {author})")).collect();
    let insert = format!(
        "INSERT INTO posts (title, author_id) VALUES {}",
        rows.join(", ")
    );
    app.db.execute(&insert).await;
    let listed = app
        .get(&format!("/posts?_perPage={POSTS}&_sortField=id"))
        .await;
    let ids: Vec<i64> = listed.ids();
    assert_eq!(ids.len(), POSTS);
    let (mut slow, ready) = {
        let mut slow = open(&app, Some(2048)).await;
        let (text, _) = read_until(&mut slow, Duration::from_secs(10), |t| {
            t.contains("event: ready")
        })
        .await;
        (slow, text.contains("event: ready"))
    };
    assert!(ready, "the slow stream started");
    // A stream that reads all along, in a task of its own.
    let mut reader = open(&app, None).await;
    let wanted = POSTS * UPDATES;
    let reading = tokio::spawn(async move {
        let (text, _) = read_until(&mut reader, Duration::from_secs(300), |t| {
            changes(t) >= wanted
        })
        .await;
        changes(&text)
    });

    // The slow client reads nothing while every update is made, and each is answered.
    let path = format!(
        "/posts?ids={}",
        crate::common::urlencode(&json!(ids).to_string())
    );
    for n in 0..UPDATES {
        let updated = app.patch(&path, json!({"views": n + 1})).await;
        assert_eq!(updated.status, 200, "update {n}: {}", updated.body);
    }
    assert_eq!(
        reading.await.unwrap(),
        wanted,
        "the reading stream got every event"
    );

    // Reading again, the slow client gets what was buffered, then the end of its stream.
    let (text, ended) = read_until(&mut slow, Duration::from_secs(30), |_| false).await;
    let got = changes(&text);
    println!("{backend:?}: the slow stream read {got} of {wanted} events, then its end");
    assert!(
        ended,
        "the slow stream was ended ({got} events read, then nothing)"
    );
    assert!(
        got < wanted - 1024,
        "{got} of {wanted} events reached the slow stream"
    );
    // Dropped, it may connect again: the stream answers as ever.
    let mut again = open(&app, None).await;
    let (text, _) = read_until(&mut again, Duration::from_secs(10), |t| {
        t.contains("event: ready")
    })
    .await;
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{}",
        &text[..text.len().min(200)]
    );
}
