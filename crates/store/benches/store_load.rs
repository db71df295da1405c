//! Load: 1,000 concurrent purchases over HTTP from 50 accounts, a fifth of them retried with the
//! same order id (half of those while the original is still in flight). A buyer's repeat of a
//! title it already holds on its computer is answered with what it holds, uncharged, so the
//! store records one order per buyer and title. Asserts zero double
//! charges and zero lost licences, prints throughput and p99 latency beside a reference measured
//! in the same run (as many `GET /api/v1/store` calls: the HTTP framework's floor), and writes
//! `target/bench/store-load.json`.
//!
//! Run with `cargo bench -p marquee-store --bench store_load`. Under `cargo test` it makes 50
//! purchases from 5 accounts, with the same checks, and writes nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use marquee_store::api::{OrderRequest, OrderResponse, SessionResponse};
use marquee_store::{Store, StoreConfig};
use rand::RngCore;

const PURCHASES: usize = 1000;
const ACCOUNTS: usize = 50;
const TITLES: &[&str] = &[
    "neon-harbor",
    "midnight-circuit",
    "the-quiet-orchard",
    "orbital-s01e01",
    "orbital-s01e02",
    "glass-rain",
];

fn p99(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)].as_secs_f64() * 1000.0
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

struct Buyer {
    token: String,
    device: String,
}

async fn buy(
    http: &reqwest::Client,
    base: &str,
    buyer: &Buyer,
    req: &OrderRequest,
) -> (Duration, Option<OrderResponse>) {
    let started = Instant::now();
    let resp = http
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&buyer.token)
        .json(req)
        .send()
        .await;
    let answer = match resp {
        Ok(r) if r.status().is_success() => r.json::<OrderResponse>().await.ok(),
        Ok(r) => {
            eprintln!(
                "order failed: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
            None
        }
        Err(e) => {
            eprintln!("order failed: {e}");
            None
        }
    };
    (started.elapsed(), answer)
}

fn main() -> anyhow::Result<()> {
    let Some(run) = marquee_bench::Run::from_args("store_load") else {
        return Ok(());
    };
    let (purchases, accounts) = if run.measuring() {
        (PURCHASES, ACCOUNTS)
    } else {
        (50, 5)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(load(&run, purchases, accounts))
}

async fn load(run: &marquee_bench::Run, purchases: usize, accounts: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = StoreConfig::loopback(
        dir.path().join("store"),
        Some(marquee_store::bundled_demo_dir()),
    );
    // Every buyer signs in from 127.0.0.1: the per-address sign-in limit is not what this
    // measures.
    config.limits.sign_in_per_address.burst = 10_000;
    let store = Store::start(config).await?;
    let base = store.url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    let mut buyers = Vec::new();
    for i in 0..accounts {
        let email = format!("load{i}@example.com");
        store.create_account(&email, "load test", 100_000).await?;
        let s: SessionResponse = http
            .post(format!("{base}/api/v1/sessions"))
            .json(&serde_json::json!({"email": email, "password": "load test"}))
            .send()
            .await?
            .json()
            .await?;
        let device = random_hex(32);
        let status = http
            .post(format!("{base}/api/v1/devices"))
            .bearer_auth(&s.token)
            .json(&serde_json::json!({"device_id": device, "public_key": random_hex(32)}))
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "registering a device: {status}");
        buyers.push(Buyer {
            token: s.token,
            device,
        });
    }
    let buyers = Arc::new(buyers);

    // Reference: the same number of concurrent requests that touch no database.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..purchases {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let ok = http
                .get(format!("{base}/api/v1/store"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (t.elapsed(), ok)
        }));
    }
    let mut ref_lat = Vec::new();
    for t in tasks {
        let (d, ok) = t.await?;
        anyhow::ensure!(ok, "a reference request failed");
        ref_lat.push(d);
    }
    let ref_elapsed = started.elapsed();

    // The purchases: every fifth is retried, odd ones at once (racing the original), even ones
    // after the original answered.
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut retries = 0;
    for i in 0..purchases {
        let buyer = i % accounts;
        let req = OrderRequest {
            client_order_id: format!("load-{i}"),
            title_id: TITLES[(i / accounts) % TITLES.len()].to_owned(),
            device_id: buyers[buyer].device.clone(),
            move_here: false,
        };
        let retry = i % 5 == 0;
        retries += usize::from(retry);
        let (http, base, buyers) = (http.clone(), base.clone(), buyers.clone());
        tasks.push(tokio::spawn(async move {
            let b = &buyers[buyer];
            let mut out = Vec::new();
            if retry && i % 10 == 5 {
                let (a, b2) = tokio::join!(buy(&http, &base, b, &req), buy(&http, &base, b, &req));
                out.push(a);
                out.push(b2);
            } else {
                out.push(buy(&http, &base, b, &req).await);
                if retry {
                    out.push(buy(&http, &base, b, &req).await);
                }
            }
            out
        }));
    }
    let mut latencies = Vec::new();
    let (mut failed, mut mismatched, mut without_licence) = (0, 0, 0);
    let mut charged_by_answers = 0i64;
    for t in tasks {
        let answers = t.await?;
        let first = answers[0].1.clone();
        for (d, a) in &answers {
            latencies.push(*d);
            match (a, &first) {
                (None, _) | (_, None) => failed += 1,
                (Some(a), Some(f)) => {
                    if a.order_id != f.order_id || a.licence != f.licence {
                        mismatched += 1;
                    }
                    if a.licence.is_none() {
                        without_licence += 1;
                    }
                }
            }
        }
        if let Some(f) = first {
            charged_by_answers += f.charged_cents;
        }
    }
    let elapsed = started.elapsed();
    let requests = latencies.len();

    // What the account already holds for its computer is handed back, not ordered again: a
    // buyer's second purchase (or second rental, in its window) of a title is no new order.
    // So there is one order per distinct (buyer, title).
    let distinct = (0..purchases)
        .map(|i| (i % accounts, (i / accounts) % TITLES.len()))
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    let audit = store.audit().await?;
    let double_charges = audit.orders_charged_twice
        + audit.orders.saturating_sub(distinct)
        + u64::from(audit.charged_cents != audit.ledger_order_cents)
        + u64::from(charged_by_answers != audit.charged_cents)
        + audit.balances_off
        + mismatched;
    let lost_licences = audit.paid_orders_without_one_licence
        + distinct.saturating_sub(audit.orders)
        + without_licence
        + failed;

    let per_s = requests as f64 / elapsed.as_secs_f64();
    let p99_ms = p99(latencies);
    let reference_per_s = purchases as f64 / ref_elapsed.as_secs_f64();
    let reference_p99_ms = p99(ref_lat);
    println!("store_load: {purchases} purchases + {retries} retries from {accounts} accounts over loopback HTTP");
    println!(
        "  purchases      {per_s:>8.0} req/s   p99 {p99_ms:>7.1} ms   ({requests} requests in {:.2} s)",
        elapsed.as_secs_f64()
    );
    println!(
        "  reference      {reference_per_s:>8.0} req/s   p99 {reference_p99_ms:>7.1} ms   (GET /api/v1/store, same concurrency)"
    );
    println!("  double charges {double_charges}   lost licences {lost_licences}   audit {audit:?}");

    let out = serde_json::json!({
        "purchases": purchases,
        "retries": retries,
        "accounts": accounts,
        "requests": requests,
        "double_charges": double_charges,
        "lost_licences": lost_licences,
        "per_s": per_s,
        "p99_ms": p99_ms,
        "reference_per_s": reference_per_s,
        "reference_p99_ms": reference_p99_ms,
    });
    run.write_figures("store-load", &serde_json::to_string_pretty(&out)?);
    store.shutdown().await;
    anyhow::ensure!(double_charges == 0, "double charges: {double_charges}");
    anyhow::ensure!(lost_licences == 0, "lost licences: {lost_licences}");
    Ok(())
}
