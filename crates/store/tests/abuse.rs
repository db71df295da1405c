//! The store under abuse: floods of sign-ins and announces, account enumeration, peer lists
//! for strangers, foreign Host headers, bodies that are not JSON, CORS, and the modes of the
//! secrets it keeps at rest. The flood runs against `marquee-store` as its own process, so its
//! memory is the store's alone.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use marquee_store::tracker::{self, Announce, Tracker};
use marquee_store::{Clock, Limits};
use marquee_testsupport::{start_store, start_store_with, StoreProcess};
use rand::Rng;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `marquee-store serve` as its own process, on a free port, its data in `dir/store-data`.
fn store_process(dir: &Path) -> StoreProcess {
    StoreProcess::start(
        Path::new(env!("CARGO_BIN_EXE_marquee-store")),
        &dir.join("store-data"),
        "127.0.0.1:0",
    )
}

/// A line of `/proc/<pid>/status` of the store's process in KiB, e.g. `VmHWM` (the peak resident
/// set).
fn status_kib(store: &StoreProcess, field: &str) -> u64 {
    let pid = store.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

async fn sign_in(http: &reqwest::Client, base: &str, email: &str, password: &str) -> Answer {
    let resp = http
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    Answer::of(resp).await
}

/// A status, the `Retry-After` header, and the JSON body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: Value,
}

impl Answer {
    async fn of(resp: reqwest::Response) -> Answer {
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let body = resp.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            retry_after,
            body,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_passwords_is_refused_and_the_stores_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_process(dir.path());
    let before_kib = status_kib(&store, "VmHWM");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(300)
        .build()
        .unwrap();

    let guesses: Vec<String> = (0..300).map(|i| format!("guess {i}")).collect();
    let answers: Vec<Answer> = futures::future::join_all(
        guesses
            .iter()
            .map(|g| sign_in(&http, store.url(), marquee_store::DEMO_EMAIL, g)),
    )
    .await;
    let after_kib = status_kib(&store, "VmHWM");

    let ok = answers.iter().filter(|a| a.status.is_success()).count();
    let limited: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let wrong = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    println!(
        "300 concurrent wrong-password sign-ins: {wrong} checked and refused (401), {} rate-limited (429), {ok} succeeded; store peak RSS (VmHWM) {:.1} MiB before, {:.1} MiB after",
        limited.len(),
        before_kib as f64 / 1024.0,
        after_kib as f64 / 1024.0,
    );
    assert_eq!(ok, 0, "no wrong password signs in");
    assert_eq!(wrong + limited.len(), 300, "every answer is 401 or 429");
    assert!(!limited.is_empty(), "some sign-ins are rate-limited");
    assert!(wrong > 0, "the first few are checked");
    for a in &limited {
        assert_eq!(a.body["code"], "rate_limited", "{:?}", a.body);
        assert!(
            a.body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("too many sign-in")),
            "{:?}",
            a.body
        );
        assert!(a.retry_after.is_some_and(|s| s >= 1), "Retry-After: {a:?}");
    }

    // Then the flood the rate limits do not stop: 300 sign-ins at once naming 300 different
    // e-mails from 30 addresses (127.0.0.2 to .31, ten each: under every per-address and
    // per-e-mail limit), so every one asks for an Argon2 check.
    let spread: Vec<(reqwest::Client, String)> = (0..300u32)
        .map(|i| {
            let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % 30) as u8));
            let http = reqwest::Client::builder()
                .local_address(from)
                .build()
                .unwrap();
            (http, format!("stranger{i}@example.com"))
        })
        .collect();
    let answers: Vec<Answer> = futures::future::join_all(
        spread
            .iter()
            .map(|(http, email)| sign_in(http, store.url(), email, "guess")),
    )
    .await;
    let spread_kib = status_kib(&store, "VmHWM");
    let checked = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let busy: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    println!(
        "300 concurrent sign-ins of 300 unknown e-mails from 30 addresses: {checked} checked and refused (401), {} refused as busy (429); store peak RSS (VmHWM) {:.1} MiB",
        busy.len(),
        spread_kib as f64 / 1024.0,
    );
    assert_eq!(checked + busy.len(), 300, "every answer is 401 or 429");
    assert!(checked > 0, "some are checked");
    for a in &busy {
        assert_eq!(a.body["code"], "rate_limited", "{:?}", a.body);
        assert!(a.retry_after.is_some(), "{a:?}");
    }

    // The bound: whatever the store used before the floods, plus one 19 MiB Argon2 buffer per
    // hashing slot (twice the cores, the store's default), plus 64 MiB for 300 connections and
    // the allocator's slack. Before hashing was bounded, each of the 300 checks held its own
    // 19 MiB at once: about 5.7 GiB.
    let slots = Limits::default().hashing_permits() as u64;
    let bound_kib = before_kib + slots * 19 * 1024 + 64 * 1024;
    println!(
        "bound: {:.1} MiB ({slots} hashing slots)",
        bound_kib as f64 / 1024.0
    );
    for (what, kib) in [
        ("wrong passwords", after_kib),
        ("unknown e-mails", spread_kib),
    ] {
        assert!(
            kib <= bound_kib,
            "after the flood of {what}, peak RSS {kib} KiB is over {bound_kib} KiB"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_emails_and_wrong_passwords_are_answered_alike_and_sign_ups_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    store
        .create_account("known@example.com", "right password", 0)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = store.url();

    // The quickest of three of each: both include one full Argon2 check.
    let fastest = |times: &[Duration]| times.iter().copied().min().unwrap();
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    let (mut unknown_answer, mut wrong_answer) = (None, None);
    for _ in 0..3 {
        let t = Instant::now();
        let a = sign_in(&http, &base, "nobody@example.com", "right password").await;
        unknown.push(t.elapsed());
        unknown_answer = Some(a);
        let t = Instant::now();
        let a = sign_in(&http, &base, "known@example.com", "wrong password").await;
        wrong.push(t.elapsed());
        wrong_answer = Some(a);
    }
    let (unknown_answer, wrong_answer) = (unknown_answer.unwrap(), wrong_answer.unwrap());
    assert_eq!(unknown_answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (unknown_answer.status, &unknown_answer.body),
        (wrong_answer.status, &wrong_answer.body),
        "the same code and sentence"
    );
    let (unknown, wrong) = (fastest(&unknown), fastest(&wrong));
    println!("sign-in refused: unknown e-mail {unknown:?}, wrong password {wrong:?}");
    // Argon2 (19 MiB, two passes) takes several milliseconds on any computer; a lookup that
    // finds no account and answers at once takes well under one.
    assert!(
        unknown >= Duration::from_millis(5),
        "an unknown e-mail was answered in {unknown:?}: without checking a hash"
    );
    assert!(
        unknown * 3 >= wrong,
        "an unknown e-mail ({unknown:?}) is answered much faster than a wrong password ({wrong:?})"
    );
    assert_eq!(
        sign_in(&http, &base, "KNOWN@example.com", "right password")
            .await
            .status,
        StatusCode::OK,
        "e-mails are matched in any case"
    );

    // Sign-up: a taken e-mail still says so (the app offers to sign in instead), after the same
    // hashing; and one address may only ask a handful of times.
    let sign_up = |email: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let resp = http
                .post(format!("{base}/api/v1/accounts"))
                .json(&json!({"email": email, "password": "long enough"}))
                .send()
                .await
                .unwrap();
            Answer::of(resp).await
        }
    };
    let t = Instant::now();
    let taken = sign_up("known@example.com".into()).await;
    let taken_took = t.elapsed();
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.body["code"], "email_taken");
    assert!(taken_took >= Duration::from_millis(5), "{taken_took:?}");
    let burst = Limits::default().sign_up_per_address.burst;
    for i in 1..burst {
        let a = sign_up(format!("new{i}@example.com")).await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    }
    let refused = sign_up("one-too-many@example.com".into()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{refused:?}");
    assert_eq!(refused.body["code"], "rate_limited");
    assert!(
        refused.retry_after.is_some_and(|s| s > 60),
        "{refused:?}: minutes, not seconds"
    );
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_refills_the_sign_in_limit() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(1_750_000_000));
    let clock = {
        let now = now.clone();
        Clock::from_fn(move || now.load(Ordering::SeqCst))
    };
    let store = start_store_with(dir.path(), |c| {
        c.clock = clock;
        c.limits.sign_in_per_email_and_address = marquee_store::Rate {
            burst: 2,
            every_s: 60,
        };
    })
    .await;
    let http = reqwest::Client::new();
    let base = store.url();
    let demo = marquee_store::DEMO_EMAIL;
    for _ in 0..2 {
        let a = sign_in(&http, &base, demo, "wrong").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = sign_in(&http, &base, demo, marquee_store::DEMO_PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
    assert_eq!(a.retry_after, Some(60));
    assert_eq!(
        a.body["message"],
        "too many sign-in attempts for this e-mail from here: wait a minute and try again"
    );
    now.fetch_add(60, Ordering::SeqCst);
    let a = sign_in(&http, &base, demo, marquee_store::DEMO_PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    store.shutdown().await;
}

/// A client calling from `127.0.0.N`.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_guessing_from_many_addresses_never_lock_the_owner_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| {
        c.limits.sign_in_per_email_and_address = marquee_store::Rate {
            burst: 3,
            every_s: 600,
        };
        c.limits.sign_in_per_address = marquee_store::Rate {
            burst: 6,
            every_s: 600,
        };
    })
    .await;
    let base = store.url();
    let demo = marquee_store::DEMO_EMAIL;
    // 40 wrong guesses at the demo account from 20 addresses, two each (under every limit).
    let guesses = futures::future::join_all((0..40u8).map(|i| {
        let http = client_from(2 + i % 20);
        let base = base.clone();
        async move { sign_in(&http, &base, demo, &format!("guess {i}")).await }
    }))
    .await;
    assert!(
        guesses.iter().all(|a| a.status == StatusCode::UNAUTHORIZED),
        "{:?}",
        guesses.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    // The owner, from an address of their own, with the right password.
    let owner = client_from(100);
    let a = sign_in(&owner, &base, demo, marquee_store::DEMO_PASSWORD).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "the owner is not locked out: {a:?}"
    );

    // One address guessing one account meets the pair's limit (3) first...
    let guesser = client_from(50);
    for i in 0..3 {
        let a = sign_in(&guesser, &base, demo, &format!("wrong {i}")).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    }
    let a = sign_in(&guesser, &base, demo, "wrong again").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
    assert_eq!(
        a.body["message"],
        "too many sign-in attempts for this e-mail from here: wait 10 minutes and try again"
    );
    // ...then the address's own limit (6) whatever e-mail it names; the refused attempt above
    // did not count against the address.
    for i in 0..3 {
        let a = sign_in(&guesser, &base, &format!("other{i}@example.com"), "x").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    }
    let a = sign_in(&guesser, &base, "another@example.com", "x").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .starts_with("too many sign-in attempts from here"),
        "{a:?}"
    );

    // Successes count against nothing: an app restarted twenty times signs in each time.
    let app = client_from(101);
    for i in 0..20 {
        let a = sign_in(&app, &base, demo, marquee_store::DEMO_PASSWORD).await;
        assert_eq!(a.status, StatusCode::OK, "sign-in {i}: {a:?}");
    }
    // And a success clears its own mistakes: two typos, a success, three typos more.
    let typist = client_from(102);
    for password in [
        "dmeo",
        "Demo",
        marquee_store::DEMO_PASSWORD,
        "deom",
        "demo ",
        "dem",
    ] {
        let a = sign_in(&typist, &base, demo, password).await;
        assert_ne!(
            a.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{password:?}: {a:?}"
        );
    }
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_x_forwarded_for_is_ignored_and_only_a_trusted_proxy_is_believed() {
    let dir = tempfile::tempdir().unwrap();
    // The operator's proxy calls from 127.0.0.2.
    let store = start_store_with(dir.path(), |c| {
        c.trusted_proxies = marquee_store::TrustedProxies::parse(&["127.0.0.2"]).unwrap();
    })
    .await;
    let base = store.url();
    let burst = Limits::default().sign_up_per_address.burst as usize;
    let sign_up = |http: reqwest::Client, email: String, forwarded_for: String| {
        let base = base.clone();
        async move {
            let resp = http
                .post(format!("{base}/api/v1/accounts"))
                .header("X-Forwarded-For", forwarded_for)
                .json(&json!({"email": email, "password": "long enough"}))
                .send()
                .await
                .unwrap();
            Answer::of(resp).await
        }
    };
    // Through the proxy, a dozen people sign up from a dozen addresses: none is refused, though
    // every connection comes from the proxy.
    let proxy = client_from(2);
    for i in 0..(burst * 2) {
        let a = sign_up(
            proxy.clone(),
            format!("viewer{i}@example.com"),
            format!("127.0.1.{}", 10 + i),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "viewer {i}: {a:?}");
    }
    // A stranger forging a new X-Forwarded-For each time is still one address.
    let stranger = client_from(3);
    let mut refused = None;
    for i in 0..=burst {
        let a = sign_up(
            stranger.clone(),
            format!("forger{i}@example.com"),
            format!("127.0.2.{}", 10 + i),
        )
        .await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(i);
            break;
        }
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    }
    assert_eq!(refused, Some(burst), "the forged header is ignored");

    // The tracker hands out the viewer's address, not the proxy's.
    let free = feed_titles(&base)
        .await
        .into_iter()
        .find(|t| t["offer"] == "free")
        .expect("a free demo title");
    let mut ih = [0u8; 20];
    hex::decode_to_slice(free["info_hash"].as_str().unwrap(), &mut ih).unwrap();
    let announce = |http: reqwest::Client, forwarded_for: &'static str, port: u16, id: u8| {
        let url = format!("{base}/announce?{}", announce_query(&ih, port, &[id; 20]));
        async move {
            http.get(url)
                .header("X-Forwarded-For", forwarded_for)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        }
    };
    announce(proxy.clone(), "127.0.3.7", 7001, b'a').await;
    announce(stranger.clone(), "127.0.3.8", 7002, b'b').await;
    let body = announce(proxy.clone(), "127.0.3.9", 7003, b'c').await;
    let peers = compact_peers(&body);
    assert!(
        peers.contains(&"127.0.3.7:7001".parse().unwrap()),
        "the viewer behind the proxy: {peers:?}"
    );
    assert!(
        peers.contains(&"127.0.0.3:7002".parse().unwrap()),
        "the stranger's own address, not the one it forged: {peers:?}"
    );
    assert!(
        !peers
            .iter()
            .any(|p| p.ip() == IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))
                || p.ip() == IpAddr::V4(Ipv4Addr::new(127, 0, 3, 8))),
        "neither the proxy nor a forged address: {peers:?}"
    );
    store.shutdown().await;
}

/// The titles of the store's signed feed, as JSON.
async fn feed_titles(base: &str) -> Vec<Value> {
    let answer: Value = reqwest::get(format!("{base}/api/v1/catalog"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let feed: Value = serde_json::from_str(answer["feed"].as_str().unwrap()).unwrap();
    feed["titles"].as_array().unwrap().clone()
}

/// The IPv4 peers of a compact announce response (`5:peers<len>:<6 bytes each>`).
fn compact_peers(body: &[u8]) -> Vec<std::net::SocketAddr> {
    let at = body
        .windows(7)
        .position(|w| w == b"5:peers")
        .unwrap_or_else(|| panic!("no peers in {}", String::from_utf8_lossy(body)));
    let rest = &body[at + 7..];
    let colon = rest.iter().position(|&b| b == b':').unwrap();
    let len: usize = std::str::from_utf8(&rest[..colon])
        .unwrap()
        .parse()
        .unwrap();
    rest[colon + 1..colon + 1 + len]
        .chunks_exact(6)
        .map(|c| {
            std::net::SocketAddr::from((
                Ipv4Addr::new(c[0], c[1], c[2], c[3]),
                u16::from_be_bytes([c[4], c[5]]),
            ))
        })
        .collect()
}

/// A percent-encoded announce query.
fn announce_query(info_hash: &[u8; 20], port: u16, peer_id: &[u8; 20]) -> String {
    let enc = |b: &[u8]| b.iter().map(|x| format!("%{x:02x}")).collect::<String>();
    format!(
        "info_hash={}&peer_id={}&port={port}&uploaded=0&downloaded=0&left=1&compact=1",
        enc(info_hash),
        enc(peer_id)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_over_http_tracks_only_the_stores_titles_and_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let base = store.url();
    let http = reqwest::Client::new();
    let known: Vec<[u8; 20]> = feed_titles(&base)
        .await
        .iter()
        .filter_map(|t| {
            let mut ih = [0u8; 20];
            hex::decode_to_slice(t["info_hash"].as_str()?, &mut ih).ok()?;
            Some(ih)
        })
        .collect();
    assert!(!known.is_empty());
    let seeded = store.tracker_stats();

    let announce = |query: String| {
        let http = http.clone();
        let url = format!("{base}/announce?{query}");
        async move { http.get(url).send().await.unwrap().bytes().await.unwrap() }
    };
    let unknown = announce(announce_query(&[0xab; 20], 6881, &[b'x'; 20])).await;
    assert!(
        unknown.starts_with(b"d14:failure reason"),
        "{}",
        String::from_utf8_lossy(&unknown)
    );

    // 4,000 announces from 127.0.0.1: random ports and peer ids, half for the store's titles,
    // half for random info hashes.
    let queries: Vec<String> = {
        let mut rng = rand::thread_rng();
        (0..4_000)
            .map(|i| {
                let ih = if i % 2 == 0 {
                    known[rng.gen_range(0..known.len())]
                } else {
                    rng.gen()
                };
                announce_query(&ih, rng.gen_range(1..=u16::MAX), &rng.gen())
            })
            .collect()
    };
    let started = Instant::now();
    let failures = futures::stream::iter(queries.into_iter().map(announce))
        .buffer_unordered(16)
        .filter(|body| futures::future::ready(body.starts_with(b"d14:failure reason")))
        .count()
        .await;
    let stats = store.tracker_stats();
    println!(
        "4,000 announces over HTTP in {:.1} s: {failures} refused as unknown; tracker {stats:?} (after start: {seeded:?})",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures >= 1_900,
        "random info hashes are refused: {failures}"
    );
    assert_eq!(stats.known, seeded.known, "announces add no info hashes");
    assert!(stats.swarms <= known.len());
    // One address: at most 16 peers in each swarm, besides the store's seeder.
    assert!(
        stats.peers
            <= seeded.peers + known.len() * tracker::MAX_PEERS_PER_ADDRESS_IN_SWARM as usize,
        "{stats:?}"
    );
    store.shutdown().await;
}

#[test]
fn a_million_random_announces_leave_the_tracker_bounded() {
    let now = Arc::new(AtomicI64::new(1_750_000_000));
    let t = Tracker::new({
        let now = now.clone();
        Clock::from_fn(move || now.load(Ordering::SeqCst))
    });
    let mut rng = rand::thread_rng();
    let known: Vec<[u8; 20]> = (0..1_000).map(|_| rng.gen()).collect();
    t.know(known.iter().copied());
    let started = Instant::now();
    let mut refused = 0;
    let mut peak = t.stats();
    for i in 0..1_000_000u32 {
        // Half for titles the store knows, half random; from anywhere, on any port.
        let info_hash = if i % 2 == 0 {
            known[rng.gen_range(0..known.len())]
        } else {
            rng.gen()
        };
        let ip = if i % 4 == 1 {
            IpAddr::V6(rng.gen::<u128>().into())
        } else {
            IpAddr::V4(Ipv4Addr::from(rng.gen::<u32>()))
        };
        let a = Announce {
            info_hash,
            port: rng.gen_range(1..=u16::MAX),
            stopped: false,
        };
        if t.announce(ip, &a).is_err() {
            refused += 1;
        }
        if i % 100_000 == 0 {
            // Time passes: ten seconds every 100,000 announces.
            now.fetch_add(10, Ordering::SeqCst);
            let s = t.stats();
            if s.approx_bytes > peak.approx_bytes {
                peak = s;
            }
        }
    }
    let full = t.stats();
    println!(
        "1,000,000 random announces in {:.1} s: {refused} refused as unknown; tracker at the end {full:?}, largest seen {peak:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(refused >= 490_000, "{refused}");
    assert!(full.swarms <= known.len(), "swarms only for known titles");
    assert!(full.peers <= tracker::MAX_PEERS, "{full:?}");
    assert!(full.peers > 0);
    // 100,000 peers: a few dozen bytes each, with the tables' spare room.
    assert!(
        full.approx_bytes.max(peak.approx_bytes) < 32 << 20,
        "{full:?} {peak:?}"
    );

    // Everyone stops announcing: two intervals later nobody is answered, and the next
    // announce of each swarm forgets its peers.
    now.fetch_add(tracker::PEER_TTL_S, Ordering::SeqCst);
    for ih in &known {
        assert!(t.peers(ih).is_empty());
    }
    for (i, ih) in known.iter().enumerate() {
        let a = Announce {
            info_hash: *ih,
            port: 1,
            stopped: false,
        };
        // Each swarm's last announcer, each from an address of its own.
        let me = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i as u32));
        assert_eq!(t.announce(me, &a), Ok(vec![]));
    }
    let after = t.stats();
    println!("two intervals later: {after:?}");
    assert_eq!(
        after.peers,
        known.len(),
        "only the last announcer of each swarm"
    );
    assert_eq!(after.addresses, known.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_need_a_sign_in_bodies_need_json_and_nothing_grants_cors() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let base = store.url();
    let http = reqwest::Client::new();

    // Peer lists: strangers get 401; the app (signed in, through the wire crate's client) gets
    // them.
    let anonymous = Answer::of(
        http.get(format!("{base}/api/v1/titles/neon-harbor/peers"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{anonymous:?}");
    assert_eq!(anonymous.body["code"], "unauthorized");
    let client = marquee_protocol::StoreClient::new(&base).unwrap();
    client
        .sign_in(marquee_store::DEMO_EMAIL, marquee_store::DEMO_PASSWORD)
        .await
        .unwrap();
    let peers = client.peers("neon-harbor").await.unwrap();
    assert_eq!(peers.peers[0], store.seeder_addr().to_string());

    // A JSON body must say so: a web page can post text/plain anywhere without asking.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = http
            .post(format!("{base}/api/v1/sessions"))
            .body(r#"{"email":"demo@marquee.local","password":"demo"}"#);
        if let Some(ct) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        let a = Answer::of(req.send().await.unwrap()).await;
        assert_eq!(
            a.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}: {a:?}"
        );
        assert_eq!(a.body["code"], "unsupported_media_type");
        assert!(a.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let charset = http
        .post(format!("{base}/api/v1/sessions"))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(r#"{"email":"demo@marquee.local","password":"demo"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(charset.status(), StatusCode::OK);

    assert_no_cors(&http, &base).await;
    store.shutdown().await;
}

/// No answer of the store carries `Access-Control-Allow-Origin`: not a GET from a page, not a
/// JSON POST, not a preflight.
async fn assert_no_cors(http: &reqwest::Client, base: &str) {
    let origin = "https://evil.example";
    let requests = [
        http.get(format!("{base}/api/v1/store")),
        http.get(format!("{base}/api/v1/catalog")),
        http.get(format!("{base}/api/v1/wallet")),
        http.post(format!("{base}/api/v1/sessions"))
            .json(&json!({"email": "x@example.com", "password": "nope"})),
        http.request(reqwest::Method::OPTIONS, format!("{base}/api/v1/orders"))
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type, authorization",
            ),
        http.request(reqwest::Method::OPTIONS, format!("{base}/api/v1/sessions"))
            .header("Access-Control-Request-Method", "POST"),
    ];
    for req in requests {
        let resp = req.header("Origin", origin).send().await.unwrap();
        let url = resp.url().clone();
        let cors: Vec<_> = resp
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{url} ({}) sends {cors:?}", resp.status());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_answers_only_to_its_loopback_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let port = store.url().rsplit(':').next().unwrap().to_owned();
    let http = reqwest::Client::new();
    let with_host = |host: String| {
        let http = http.clone();
        let url = format!("{}/api/v1/store", store.url());
        async move { Answer::of(http.get(url).header("Host", host).send().await.unwrap()).await }
    };
    for host in [
        format!("evil.example:{port}"),
        format!("rebound.attacker.test:{port}"),
        "127.0.0.1:1".to_owned(),
        "127.0.0.1".to_owned(),
        format!("127.0.0.2:{port}"),
    ] {
        let a = with_host(host.clone()).await;
        assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST, "{host}: {a:?}");
        assert_eq!(a.body["code"], "bad_request", "{host}");
    }
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        assert_eq!(
            with_host(host.clone()).await.status,
            StatusCode::OK,
            "{host}"
        );
    }
    store.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_process_keeps_its_secrets_owner_only_refuses_foreign_hosts_and_grants_no_cors() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = store_process(dir.path());
    let http = reqwest::Client::new();
    // A write, so SQLite has its -wal and -shm files.
    let signed = sign_in(
        &http,
        store.url(),
        marquee_store::DEMO_EMAIL,
        marquee_store::DEMO_PASSWORD,
    )
    .await;
    assert_eq!(signed.status, StatusCode::OK, "{signed:?}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(store.data()), 0o700, "the data folder");
    for file in ["store.db", "store.db-wal", "store.db-shm"] {
        assert_eq!(mode(&store.data().join(file)), 0o600, "{file}");
    }
    // The store on loopback answers to its own names only: a page that reached 127.0.0.1
    // through a DNS name of its own (rebinding) cannot sign in as demo/demo.
    let port = store.url().rsplit(':').next().unwrap().to_owned();
    for (host, expected) in [
        ("store.example".to_owned(), StatusCode::MISDIRECTED_REQUEST),
        (
            format!("rebound.attacker.test:{port}"),
            StatusCode::MISDIRECTED_REQUEST,
        ),
        (format!("localhost:{port}"), StatusCode::OK),
        (format!("127.0.0.1:{port}"), StatusCode::OK),
    ] {
        let resp = http
            .post(format!("{}/api/v1/sessions", store.url()))
            .header("Host", &host)
            .json(&json!({"email": marquee_store::DEMO_EMAIL, "password": marquee_store::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), expected, "Host: {host}");
    }
    assert_no_cors(&http, store.url()).await;
}

/// Reads until the server closes the connection (or resets it); the bytes it sent first.
async fn until_closed(mut stream: tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Half-sent requests, connections that send nothing, one kept alive and then left idle, and a
/// body that stops arriving: each is closed by the store within its timeouts, a connection cap
/// keeps them from holding more than a few sockets, and a real request still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_idle_connections_are_closed_and_capped() {
    use tokio::io::AsyncWriteExt as _;
    use tokio::net::TcpStream;
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| {
        c.limits.connections = 8;
        c.limits.header_read_ms = 1_000;
        c.limits.request_ms = 2_000;
    })
    .await;
    let addr = store.url().trim_start_matches("http://").to_owned();
    let started = Instant::now();

    // 32 requests whose headers never end, 32 connections that say nothing: eight times the cap.
    let mut holders = Vec::new();
    for i in 0..64 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(format!("GET /api/v1/store HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
                .await
                .unwrap();
        }
        holders.push(tokio::spawn(until_closed(s)));
    }
    // A real request meanwhile: it waits for a place, at most a few header timeouts.
    let http = reqwest::Client::new();
    let answer = http
        .get(format!("{}/api/v1/store", store.url()))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let waited = started.elapsed();
    for h in holders {
        tokio::time::timeout(Duration::from_secs(30), h)
            .await
            .expect("the store closes every half-sent request and idle connection")
            .unwrap();
    }
    let all_closed = started.elapsed();
    println!(
        "64 idle or half-sent connections against a cap of 8 and a 1 s header timeout: all \
         closed after {:.1} s; a real request answered after {:.1} s",
        all_closed.as_secs_f64(),
        waited.as_secs_f64()
    );
    // 64 connections, 8 at a time, 1 s each: about 8 s, and never for ever.
    assert!(all_closed < Duration::from_secs(20), "{all_closed:?}");

    // A connection kept alive after one answer and then left idle is closed too.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(format!("GET /api/v1/store HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let idle_from = Instant::now();
    let got = tokio::time::timeout(Duration::from_secs(10), until_closed(kept))
        .await
        .expect("an idle kept-alive connection is closed");
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(idle_from.elapsed() < Duration::from_secs(5));

    // A body that stops arriving: 408, in words, and the connection closes.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        format!(
            "POST /api/v1/sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"email\":"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), until_closed(slow))
        .await
        .expect("a body that stops arriving is answered");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("did not arrive within 2 s"), "{text}");
}

/// Signs up `email` and returns its session token.
async fn token_of(http: &reqwest::Client, base: &str, email: &str) -> String {
    let a = Answer::of(
        http.post(format!("{base}/api/v1/accounts"))
            .json(&json!({"email": email, "password": "long enough"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    a.body["token"].as_str().unwrap().to_owned()
}

/// What the wallet answers `token` with: whether that session still opens anything.
async fn wallet_status(http: reqwest::Client, base: String, token: String) -> StatusCode {
    http.get(format!("{base}/api/v1/wallet"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// `GET base+path` with `token`, as JSON.
async fn get_json(http: &reqwest::Client, base: &str, path: &str, token: &str) -> Value {
    http.get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Registers `device` (a 64-hex id) for the account of `token`.
async fn register_device(http: &reqwest::Client, base: &str, token: &str, device: &str) -> Answer {
    Answer::of(
        http.post(format!("{base}/api/v1/devices"))
            .bearer_auth(token)
            .json(&json!({"device_id": device, "public_key": "cd".repeat(32)}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_never_answer_500_and_never_pass_the_device_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| {
        c.limits.sign_up_per_address.burst = 100;
    })
    .await;
    let base = store.url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();

    // Seven computers of one account, each signed in, registering at once under a limit of
    // five.
    token_of(&http, &base, "crowded@example.com").await;
    let mut sessions = Vec::new();
    for _ in 0..7 {
        let a = sign_in(&http, &base, "crowded@example.com", "long enough").await;
        sessions.push(a.body["token"].as_str().unwrap().to_owned());
    }
    let devices: Vec<String> = (0..7).map(|i| format!("{i:02}").repeat(32)).collect();
    let answers = futures::future::join_all(
        devices
            .iter()
            .zip(&sessions)
            .map(|(d, token)| register_device(&http, &base, token, d)),
    )
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    let registered = statuses.iter().filter(|s| s.is_success()).count();
    assert!(
        answers
            .iter()
            .all(|a| a.status.is_success() || a.body["code"] == "device_limit"),
        "every answer is a registration or the device limit: {answers:?}"
    );
    assert_eq!(registered, 5, "the limit holds under a race: {statuses:?}");

    // One account re-registering its computer over and over while another places free
    // orders: every write is answered, none with a server error.
    let registering = token_of(&http, &base, "registering@example.com").await;
    let ordering = token_of(&http, &base, "ordering@example.com").await;
    let device = "ef".repeat(32);
    assert!(register_device(&http, &base, &ordering, &device)
        .await
        .status
        .is_success());
    let registrations = futures::stream::iter(0..300).map(|_| {
        let (http, base, token) = (http.clone(), base.clone(), registering.clone());
        async move {
            register_device(&http, &base, &token, &"12".repeat(32))
                .await
                .status
        }
    });
    let orders = futures::stream::iter(0..300).map(|i| {
        let (http, base, token, device) =
            (http.clone(), base.clone(), ordering.clone(), device.clone());
        async move {
            let resp = http
                .post(format!("{base}/api/v1/orders"))
                .bearer_auth(&token)
                .json(&json!({
                    "client_order_id": format!("free-{i}"),
                    "title_id": if i % 2 == 0 { "open-skies" } else { "paper-boats" },
                    "device_id": device,
                }))
                .send()
                .await
                .unwrap();
            resp.status()
        }
    });
    let (registered, ordered): (Vec<StatusCode>, Vec<StatusCode>) = futures::join!(
        registrations.buffer_unordered(8).collect(),
        orders.buffer_unordered(8).collect()
    );
    let failed = |v: &[StatusCode]| v.iter().filter(|s| !s.is_success()).count();
    println!(
        "300 re-registrations beside 300 free orders: {} and {} not answered with success",
        failed(&registered),
        failed(&ordered)
    );
    assert_eq!(failed(&registered), 0, "{registered:?}");
    assert_eq!(failed(&ordered), 0, "{ordered:?}");
    assert!(store.audit().await.unwrap().is_clean());
    store.shutdown().await;
}

#[test]
fn the_store_refuses_to_package_a_file_viewers_could_not_save() {
    let dir = tempfile::tempdir().unwrap();
    let video = marquee_store::bundled_demo_dir().join("media/glass-rain.webm");
    let package = |file: &Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_marquee-store"))
            .arg("package")
            .arg(file)
            .args(["--title", "Probe"])
            .args(if extra.is_empty() {
                &["--kind", "community_video", "--price", "0"][..]
            } else {
                extra
            })
            .arg("--data")
            .arg(dir.path().join("store"))
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    for (name, why) in [
        ("CON.webm", "is a name Windows keeps for a device"),
        ("clip\u{1}.webm", "contains a control character"),
        ("clip.webm:hidden.webm", "contains a colon"),
    ] {
        let file = dir.path().join(name);
        std::fs::copy(&video, &file).unwrap();
        let out = package(&file, &[]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was packaged");
        assert!(
            said.contains(&format!(
                "viewers would save this title as “{name}”, which {why}"
            )) && said.contains("rename the file"),
            "{name}: {said}"
        );
    }
    // A paid title is saved under its id.
    let out = package(
        &video,
        &[
            "--kind", "film", "--id", "aux", "--price", "2.00", "--offer", "buy",
        ],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("“aux.mqc”") && said.contains("another --id"),
        "{said}"
    );
}

/// A one-file torrent of `length` bytes named `name`, and its info hash.
fn community_torrent(name: &str, length: u64) -> (Vec<u8>, String) {
    let mut t = format!("d4:infod6:lengthi{length}e4:name{}:{name}", name.len()).into_bytes();
    let pieces = length.div_ceil(16_384) as usize;
    t.extend_from_slice(format!("12:piece lengthi16384e6:pieces{}:", pieces * 20).as_bytes());
    t.extend(std::iter::repeat_n(7u8, pieces * 20));
    t.extend_from_slice(b"ee");
    let info_hash = librqbit::torrent_from_bytes(&t)
        .unwrap()
        .info_hash
        .as_string();
    (t, info_hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_flood_the_community_shelf_and_a_real_poster_fits() {
    use base64::Engine as _;
    use marquee_protocol::sign::{sign, SignatureContext};
    let b64 = base64::engine::general_purpose::STANDARD;
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| c.limits.publications_per_day = 3).await;
    let base = store.url();
    let http = reqwest::Client::new();
    let token = token_of(&http, &base, "creator@example.com").await;
    let publisher = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let device = "ab".repeat(32);
    let registered = Answer::of(
        http.post(format!("{base}/api/v1/devices"))
            .bearer_auth(&token)
            .json(&json!({
                "device_id": device,
                "public_key": "cd".repeat(32),
                "publisher_key": hex::encode(publisher.verifying_key().to_bytes()),
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(registered.status.is_success(), "{registered:?}");
    // A poster the size of the demo's own (52 KB: 70 KB in base64, over the 64 KiB every other
    // call takes).
    let poster =
        std::fs::read(marquee_store::bundled_demo_dir().join("media/glass-rain.jpg")).unwrap();
    assert!(poster.len() > 48 * 1024);
    let publish = |i: u64, poster: Option<String>| {
        let (torrent, info_hash) = community_torrent(&format!("clip-{i}.webm"), 100_000 + i);
        let payload = json!({
            "name": format!("Home movie {i}"),
            "synopsis": "",
            "language": "en",
            "licence_to_share": "CC BY 4.0",
            "mime": "video/webm",
            "width": 640,
            "height": 360,
            "runtime_s": 10,
            "size_bytes": 100_000 + i,
            "info_hash": info_hash,
            "torrent": b64.encode(&torrent),
            "poster": poster,
            "published_at": 1_700_000_000,
            "publisher_name": "Home movies",
        })
        .to_string();
        let signature = sign(&publisher, SignatureContext::Publish, payload.as_bytes());
        let (http, base, token, device) =
            (http.clone(), base.clone(), token.clone(), device.clone());
        async move {
            Answer::of(
                http.post(format!("{base}/api/v1/community"))
                    .bearer_auth(&token)
                    .json(&json!({"device_id": device, "payload": payload, "signature": signature}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let first = publish(1, Some(b64.encode(&poster))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    // Listed under the name the publisher chose: nothing of the account's e-mail.
    assert_eq!(first.body["publisher"], "Home movies", "{first:?}");
    assert_eq!(first.body["studio"], "Home movies", "{first:?}");
    assert!(!first.body.to_string().contains("creator"), "{first:?}");
    assert!(first.body["poster_path"]
        .as_str()
        .unwrap()
        .starts_with("/media/"));
    // A body past the route's own limit is refused once the limit is passed, not read to its
    // end: 8 MiB announced, and one byte past the limit (about 6 MB) sent. (A client that went on
    // sending all 8 MiB could see its connection reset before it reads the answer, as any
    // server that stops reading causes, so the rest is never sent here.)
    let huge = {
        use tokio::io::AsyncWriteExt as _;
        let host = base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
        let head = format!(
            "POST /api/v1/community HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            8 << 20
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let past_the_limit = vec![b' '; marquee_store::MAX_COMMUNITY_REQUEST + 1];
        stream.write_all(&past_the_limit).await.unwrap();
        String::from_utf8_lossy(&until_closed(stream).await).into_owned()
    };
    assert!(huge.starts_with("HTTP/1.1 413"), "{huge}");
    assert!(huge.contains("the limit is 6"), "{huge}");
    for i in 2..=3 {
        let a = publish(i, None).await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    }
    let flood = publish(4, None).await;
    assert_eq!(flood.status, StatusCode::TOO_MANY_REQUESTS, "{flood:?}");
    assert!(
        flood.body["message"]
            .as_str()
            .unwrap()
            .starts_with("too many publications from this account today"),
        "{flood:?}"
    );
    assert!(flood.retry_after.is_some_and(|s| s > 3_600), "{flood:?}");
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_session_ends_when_the_owner_changes_the_password_or_signs_out_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let base = store.url();
    let http = reqwest::Client::new();
    let owner = token_of(&http, &base, "owner@example.com").await;
    let token_of_sign_in = |password: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let a = sign_in(&http, &base, "owner@example.com", password).await;
            (a.status, a.body["token"].as_str().map(str::to_owned))
        }
    };
    let (_, thief) = token_of_sign_in("long enough").await;
    let thief = thief.unwrap();
    let wallet = |token: String| wallet_status(http.clone(), base.clone(), token);
    assert_eq!(wallet(thief.clone()).await, StatusCode::OK);
    let change = |token: &str, current: &str, new: &str| {
        http.post(format!("{base}/api/v1/account/password"))
            .bearer_auth(token)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };

    // The thief holds a session but not the password: it cannot lock the owner out.
    let a = Answer::of(change(&thief, "a guess", "thief's own").await.unwrap()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
    assert_eq!(a.body["code"], "invalid_credentials");
    let a = Answer::of(change(&owner, "long enough", "short").await.unwrap()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");

    // The owner changes the password: the thief's session ends, the owner's stays.
    let a = Answer::of(change(&owner, "long enough", "a new secret").await.unwrap()).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");
    assert_eq!(wallet(thief.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(wallet(owner.clone()).await, StatusCode::OK);
    assert_eq!(
        token_of_sign_in("long enough").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, again) = token_of_sign_in("a new secret").await;
    assert_eq!(status, StatusCode::OK);

    // Signing out everywhere ends every session, the caller's too.
    let ended = http
        .delete(format!("{base}/api/v1/account/sessions"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(wallet(owner).await, StatusCode::UNAUTHORIZED);
    assert_eq!(wallet(again.unwrap()).await, StatusCode::UNAUTHORIZED);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_copied_to_another_computer_ends_there_and_deactivating_a_computer_shuts_its_sessions_out(
) {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let base = store.url();
    let http = reqwest::Client::new();
    let (home, other) = ("aa".repeat(32), "bb".repeat(32));
    let wallet = |token: String| wallet_status(http.clone(), base.clone(), token);

    // The owner signs in on the home computer, which registers with the session.
    let owner = token_of(&http, &base, "owner@example.com").await;
    let a = register_device(&http, &base, &owner, &home).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");
    // Registering again from the same computer (every start does) is fine.
    let a = register_device(&http, &base, &owner, &home).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");

    // The token copied to another computer: registering it there ends the session (wherever it
    // is used), and nothing was registered; the home computer signs in again with the password.
    let a = register_device(&http, &base, &owner, &other).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    assert_eq!(a.body["code"], "unauthorized");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("belongs to another computer"),
        "{a:?}"
    );
    assert_eq!(wallet(owner.clone()).await, StatusCode::UNAUTHORIZED);
    let again = sign_in(&http, &base, "owner@example.com", "long enough").await;
    let owner = again.body["token"].as_str().unwrap().to_owned();
    let devices = get_json(&http, &base, "/api/v1/devices", &owner).await;
    let ids: Vec<&str> = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [home.as_str()], "{devices}");

    // Someone who signed in on another computer: deactivating that computer ends its session,
    // and the session cannot register it again.
    let thief = sign_in(&http, &base, "owner@example.com", "long enough").await;
    let thief = thief.body["token"].as_str().unwrap().to_owned();
    let a = register_device(&http, &base, &thief, &other).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");
    let done = http
        .delete(format!("{base}/api/v1/devices/{other}"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    assert_eq!(wallet(thief.clone()).await, StatusCode::UNAUTHORIZED);
    let a = register_device(&http, &base, &thief, &other).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    assert_eq!(wallet(owner).await, StatusCode::OK);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_computer_two_accounts_share_registers_with_both_and_nobody_squats_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let base = store.url();
    let http = reqwest::Client::new();
    let shared = "5e".repeat(32);
    let listed = |token: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let list = get_json(&http, &base, "/api/v1/devices", &token).await;
            list["devices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["device_id"].as_str().unwrap().to_owned(),
                        d["active"] == true,
                    )
                })
                .collect::<Vec<_>>()
        }
    };

    // A stranger registers the id first (it is derived from the machine, so it can be known).
    let squatter = token_of(&http, &base, "squatter@example.com").await;
    let a = register_device(&http, &base, &squatter, &shared).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");
    // The same id in capitals, or with a space, is refused rather than made a second computer
    // (devices and sessions are matched by the id's text).
    for spelling in [shared.to_uppercase(), format!(" {shared}")] {
        let a = register_device(&http, &base, &squatter, &spelling).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{spelling:?}: {a:?}");
        assert!(
            a.body["message"].as_str().unwrap().contains("lowercase"),
            "{a:?}"
        );
    }
    // The family's two accounts on that computer each register it: rows of their own.
    let parent = token_of(&http, &base, "parent@example.com").await;
    let child = token_of(&http, &base, "child@example.com").await;
    for token in [&parent, &child] {
        let a = register_device(&http, &base, token, &shared).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");
    }
    // One account deactivating it (the PC sold on) touches nobody else's row; the computer
    // comes back to that account when it registers again.
    let done = http
        .delete(format!("{base}/api/v1/devices/{shared}"))
        .bearer_auth(&parent)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    assert_eq!(listed(child.clone()).await, [(shared.clone(), true)]);
    assert_eq!(listed(squatter.clone()).await, [(shared.clone(), true)]);
    // Its session on that computer ended with it: the parent signs in again.
    let parent = sign_in(&http, &base, "parent@example.com", "long enough").await;
    let parent = parent.body["token"].as_str().unwrap().to_owned();
    assert_eq!(listed(parent.clone()).await, [(shared.clone(), false)]);
    let a = register_device(&http, &base, &parent, &shared).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{a:?}");
    assert_eq!(listed(parent).await, [(shared.clone(), true)]);
    store.shutdown().await;
}

/// The served torrent of a title, parsed: its `announce` and its `announce-list` tiers.
async fn served_trackers(
    http: &reqwest::Client,
    base: &str,
    title: &str,
    token: Option<&str>,
) -> (StatusCode, Option<String>, Vec<Vec<String>>) {
    let mut req = http.get(format!("{base}/api/v1/titles/{title}/torrent"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap();
    if !status.is_success() {
        return (status, None, vec![]);
    }
    let t = librqbit::torrent_from_bytes(&bytes).unwrap();
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let tiers = t
        .announce_list
        .iter()
        .map(|tier| tier.iter().map(|u| text(u.0)).collect())
        .collect();
    (status, t.announce.map(|a| text(a.0)), tiers)
}

/// A paid title's swarm is private: only accounts that hold it are told who watches it. (A title
/// the operator hides, neither served nor tracked: `interop::
/// a_published_video_reaches_another_viewer_and_aria2c_until_the_operator_hides_it` in the core's
/// tests, where a real viewer published it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_not_told_who_watches_a_paid_title() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| {
        c.trackers = vec!["udp://public.example:6969/announce".into()];
    })
    .await;
    let base = store.url();
    let http = reqwest::Client::new();
    let info_hash = |id: &str, titles: &[Value]| {
        let t = titles.iter().find(|t| t["id"] == id).unwrap();
        let mut ih = [0u8; 20];
        hex::decode_to_slice(t["info_hash"].as_str().unwrap(), &mut ih).unwrap();
        ih
    };
    let titles = feed_titles(&base).await;
    let (paid, free) = (
        info_hash("orbital-s01e01", &titles),
        info_hash("open-skies", &titles),
    );
    let announce = |url: String, ih: [u8; 20], port: u16| {
        let http = http.clone();
        async move {
            let body = http
                .get(format!("{url}?{}", announce_query(&ih, port, &[b'p'; 20])))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            String::from_utf8_lossy(&body).into_owned()
        }
    };

    // A buyer: the torrent it is served names its passkey, and no public tracker.
    store
        .create_account("buyer@example.com", "long enough", 1_000)
        .await
        .unwrap();
    let buyer = sign_in(&http, &base, "buyer@example.com", "long enough").await;
    let buyer = buyer.body["token"].as_str().unwrap().to_owned();
    let device = "b1".repeat(32);
    assert!(register_device(&http, &base, &buyer, &device)
        .await
        .status
        .is_success());
    let bought = http
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&buyer)
        .json(&json!({"client_order_id": "o-1", "title_id": "orbital-s01e01", "device_id": device}))
        .send()
        .await
        .unwrap();
    assert!(bought.status().is_success(), "{:?}", bought.text().await);
    let (_, private, tiers) = served_trackers(&http, &base, "orbital-s01e01", Some(&buyer)).await;
    let private = private.unwrap();
    let passkey = private
        .strip_prefix(&format!("{base}/announce/"))
        .unwrap_or_else(|| panic!("{private}"))
        .to_owned();
    assert_eq!(passkey.len(), 48, "{private}");
    assert_eq!(tiers, [vec![private.clone()]]);
    // Signed out, the paid title's torrent names the open URL only; a free title's names the
    // operator's public tracker after the store's.
    let (_, open, tiers) = served_trackers(&http, &base, "orbital-s01e01", None).await;
    assert_eq!(open.as_deref(), Some(format!("{base}/announce").as_str()));
    assert_eq!(tiers.len(), 1);
    let (_, _, tiers) = served_trackers(&http, &base, "open-skies", None).await;
    assert_eq!(tiers[1], ["udp://public.example:6969/announce"]);

    // The buyer announces with its passkey and is told of the swarm (the store's seeder).
    let answer = announce(private.clone(), paid, 7001).await;
    assert!(answer.contains("5:peers"), "{answer}");
    // Without a passkey, with a forged one, or with a stranger's: refused in words, and the
    // buyer is never handed out.
    let refused = announce(format!("{base}/announce"), paid, 7002).await;
    assert!(
        refused.contains("this title's swarm is private"),
        "{refused}"
    );
    let mut forged = passkey.clone().into_bytes();
    forged[47] = if forged[47] == b'0' { b'1' } else { b'0' };
    let forged = format!("{base}/announce/{}", String::from_utf8(forged).unwrap());
    let refused = announce(forged, paid, 7003).await;
    assert!(
        refused.contains("this title's swarm is private"),
        "{refused}"
    );
    let stranger = token_of(&http, &base, "stranger@example.com").await;
    let (_, theirs, _) = served_trackers(&http, &base, "orbital-s01e01", Some(&stranger)).await;
    let theirs = theirs.unwrap();
    assert_ne!(theirs, private);
    let refused = announce(theirs, paid, 7004).await;
    assert!(
        refused.contains("rent or buy it in Marquee first"),
        "{refused}"
    );
    // The stranger's peer list of the paid title holds only the store's seeder; the buyer's
    // holds the buyer too.
    let peers = |token: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let v = get_json(&http, &base, "/api/v1/titles/orbital-s01e01/peers", &token).await;
            v["peers"].as_array().unwrap().len()
        }
    };
    assert_eq!(peers(stranger.clone()).await, 1);
    assert_eq!(peers(buyer.clone()).await, 2);
    // A free title's swarm stays open to anyone.
    let answer = announce(format!("{base}/announce"), free, 7005).await;
    assert!(answer.contains("5:peers"), "{answer}");
    store.shutdown().await;
}
