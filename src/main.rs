//! The `autoadmin` command: parses flags, loads config, binds, and hands over to
//! [`autoadmin::serve`].

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

/// glibc's malloc showed up at ~8% of the server's CPU under load (docs/performance.md);
/// mimalloc's per-thread free lists make the request path's short-lived buffers cheap.
/// Only the binary chooses: a crate that embeds autoadmin keeps its own allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "autoadmin",
    version,
    about = "An admin backend for any SQL database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the blog demo: a seeded SQLite database, at http://127.0.0.1:8000/admin/.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000", env = "AUTOADMIN_BIND")]
        bind: SocketAddr,
        /// Where to create the demo database (replaced if it exists). Default: a temporary
        /// file, removed on exit.
        #[arg(long)]
        database: Option<PathBuf>,
    },
    /// Serve the admin for a database: with descriptors from config files, or, without
    /// --config, for every table the database has (introspected at start).
    Serve {
        /// TOML descriptor file; may be given several times.
        #[arg(long = "config")]
        config: Vec<PathBuf>,
        /// Without --config: the PostgreSQL schema to introspect (default public).
        #[arg(long)]
        schema: Option<String>,
        /// Overrides the config's [admin] database_url.
        #[arg(long, env = "AUTOADMIN_DATABASE_URL")]
        database_url: Option<String>,
        /// Overrides the config's [admin] bind (default 127.0.0.1:8000).
        #[arg(long, env = "AUTOADMIN_BIND")]
        bind: Option<SocketAddr>,
        /// Allow what a deployment must not do: no authentication at all, or tokens signed
        /// with a secret made up for this process.
        #[arg(long)]
        insecure_dev: bool,
    },
    /// Hash a password for [[auth.user]] password_hash. Reads it from a prompt (not echoed)
    /// or from standard input, never from the command line.
    HashPassword,
    /// Print the admin app's config.json for descriptor files (for a static deployment of the
    /// app: serve frontend/ and this file from any web server).
    Config {
        #[arg(long = "config", required = true)]
        config: Vec<PathBuf>,
    },
    /// Check descriptor files and report every problem with file, entity and field; with
    /// --database-url, also against the live database. Exits non-zero on any problem.
    Check {
        #[arg(long = "config", required = true)]
        config: Vec<PathBuf>,
        #[arg(long, env = "AUTOADMIN_DATABASE_URL")]
        database_url: Option<String>,
        /// Also list the filtered, sorted and searched fields that no index supports, with
        /// the CREATE INDEX statements that would (needs the database).
        #[arg(long)]
        advise: bool,
    },
    /// Import a CSV file or an Excel workbook into an entity, as `POST /{entity}/import` does (the same checks,
    /// report, audit and job), for files too big for a browser. Prints the report (JSON);
    /// exits non-zero when nothing was written because of a failed row, or the import
    /// stopped early.
    Import {
        #[arg(long = "config", required = true)]
        config: Vec<PathBuf>,
        #[arg(long, env = "AUTOADMIN_DATABASE_URL")]
        database_url: Option<String>,
        /// The entity the rows go to.
        #[arg(long)]
        entity: String,
        /// insert (a new record per row), update (the record each row's key finds) or
        /// upsert (update if found, else insert).
        #[arg(long, default_value = "insert")]
        mode: String,
        /// With update or upsert: the field that finds records (the primary key, or a unique
        /// field).
        #[arg(long)]
        key: Option<String>,
        /// abort (all rows or none) or skip (write the valid rows, report the others).
        #[arg(long, default_value = "abort")]
        on_error: String,
        /// Check and write every row in a transaction that is rolled back.
        #[arg(long)]
        dry_run: bool,
        /// JSON: column → field, or null to leave a column out.
        #[arg(long)]
        mapping: Option<String>,
        /// comma, semicolon or tab (default: found in the header row).
        #[arg(long)]
        delimiter: Option<String>,
        /// An Excel workbook's sheet, by name (default: the first).
        #[arg(long)]
        sheet: Option<String>,
        /// Whom the audit log names for the changes (default: $USER).
        #[arg(long)]
        user: Option<String>,
        /// The CSV file or Excel workbook (XLSX).
        file: PathBuf,
    },
    /// Print descriptors (TOML) for every table and view of a database, to start a config from.
    Introspect {
        #[arg(long, env = "AUTOADMIN_DATABASE_URL")]
        database_url: String,
        /// PostgreSQL schema (default public).
        #[arg(long)]
        schema: Option<String>,
        /// Only these tables (comma-separated).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// Not these tables (comma-separated).
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Demo { bind, database } => demo(bind, database).await,
        Command::Serve {
            config,
            schema,
            database_url,
            bind,
            insecure_dev,
        } => serve(config, schema, database_url, bind, insecure_dev).await,
        Command::HashPassword => {
            let password = read_password()?;
            let hash = tokio::task::spawn_blocking(move || {
                autoadmin::auth::builtin::hash_password(&password)
            })
            .await?;
            println!("{hash}");
            Ok(())
        }
        Command::Import {
            config,
            database_url,
            entity,
            mode,
            key,
            on_error,
            dry_run,
            mapping,
            delimiter,
            sheet,
            user,
            file,
        } => {
            let mut options = vec![("mode", mode), ("on_error", on_error)];
            options.extend(key.map(|k| ("key", k)));
            options.extend(dry_run.then(|| ("dry_run", "true".to_owned())));
            options.extend(mapping.map(|m| ("mapping", m)));
            options.extend(delimiter.map(|d| ("delimiter", d)));
            options.extend(sheet.map(|s| ("sheet", s)));
            let query_string: Vec<String> = options
                .iter()
                .map(|(name, value)| {
                    format!(
                        "{name}={}",
                        autoadmin::query::params::encode_component(value)
                    )
                })
                .collect();
            let user = user.or_else(|| std::env::var("USER").ok());
            import(
                config,
                database_url,
                &entity,
                &query_string.join("&"),
                &file,
                user,
            )
            .await
        }
        Command::Introspect {
            database_url,
            schema,
            tables,
            exclude,
        } => {
            let options = autoadmin::db::introspect::Options {
                schema,
                tables,
                exclude,
            };
            print!(
                "{}",
                autoadmin::introspect_toml(&database_url, &options).await?
            );
            Ok(())
        }
        Command::Config { config } => {
            let loaded = autoadmin::config::load_files(&config)?;
            let api = format!("{}/api", loaded.admin.base_path);
            let document = autoadmin::ui::config(&loaded.schema, &loaded.admin, &api);
            println!("{}", serde_json::to_string_pretty(&document)?);
            Ok(())
        }
        Command::Check {
            config,
            database_url,
            advise,
        } => {
            let loaded = autoadmin::config::load_files(&config)?;
            let names: Vec<&str> = loaded
                .schema
                .entities()
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            let Some(url) = database_url.or_else(|| loaded.admin.database_url.clone()) else {
                println!("ok: {} entities ({})", names.len(), names.join(", "));
                return Ok(());
            };
            let origin = match config.as_slice() {
                [one] => one.display().to_string(),
                _ => "config".to_owned(),
            };
            let problems = autoadmin::check_against_database(&loaded.schema, &url, &origin).await?;
            if advise {
                for line in autoadmin::index_advice(&loaded.schema, &url).await? {
                    println!("advice: {origin}: {line}");
                }
            }
            if problems.is_empty() {
                println!(
                    "ok: {} entities ({}) fit the database",
                    names.len(),
                    names.join(", ")
                );
                return Ok(());
            }
            for problem in &problems {
                eprintln!("{problem}");
            }
            anyhow::bail!(
                "{} problem(s) between the config and the database",
                problems.len()
            )
        }
    }
}

async fn demo(bind: SocketAddr, database: Option<PathBuf>) -> anyhow::Result<()> {
    let temporary = database.is_none();
    let path = database.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("autoadmin-demo-{}.sqlite", std::process::id()))
    });
    let url = autoadmin::demo::create_database(&path)
        .await
        .with_context(|| format!("creating the demo database at {}", path.display()))?;
    // One user, admin, with the password of AUTOADMIN_DEMO_PASSWORD or one made up now.
    let (password, generated) = match std::env::var("AUTOADMIN_DEMO_PASSWORD") {
        Ok(password) if !password.is_empty() => (password, false),
        _ => (random_secret()[..16].to_owned(), true),
    };
    let hashed = password.clone();
    let hash =
        tokio::task::spawn_blocking(move || autoadmin::auth::builtin::hash_password(&hashed))
            .await?;
    let auth = format!(
        "\n[auth]\n  [[auth.user]]\n  name = \"admin\"\n  role = \"admin\"\n  password_hash = \"{hash}\"\n"
    );
    let admin = autoadmin::Admin::builder()
        .database_url(&url)
        .config_toml(
            format!("{}{auth}", autoadmin::demo::CONFIG),
            "config/blog.toml",
        )
        .secret(random_secret())
        .build()
        .await?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let base = admin.settings().base_path.clone();
    println!("autoadmin demo: database {}", path.display());
    println!("  admin: http://{bind}{base}/");
    if generated {
        println!(
            "  log in as admin with password {password} (set AUTOADMIN_DEMO_PASSWORD to choose it)"
        );
    } else {
        println!("  log in as admin with the password of AUTOADMIN_DEMO_PASSWORD");
    }
    println!("  API:   http://{bind}{base}/api/posts?_page=1&_perPage=5");
    autoadmin::serve(listener, admin, autoadmin::shutdown_signal()).await?;
    if temporary {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
    Ok(())
}

/// A password from the terminal (not echoed), or the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    Ok(password)
}

/// 32 random bytes, hex: a secret for tokens that only this process needs to check.
fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `autoadmin import`: the import with a progress bar on a terminal (plain lines every few
/// seconds otherwise, on standard error), then the report on standard output.
async fn import(
    config: Vec<PathBuf>,
    database_url: Option<String>,
    entity: &str,
    query_string: &str,
    file: &std::path::Path,
    user: Option<String>,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    use std::sync::atomic::Ordering;
    let mut builder = autoadmin::Admin::builder();
    for path in &config {
        builder = builder.config_file(path);
    }
    if let Some(url) = database_url {
        builder = builder.database_url(url);
    }
    let admin = builder.build().await?;
    let mut running = admin
        .import_file(entity, query_string, file, user)
        .await
        .map_err(|message| anyhow::anyhow!(message))?;
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = indicatif::ProgressBar::new(running.size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let every = std::time::Duration::from_millis(if terminal { 200 } else { 5000 });
    let outcome = loop {
        tokio::select! {
            outcome = &mut running.outcome => break outcome?,
            () = tokio::time::sleep(every) => {
                let counts = running.progress.counts();
                let read = running.read.load(Ordering::Relaxed);
                let line = format!(
                    "{} rows, {} inserted, {} updated, {} unchanged, {} failed",
                    counts.rows, counts.inserted, counts.updated, counts.unchanged, counts.failed
                );
                match &bar {
                    Some(bar) => {
                        bar.set_position(read);
                        bar.set_message(line);
                    }
                    None => eprintln!(
                        "import {}: {line} ({} of {} bytes)",
                        running.id, read, running.size
                    ),
                }
            }
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    admin.close().await;
    let (report, failure) = match outcome {
        Ok(report) => {
            let failure = report.aborted().then(|| report.refusal());
            (Some(report), failure)
        }
        Err(autoadmin::db::ImportError::File { error, report }) => {
            (Some(*report), Some(error.to_string()))
        }
        Err(autoadmin::db::ImportError::Cancelled(report)) => {
            (Some(*report), Some("the import was cancelled".to_owned()))
        }
        Err(autoadmin::db::ImportError::Db(error)) => (None, Some(error.to_string())),
    };
    if let Some(report) = report {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    match failure {
        Some(message) => Err(anyhow::anyhow!("import {}: {message}", running.id)),
        None => Ok(()),
    }
}

async fn serve(
    config: Vec<PathBuf>,
    schema: Option<String>,
    database_url: Option<String>,
    bind: Option<SocketAddr>,
    insecure_dev: bool,
) -> anyhow::Result<()> {
    let mut builder = autoadmin::Admin::builder();
    for file in &config {
        builder = builder.config_file(file);
    }
    if config.is_empty() {
        // No descriptors: every table of the database, as introspection describes it.
        builder = builder.introspect(autoadmin::db::introspect::Options {
            schema,
            ..Default::default()
        });
    }
    if let Some(url) = database_url {
        builder = builder.database_url(url);
    }
    if insecure_dev {
        // Used only when no secret is configured: tokens then die with the process.
        builder = builder.fallback_secret(random_secret());
    }
    let admin = builder.build().await?;
    if admin.is_open() {
        anyhow::ensure!(
            insecure_dev,
            "this admin has no authentication: anyone who reaches it could read and change the database. \
             Add users under [auth] (see `autoadmin hash-password`), or pass --insecure-dev for a local, open admin"
        );
        eprintln!(
            "warning: --insecure-dev: no authentication, anyone who reaches the admin can use it"
        );
    }
    if config.is_empty() {
        let names: Vec<&str> = admin
            .schema()
            .entities()
            .iter()
            .filter(|e| e.name != autoadmin::db::audit::ENTITY && !e.per_user)
            .map(|e| e.name.as_str())
            .collect();
        println!(
            "introspected {} entities: {}",
            names.len(),
            names.join(", ")
        );
        for note in admin.introspection_notes() {
            println!("  note: {note}");
        }
    }
    let bind = match bind {
        Some(bind) => bind,
        None => admin
            .settings()
            .bind
            .as_deref()
            .unwrap_or("127.0.0.1:8000")
            .parse()
            .context("the config's [admin] bind is not an address")?,
    };
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    println!("  admin: http://{bind}{}/", admin.settings().base_path);
    autoadmin::serve(listener, admin, autoadmin::shutdown_signal()).await?;
    Ok(())
}
