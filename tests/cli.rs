//! The `autoadmin` binary as a user runs it: demo, serve, check; graceful exit on SIGTERM.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_autoadmin");

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until `url` answers 200, or fails the test after 30 s.
async fn wait_for(url: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(url).await
            && response.status() == 200
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server exited early with {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not answer in 30 s");
}

/// Sends SIGTERM and returns the exit output; fails if the process does not stop in 10 s.
fn terminate(child: Child) -> Output {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || done_tx.send(child.wait_with_output()));
    match done_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("the server did not stop within 10 s of SIGTERM");
        }
    }
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "autoadmin-cli-{}-{name}",
        uuid::Uuid::new_v4().simple()
    ))
}

#[tokio::test]
async fn demo_serves_a_seeded_blog_and_stops_on_sigterm() {
    let port = free_port();
    let database = temp_path("demo.sqlite");
    let mut child = Command::new(BIN)
        .args(["demo", "--bind", &format!("127.0.0.1:{port}"), "--database"])
        .arg(&database)
        .env("AUTOADMIN_DEMO_PASSWORD", "demo-pass")
        // Everything logged, to check that no secret is.
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{port}/admin/api");
    wait_for(&format!("{api}/health"), &mut child).await;

    // The demo has one user, admin; without a token the API answers 401.
    let client = reqwest::Client::new();
    assert_eq!(
        reqwest::get(format!("{api}/posts")).await.unwrap().status(),
        401
    );
    let login: serde_json::Value = client
        .post(format!("{api}/login"))
        .json(&serde_json::json!({"username": "admin", "password": "demo-pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("a token").to_owned();
    for (entity, n) in [
        ("authors", 50),
        ("posts", 1000),
        ("comments", 3000),
        ("tags", 12),
    ] {
        let response = client
            .get(format!("{api}/{entity}?_page=1&_perPage=5"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["x-total-count"],
            n.to_string().as_str(),
            "{entity}"
        );
        let rows: Vec<serde_json::Value> = response.json().await.unwrap();
        assert_eq!(rows.len(), 5);
    }

    let output = terminate(child);
    assert!(output.status.success(), "exit status {}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("http://127.0.0.1:{port}/admin/")),
        "{stdout}"
    );
    assert!(
        stdout.contains("log in as admin with the password of AUTOADMIN_DEMO_PASSWORD"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("sqlx::query") || stderr.contains("sqlx::query"),
        "debug logs were written"
    );
    for secret in ["demo-pass", "$argon2", token.as_str()] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret:?} appears in the logs"
        );
    }
    std::fs::remove_file(&database).unwrap();
}

#[tokio::test]
async fn serve_uses_the_config_and_database_url() {
    let database = temp_path("serve.sqlite");
    let url = autoadmin::demo::create_database(&database).await.unwrap();
    let port = free_port();
    let config = format!("{}/config/blog.toml", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--config",
            &config,
            "--insecure-dev",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("AUTOADMIN_DATABASE_URL", &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{port}/admin/api");
    wait_for(&format!("{api}/health"), &mut child).await;
    let response = reqwest::get(format!("{api}/posts/1")).await.unwrap();
    assert_eq!(response.status(), 200);
    let output = terminate(child);
    assert!(output.status.success());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
}

#[test]
fn check_reports_file_entity_and_field() {
    let config = format!("{}/config/blog.toml", env!("CARGO_MANIFEST_DIR"));
    let good = Command::new(BIN)
        .args(["check", "--config", &config])
        .output()
        .unwrap();
    assert!(good.status.success());
    assert_eq!(
        String::from_utf8_lossy(&good.stdout).trim(),
        "ok: 4 entities (authors, posts, comments, tags)"
    );

    let bad_path = temp_path("bad.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("target = \"tags\"", "target = \"labels\"");
    std::fs::write(&bad_path, text).unwrap();
    let bad = Command::new(BIN)
        .arg("check")
        .arg("--config")
        .arg(&bad_path)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: entity \"posts\", field \"tag_id\": reference target \"labels\" is not an entity",
            bad_path.display()
        )),
        "{stderr}"
    );
    // `serve` says it once too (it once repeated the message after itself).
    let served = Command::new(BIN)
        .args(["serve", "--database-url", "sqlite::memory:", "--config"])
        .arg(&bad_path)
        .output()
        .unwrap();
    assert!(!served.status.success());
    let stderr = String::from_utf8_lossy(&served.stderr);
    assert_eq!(stderr.matches("is not an entity").count(), 1, "{stderr}");
    std::fs::remove_file(&bad_path).unwrap();
}

#[test]
fn serve_without_a_database_url_says_so() {
    let config = format!("{}/config/blog.toml", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(BIN)
        .args(["serve", "--config", &config])
        .env_remove("AUTOADMIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no database URL"), "{stderr}");
}

#[test]
fn config_prints_the_admin_app_config() {
    let config = format!("{}/config/blog.toml", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(BIN)
        .args(["config", "--config", &config])
        .output()
        .unwrap();
    assert!(output.status.success());
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["api"], "/admin/api");
    assert_eq!(document["entities"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn introspect_check_and_serve_without_a_config() {
    let database = temp_path("introspect.sqlite");
    let url = autoadmin::demo::create_database(&database).await.unwrap();
    let output = Command::new(BIN)
        .args(["introspect", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let toml = String::from_utf8(output.stdout).unwrap();
    assert_eq!(toml.matches("[[entity]]").count(), 4);
    autoadmin::config::load_str(&toml, "introspected.toml").expect("loads back");

    // check: the file fits; a wrong one does not, and says why.
    let file = temp_path("introspected.toml");
    std::fs::write(&file, &toml).unwrap();
    let ok = Command::new(BIN)
        .arg("check")
        .arg("--config")
        .arg(&file)
        .args(["--database-url", &url])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let wrong = toml.replace(
        "name = \"birth_date\"\n  type = \"date\"",
        "name = \"birth_date\"\n  type = \"boolean\"",
    );
    assert_ne!(wrong, toml);
    std::fs::write(&file, wrong).unwrap();
    let bad = Command::new(BIN)
        .arg("check")
        .arg("--config")
        .arg(&file)
        .args(["--database-url", &url])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("entity \"authors\", field \"birth_date\": a boolean field does not fit the column type DATE"), "{stderr}");

    // serve with no config: every table.
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--database-url",
            &url,
            "--insecure-dev",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{port}/admin/api");
    wait_for(&format!("{api}/health"), &mut child).await;
    let response = reqwest::get(format!("{api}/comments?_page=1&_perPage=1"))
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "3000");
    let output = terminate(child);
    assert!(output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("introspected 4 entities: authors, comments, posts, tags")
    );
    std::fs::remove_file(&file).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
}

#[tokio::test]
async fn serve_refuses_to_run_open_and_hash_password_reads_stdin() {
    let database = temp_path("open.sqlite");
    let url = autoadmin::demo::create_database(&database).await.unwrap();
    let config = format!("{}/config/blog.toml", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(BIN)
        .args([
            "serve",
            "--config",
            &config,
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:1",
        ])
        .env_remove("AUTOADMIN_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("this admin has no authentication"),
        "{stderr}"
    );

    let mut child = Command::new(BIN)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"s3cret pass\n")
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    use argon2::PasswordVerifier;
    let parsed = argon2::PasswordHash::new(hash.trim()).unwrap();
    assert!(
        argon2::Argon2::default()
            .verify_password(b"s3cret pass", &parsed)
            .is_ok()
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
}

/// `autoadmin import`: a CSV file (or a workbook) into an entity with the checks, report and audit of the
/// API's import; the report on standard output, a failed `abort` import a non-zero exit
/// that writes nothing.
#[tokio::test]
async fn import_reads_a_file_into_an_entity() {
    use autoadmin::xlsx::Kind;
    use sqlx::Connection;
    let database = temp_path("import.sqlite");
    let url = autoadmin::demo::create_database(&database).await.unwrap();
    let config = format!("{}/config/blog.toml", env!("CARGO_MANIFEST_DIR"));
    let file = temp_path("tags.csv");
    std::fs::write(&file, "Name\r\ncli-a\r\nBad Name\r\ncli-b\r\n").unwrap();
    let run = |options: &[&str]| {
        Command::new(BIN)
            .args([
                "import",
                "--config",
                &config,
                "--database-url",
                &url,
                "--entity",
                "tags",
            ])
            .args(options)
            .arg(&file)
            .env("USER", "ops")
            .output()
            .unwrap()
    };
    let tags = |url: String| async move {
        let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tags WHERE name LIKE 'cli-%'")
            .fetch_one(&mut db)
            .await
            .unwrap();
        count.0
    };

    let refused = run(&[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("1 row is invalid: nothing was written"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(report["errors"][0]["row"], 3);
    assert_eq!(tags(url.clone()).await, 0);

    let done = run(&["--on-error", "skip"]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(
        (report["inserted"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(tags(url.clone()).await, 2);
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let actors: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT actor FROM autoadmin_audit WHERE entity = 'tags' AND cause = 'import'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(actors.len(), 2);
    assert!(
        actors
            .iter()
            .all(|(actor,)| actor.as_deref() == Some("ops"))
    );

    let unknown = Command::new(BIN)
        .args([
            "import",
            "--config",
            &config,
            "--database-url",
            &url,
            "--entity",
            "nope",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown entity \"nope\""));
    let bad = run(&["--mode", "merge"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("mode"));

    // A workbook, known by its first bytes whatever its name; its sheet by name.
    let now = chrono::Utc::now().naive_utc();
    let mut book = autoadmin::xlsx::Workbook::new("Tags", &["Name"], vec![Kind::Text], now);
    for name in ["cli-x", "cli-y"] {
        book.row([&serde_json::json!(name)]);
    }
    let mut bytes = book.take();
    bytes.extend(book.finish());
    std::fs::write(&file, bytes).unwrap();
    let missing = run(&["--sheet", "Other"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("no sheet named \"Other\"; its sheets: Tags"),
        "{stderr}"
    );
    let done = run(&["--sheet", "Tags"]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(report["inserted"], 2, "{report}");
    assert_eq!(tags(url.clone()).await, 4);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    let _ = std::fs::remove_file(&file);
}
