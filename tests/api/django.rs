//! What the database accepts, the admin accepts (issue #13): a schema made by a real
//! framework's migrations (Django's auth tables, `django-admin migrate`), served with no
//! config. Django writes `''` for a blank name in a NOT NULL column; introspection must not
//! turn NOT NULL into "not blank", and a partial update must not fail on a field it does not
//! touch. SQLite and PostgreSQL (Django's MySQL driver needs a C build).
//!
//! Needs `python3` with Django (and psycopg for PostgreSQL): `.ci/run` installs them.
//! Without them the test says it is skipped.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::common::{Backend, TestDb, spawn_on};

/// Whether python3 has Django (and psycopg), saying once why not.
fn django_available() -> bool {
    static CHECK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CHECK.get_or_init(|| {
        let found = Command::new("python3")
            .args(["-c", "import django, psycopg"])
            .output()
            .is_ok_and(|out| out.status.success());
        if !found {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\nnote: Django tests skipped: python3 cannot import django and psycopg (pip install django 'psycopg[binary]')"
            );
        }
        found
    })
}

/// Runs `python3 -m django <args>` with settings for `db`, in `work`.
fn django(work: &Path, db: &TestDb, args: &[&str]) {
    let database = match db.backend {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://");
            let path = path.split('?').next().unwrap();
            format!("{{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {path:?}}}")
        }
        Backend::Postgres => {
            let name = db
                .url
                .rsplit('/')
                .next()
                .unwrap()
                .split('?')
                .next()
                .unwrap();
            let server = std::env::var("AUTOADMIN_TEST_POSTGRES_URL").unwrap();
            let authority = server
                .split("://")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap();
            let (user, host) = authority.split_once('@').unwrap_or(("postgres", authority));
            let (host, port) = host.split_once(':').unwrap_or((host, "5432"));
            format!(
                "{{'ENGINE': 'django.db.backends.postgresql', 'NAME': {name:?}, 'USER': {user:?}, 'HOST': {host:?}, 'PORT': {port:?}}}"
            )
        }
        Backend::MySql => unreachable!("not run on MySQL"),
    };
    std::fs::write(
        work.join("aa_settings.py"),
        format!(
            "SECRET_KEY = 'test'\nUSE_TZ = True\nINSTALLED_APPS = ['django.contrib.auth', 'django.contrib.contenttypes']\nDATABASES = {{'default': {database}}}\n"
        ),
    )
    .unwrap();
    let out = Command::new("python3")
        .args(["-m", "django"])
        .args(args)
        .arg("--settings=aa_settings")
        .env("PYTHONPATH", work)
        .current_dir(work)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "django {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn django_auth_users_are_editable(backend: Backend) {
    if backend == Backend::MySql || !django_available() {
        return;
    }
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let work = std::env::temp_dir().join(format!("aa-django-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    django(&work, &db, &["migrate", "--verbosity", "0"]);
    // Users as Django makes them: no first or last name is '' (NOT NULL, blank=True).
    django(
        &work,
        &db,
        &[
            "shell",
            "-c",
            "from django.contrib.auth.models import User; User.objects.create_user('ann', 'ann@example.com', 'pw'); User.objects.create_user('bob')",
        ],
    );
    let _ = std::fs::remove_dir_all(&work);
    let app = spawn_on(db, |builder| {
        builder.introspect(autoadmin::db::introspect::Options::default())
    })
    .await;
    let users = app.get("/auth_user?_sortField=id").await;
    assert_eq!(users.status, 200, "{}", users.body);
    let bob = users.body.as_array().unwrap()[1].clone();
    assert_eq!(bob["username"], "bob");
    assert_eq!(bob["last_name"], "");
    let path = format!("/auth_user/{}", bob["id"]);
    // The request: a partial update of a field the stored record has no problem with.
    let reply = app.patch(&path, json!({"first_name": "Zed"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["first_name"], "Zed");
    assert_eq!(reply.body["last_name"], "");
    // Blank is a value of a NOT NULL text; null is not.
    let reply = app.patch(&path, json!({"first_name": ""})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = app.patch(&path, json!({"last_name": null})).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["errors"]["last_name"], "is required");
    // What the database holds is what Django reads: the row is as Django would write it.
    let stored = app
        .db
        .scalar(&format!(
            "SELECT first_name || '|' || last_name FROM auth_user WHERE id = {}",
            bob["id"]
        ))
        .await;
    assert_eq!(stored.as_deref(), Some("|"));
    // The introspected descriptor says so: NOT NULL without a default is required and blank.
    let printed = autoadmin::config::print_toml(None, app_schema(&app).entities(), &[]);
    assert!(
        printed.contains("name = \"last_name\"\n  type = \"string\"\n  required = true\n  max_length = 150\n  blank = true"),
        "{printed}"
    );
    // Django's junctions (a key of their own, the pair unique) are the user's groups and
    // permissions, named as Django names the fields; the junction is no entity.
    assert!(
        printed.contains("name = \"groups\"\n  target = \"auth_group\"\n  through = \"auth_user_groups\"\n  foreign_key = \"user_id\"\n  target_key = \"group_id\""),
        "{printed}"
    );
    assert!(printed.contains("name = \"user_permissions\"\n  target = \"auth_permission\""));
    assert_eq!(app.get("/auth_user_groups").await.status, 404);
    let editors = app.create("auth_group", json!({"name": "editors"})).await;
    let reply = app.patch(&path, json!({"groups": [editors["id"]]})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["groups"], json!([editors["id"]]));
    // Django reads what the admin wrote.
    let read = app
        .db
        .scalar(&format!(
            "SELECT COUNT(*) FROM auth_user_groups WHERE user_id = {} AND group_id = {}",
            bob["id"], editors["id"]
        ))
        .await;
    assert_eq!(read.as_deref(), Some("1"));
    // Deleting the user takes its junction rows (Django's own keys do not cascade).
    let reply = app.delete(&path).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(app.db.count("auth_user_groups").await, 0);
}

fn app_schema(app: &crate::common::TestApp) -> autoadmin::schema::Schema {
    app.schema
        .clone()
        .expect("an app spawned by spawn_on keeps its schema")
}
