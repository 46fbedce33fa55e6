//! The load generator of `bench/overload.sh`: `connections` clients, each sending its next
//! GET to `url` as soon as the last is answered (after a 503, once its `Retry-After` has
//! passed and up to half as long again at random, as the app does; `OVERLOAD_NO_JITTER=1`:
//! exactly the `Retry-After`, so that the refused come back together), for `seconds`; then
//! the count and latency of the answers per status. Unlike wrk it keeps the admitted (200) and the refused (503)
//! apart, which is what overload control is judged by. Each status is also reported for the
//! requests sent after the first [`ONSET`] (`"200 steady"`): the onset of 1,024 clients at
//! once is a burst, which the queue lets wait, and then the load that stays. Loopback only;
//! it stops by itself.
//!
//! ```sh
//! cargo run --release --example overload -- http://127.0.0.1:18400/admin/api/posts/1 1024 10
//! ```

use std::time::{Duration, Instant};

/// The start of a run, reported apart: every client's first request at once.
const ONSET: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, connections, seconds] = &args[..] else {
        eprintln!("usage: overload URL CONNECTIONS SECONDS");
        std::process::exit(2);
    };
    let connections: usize = connections.parse().expect("CONNECTIONS is a number");
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a client");
    let jitter = std::env::var_os("OVERLOAD_NO_JITTER").is_none();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut seen: Vec<(u16, u32, bool)> = Vec::new();
                let mut failed = 0u64;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    match client.get(&url).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let retry_after = response
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                            let _ = response.bytes().await;
                            let micros = started.elapsed().as_micros().min(u32::MAX as u128);
                            seen.push((status, micros as u32, started - start >= ONSET));
                            // As the app does (and the deadline allows).
                            if let Some(seconds) = retry_after.filter(|_| status == 503) {
                                let wait = Duration::from_secs(seconds).mul_f64(if jitter {
                                    1.0 + rand::random::<f64>() / 2.0
                                } else {
                                    1.0
                                });
                                let until = (Instant::now() + wait).min(deadline);
                                tokio::time::sleep_until(until.into()).await;
                            }
                        }
                        Err(_) => failed += 1,
                    }
                }
                (seen, failed)
            })
        })
        .collect();
    let mut by_status: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    let mut failed = 0;
    for task in tasks {
        let (seen, task_failed) = task.await.expect("a client task");
        failed += task_failed;
        for (status, micros, steady) in seen {
            by_status
                .entry(status.to_string())
                .or_default()
                .push(micros);
            if steady {
                by_status
                    .entry(format!("{status} steady"))
                    .or_default()
                    .push(micros);
            }
        }
    }
    let mut out = serde_json::Map::new();
    for (status, mut latencies) in by_status {
        latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
            f64::from(latencies[i]) / 1000.0
        };
        let span = if status.ends_with("steady") {
            seconds as f64 - ONSET.as_secs_f64()
        } else {
            seconds as f64
        };
        out.insert(
            status,
            serde_json::json!({
                "count": latencies.len(),
                "per_second": latencies.len() as f64 / span,
                "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": at(1.0),
            }),
        );
    }
    out.insert("connection_errors".into(), failed.into());
    println!("{}", serde_json::Value::Object(out));
}
