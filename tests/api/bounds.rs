//! What one client may hold, over a real socket: a head trickled byte by byte is cut off, a
//! huge one is 431, idle connections are closed and bounded in number (the server keeps
//! answering others), and a client that never reads a streamed export lets go of the
//! database connection feeding it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Backend, TestApp, spawn_app};

/// The demo's blog with `limits` added to `[admin]`.
async fn blog_with(backend: Backend, limits: &str) -> Option<TestApp> {
    let config = autoadmin::demo::CONFIG.replacen(
        "base_path = \"/admin\"",
        &format!("base_path = \"/admin\"\n{limits}"),
        1,
    );
    spawn_app(backend, &[backend.blog_schema()], &config).await
}

/// `host:port` of the app.
fn address(app: &TestApp) -> String {
    let rest = app.api.trim_start_matches("http://");
    rest[..rest.find('/').unwrap()].to_owned()
}

/// Whether the server has closed `stream` (reads end) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read).await.is_ok()
}

async fn health(app: &TestApp) -> u16 {
    let response = app.client.get(format!("{}/health", app.api)).send().await;
    response.map_or(0, |r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_head_is_cut_off() {
    let app = blog_with(Backend::Sqlite, "header_timeout_secs = 1")
        .await
        .unwrap();
    let mut slow = TcpStream::connect(address(&app)).await.unwrap();
    slow.write_all(b"GET /admin/api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One header line every 200 ms: each arrives in time, the head as a whole does not.
    let trickle = async {
        for i in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let line = format!("X-Slow-{i}: yes\r\n");
            if slow.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    };
    let (_, others) = tokio::join!(trickle, health(&app));
    assert_eq!(others, 200, "the server answers others meanwhile");
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "the trickling client is disconnected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_head_is_431() {
    let app = blog_with(Backend::Sqlite, "max_header_bytes = 16384")
        .await
        .unwrap();
    // Beyond the limit 431; within it, the same request is answered.
    for (size, status) in [(100_000, 431), (10_000, 200)] {
        let request = app.client.get(format!("{}/health", app.api));
        let response = request.header("x-big", "a".repeat(size)).send().await;
        assert_eq!(response.unwrap().status(), status, "{size} bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_bounded() {
    // Thousands of connections that send nothing, under the default bound: others are
    // answered at once, and the idle ones are closed after the header timeout.
    let app = blog_with(Backend::Sqlite, "header_timeout_secs = 2")
        .await
        .unwrap();
    let mut idle = Vec::new();
    for _ in 0..2_000 {
        idle.push(TcpStream::connect(address(&app)).await.unwrap());
    }
    assert_eq!(health(&app).await, 200);
    for stream in &mut idle {
        assert!(closed_within(stream, Duration::from_secs(10)).await);
    }
    drop(idle);

    // With the bound reached by idle connections, a new client waits until they are
    // closed, then is answered: nothing stays taken for ever.
    let app = blog_with(
        Backend::Sqlite,
        "header_timeout_secs = 1\nmax_client_connections = 20",
    )
    .await
    .unwrap();
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(address(&app)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answered = tokio::time::timeout(Duration::from_secs(10), health(&app)).await;
    assert_eq!(answered.ok(), Some(200));
    for stream in &mut idle {
        assert!(closed_within(stream, Duration::from_secs(5)).await);
    }
}

/// 50,000 posts of about 250 bytes each: an export of some 13 MB, more than the socket
/// buffers of both ends hold.
const MANY_POSTS: &str = "INSERT INTO posts (title, body, author_id) \
    SELECT 'Post', 'BODY', 1 FROM \
    (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 \
     UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) a, \
    (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 \
     UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) b, \
    (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 \
     UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) c, \
    (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 \
     UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) e, \
    (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) f";

pub async fn a_client_that_never_reads_an_export_lets_go(backend: Backend) {
    // Two database connections; three clients that ask for the export and read nothing.
    let limits =
        "max_connections = 2\nmax_in_flight = 8\nsend_timeout_secs = 1\nacquire_timeout_secs = 3";
    let Some(app) = blog_with(backend, limits).await else {
        return;
    };
    app.db
        .execute("INSERT INTO authors (name, email) VALUES ('Ann', 'ann@example.com')")
        .await;
    app.db
        .execute(&MANY_POSTS.replace("BODY", &"x".repeat(220)))
        .await;
    let mut stuck = Vec::new();
    for _ in 0..3 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket
            .connect(address(&app).parse().unwrap())
            .await
            .unwrap();
        stream
            .write_all(b"GET /admin/api/posts/export.csv HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        stuck.push(stream);
    }
    // Their exports fill the buffers and stall; after the send timeout they are dropped,
    // and the database connections they held serve others again. Until then a list may be
    // refused as busy (503): asked again until it is served, within a bound far beyond the
    // send timeout (a loaded machine is slow to get there; a held connection never is).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let reply = loop {
        let reply = app.get("/posts?_page=1&_perPage=5").await;
        if reply.status != 503 || tokio::time::Instant::now() > deadline {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.header("x-total-count"), Some("50000"));
    for stream in &mut stuck {
        // Read what the server had sent before it gave up: the stream then ends.
        assert!(closed_within(stream, Duration::from_secs(20)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_holds_no_place() {
    // One place, no queue: a client sending its body slowly must not take the place.
    let limits = "max_in_flight = 1\nmax_queued = 0\nheader_timeout_secs = 2";
    let app = blog_with(Backend::Sqlite, limits).await.unwrap();
    let mut slow = TcpStream::connect(address(&app)).await.unwrap();
    slow.write_all(
        b"POST /admin/api/authors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"name\": ",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get("/authors").await.status, 200);
    // The body never completes: the answer is 408 in the error shape.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "answered and closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}
