//! The store's HTTP API end to end: a real store on 127.0.0.1:0 with the demo catalog, spoken
//! to over HTTP with reqwest, as the app and any other client would.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use marquee_licence::licence::{LicenceKind, SignedLicence};
use marquee_protocol::sign::SignatureContext;
use marquee_store::api::*;
use marquee_store::{Clock, Store, StoreConfig, StoreError};
use rand::RngCore;
use reqwest::StatusCode;
use serde_json::{json, Value};

use marquee_testsupport::{start_store, start_store_with, wait_for};

// ---- helpers ----

/// A clock the test moves by hand; the store reads it instead of the computer's, so expiring a
/// session or ageing a licence takes no real time.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> TestClock {
        // 2025-06-15: any fixed time will do; a fixed one makes every run alike.
        TestClock(Arc::new(AtomicI64::new(1_750_000_000)))
    }

    /// The store's view of this clock.
    fn clock(&self) -> Clock {
        let now = self.0.clone();
        Clock::from_fn(move || now.load(Ordering::SeqCst))
    }

    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// A client of the store, signed in or not.
struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    /// The e-mail and password it signed in with: each computer it registers signs in anew,
    /// as a session belongs to the one computer that registered with it.
    credentials: Option<(String, String)>,
}

impl Client {
    fn new(store: &Store) -> Client {
        Client::new_with(&store.url())
    }

    async fn signed_in(store: &Store, email: &str, password: &str) -> Client {
        let mut c = Client::new(store);
        c.token = Some(c.session(email, password).await);
        c.credentials = Some((email.to_owned(), password.to_owned()));
        c
    }

    /// A new session's token.
    async fn session(&self, email: &str, password: &str) -> String {
        let (status, body) = Client::new_with(&self.base)
            .call(
                "POST",
                "/api/v1/sessions",
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    fn new_with(base: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token: None,
            credentials: None,
        }
    }

    fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base);
        let req = self.http.request(method.parse().unwrap(), url);
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends a call and returns the status and the JSON body (`null` when empty).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {bytes:?}"))
        };
        (status, value)
    }

    /// Registers a fresh random device; returns its id.
    async fn new_device(&self) -> String {
        let id = random_hex(32);
        let (status, body) = self.register(&id).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        id
    }

    /// Registers a computer of the account, from a session of its own (signed in for it).
    async fn register(&self, device_id: &str) -> (StatusCode, Value) {
        let mut computer = Client::new_with(&self.base);
        computer.token = match &self.credentials {
            Some((email, password)) => Some(self.session(email, password).await),
            None => self.token.clone(),
        };
        computer
            .call(
                "POST",
                "/api/v1/devices",
                Some(json!({"device_id": device_id, "public_key": random_hex(32)})),
            )
            .await
    }

    async fn order(&self, order_id: &str, title: &str, device: &str) -> (StatusCode, Value) {
        self.call(
            "POST",
            "/api/v1/orders",
            Some(json!({"client_order_id": order_id, "title_id": title, "device_id": device})),
        )
        .await
    }

    async fn balance(&self) -> i64 {
        let (status, body) = self.call("GET", "/api/v1/wallet", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["balance_cents"].as_i64().unwrap()
    }
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Asserts an error answer: its status and its stable code.
fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        got.1
    );
}

fn licence_of(store: &Store, body: &Value) -> marquee_licence::licence::Licence {
    let b64 = body["licence"].as_str().expect("a licence");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    SignedLicence::from_bytes(bytes)
        .unwrap()
        .verify(&store.public_key())
        .expect("signed by the store")
}

fn verify(store: &Store, context: SignatureContext, msg: &[u8], signature_hex: &str) {
    marquee_protocol::sign::verify(&store.public_key(), context, msg, signature_hex)
        .expect("a valid store signature");
}

async fn rich_account(store: &Store, email: &str) -> Client {
    store
        .create_account(email, "long enough", 10_000)
        .await
        .unwrap();
    Client::signed_in(store, email, "long enough").await
}

// ---- licence protection: signed time, first frame, status, revoke, renew, move ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licences_renew_revoke_move_and_report_first_frames() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let store = start_store_with(dir.path(), |c| c.clock = clock.clock()).await;
    let a = rich_account(&store, "a@example.com").await;
    let pc1 = a.new_device().await;
    let pc2 = a.new_device().await;

    let (status, t) = Client::new(&store).call("GET", "/api/v1/time", None).await;
    assert_eq!(status, StatusCode::OK);
    let time = t["time"].as_i64().unwrap();
    verify(
        &store,
        SignatureContext::Time,
        &time.to_be_bytes(),
        t["signature"].as_str().unwrap(),
    );

    // A rental: renew keeps its issue time; it cannot move.
    let (status, rent) = a.order("r-1", "neon-harbor", &pc1).await;
    assert_eq!(status, StatusCode::OK, "{rent}");
    let rental = licence_of(&store, &rent);
    assert_eq!(rental.kind, LicenceKind::Rent);
    let rid = hex::encode(rental.licence_id);
    let ff = format!("/api/v1/licences/{rid}/first-frame");
    // A first frame from the future (a client clock ahead) is recorded at the store's now, and
    // the answer says so, so the client adopts it.
    let (status, recorded) = a.call("POST", &ff, Some(json!({"at": time + 1}))).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["at"], time);
    // A second report is accepted and ignored: the first frame never moves, and the answer
    // says which one counts.
    let (status, recorded) = a.call("POST", &ff, Some(json!({"at": time + 999}))).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["at"], time);
    // An hour later: a renewal that re-issued the rental now would carry a later issue time.
    clock.advance(3600);
    let (status, renewed) = a
        .call("POST", &format!("/api/v1/licences/{rid}/renew"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let renewed = licence_of(&store, &renewed);
    assert_eq!(renewed.licence_id, rental.licence_id);
    assert_eq!(
        renewed.issued_at, rental.issued_at,
        "a rental window never grows"
    );
    assert_eq!(renewed.kind, LicenceKind::Rent);
    let moved = a
        .call(
            "POST",
            &format!("/api/v1/licences/{rid}/move"),
            Some(json!({"device_id": pc2})),
        )
        .await;
    assert_error(&moved, StatusCode::CONFLICT, "not_movable");

    // Another account sees none of it.
    let b = rich_account(&store, "b@example.com").await;
    let theirs = b.call("POST", &ff, Some(json!({"at": time}))).await;
    assert_error(&theirs, StatusCode::NOT_FOUND, "unknown_licence");
    let theirs = b
        .call("POST", &format!("/api/v1/licences/{rid}/revoke"), None)
        .await;
    assert_error(&theirs, StatusCode::NOT_FOUND, "unknown_licence");

    // Revoked: listed in the status of that device, and no longer renewable.
    let (status, _) = a
        .call("POST", &format!("/api/v1/licences/{rid}/revoke"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, st) = a
        .call(
            "GET",
            &format!("/api/v1/licences/status?device_id={pc1}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{st}");
    let st: LicenceStatusResponse = serde_json::from_value(st).unwrap();
    assert_eq!(st.revoked, vec![rid.clone()]);
    verify(
        &store,
        SignatureContext::Time,
        &st.time.time.to_be_bytes(),
        &st.time.signature,
    );
    let again = a
        .call("POST", &format!("/api/v1/licences/{rid}/renew"), None)
        .await;
    assert_error(&again, StatusCode::CONFLICT, "licence_revoked");

    // A purchase moves to the other computer in one step; the old licence is revoked.
    let (status, buy) = a.order("b-1", "orbital-s01e01", &pc1).await;
    assert_eq!(status, StatusCode::OK, "{buy}");
    let bought = licence_of(&store, &buy);
    let bid = hex::encode(bought.licence_id);
    let (status, moved) = a
        .call(
            "POST",
            &format!("/api/v1/licences/{bid}/move"),
            Some(json!({"device_id": pc2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let moved = licence_of(&store, &moved);
    assert_eq!(moved.device_id.to_hex(), pc2);
    assert_eq!(moved.title_id, "orbital-s01e01");
    assert_eq!(moved.kind, LicenceKind::Buy);
    assert_ne!(moved.licence_id, bought.licence_id);
    let (_, st) = a
        .call(
            "GET",
            &format!("/api/v1/licences/status?device_id={pc1}"),
            None,
        )
        .await;
    assert!(st["revoked"]
        .as_array()
        .unwrap()
        .contains(&Value::from(bid.clone())));
    let twice = a
        .call(
            "POST",
            &format!("/api/v1/licences/{bid}/move"),
            Some(json!({"device_id": pc2})),
        )
        .await;
    assert_error(&twice, StatusCode::CONFLICT, "licence_revoked");
    // The moved purchase renews on its new computer.
    let (status, renewed) = a
        .call(
            "POST",
            &format!("/api/v1/licences/{}/renew", hex::encode(moved.licence_id)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_eq!(licence_of(&store, &renewed).device_id.to_hex(), pc2);

    // Re-sending the first order still answers what it answered.
    let (status, replay) = a.order("b-1", "orbital-s01e01", &pc1).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay["order_id"], buy["order_id"]);
    assert!(store.audit().await.unwrap().is_clean());
    store.shutdown().await;
}

// ---- devices ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_limit_deactivation_and_listing() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| c.device_limit = 2).await;
    let a = rich_account(&store, "devices@example.com").await;
    let first = a.new_device().await;
    let second = a.new_device().await;
    let third = random_hex(32);
    let full = a.register(&third).await;
    assert_error(&full, StatusCode::CONFLICT, "device_limit");
    assert!(
        full.1["message"].as_str().unwrap().contains("deactivate"),
        "{}",
        full.1
    );
    // Re-registering a known computer needs no new slot.
    assert_eq!(a.register(&first).await.0, StatusCode::NO_CONTENT);

    let (status, list) = a.call("GET", "/api/v1/devices", None).await;
    assert_eq!(status, StatusCode::OK);
    let list: DeviceList = serde_json::from_value(list).unwrap();
    assert_eq!(list.limit, 2);
    assert_eq!(list.devices.len(), 2);
    assert!(list.devices.iter().all(|d| d.active));

    let (status, _) = a
        .call("DELETE", &format!("/api/v1/devices/{second}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let refused = a.order("d-1", "neon-harbor", &second).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "device_inactive");
    assert_eq!(a.register(&third).await.0, StatusCode::NO_CONTENT);
    let (_, list) = a.call("GET", "/api/v1/devices", None).await;
    let list: DeviceList = serde_json::from_value(list).unwrap();
    assert_eq!(list.devices.iter().filter(|d| d.active).count(), 2);
    assert!(list
        .devices
        .iter()
        .any(|d| d.device_id == second && !d.active));

    let other = rich_account(&store, "other@example.com").await;
    let theirs = other
        .call("DELETE", &format!("/api/v1/devices/{first}"), None)
        .await;
    assert_error(&theirs, StatusCode::FORBIDDEN, "unknown_device");
    store.shutdown().await;
}

// ---- accounts, sessions, history, vouchers ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_history_and_vouchers() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let anon = Client::new(&store);
    let (status, session) = anon
        .call(
            "POST",
            "/api/v1/accounts",
            Some(json!({"email": "New@Example.com", "password": "correct horse"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    assert!(session["expires_at"].as_i64().unwrap() > 0);
    let taken = anon
        .call(
            "POST",
            "/api/v1/accounts",
            Some(json!({"email": "new@example.com", "password": "correct horse"})),
        )
        .await;
    assert_error(&taken, StatusCode::CONFLICT, "email_taken");
    let short = anon
        .call(
            "POST",
            "/api/v1/accounts",
            Some(json!({"email": "short@example.com", "password": "1234567"})),
        )
        .await;
    assert_error(&short, StatusCode::BAD_REQUEST, "invalid_credentials");
    let not_email = anon
        .call(
            "POST",
            "/api/v1/accounts",
            Some(json!({"email": "nobody", "password": "12345678"})),
        )
        .await;
    assert_error(&not_email, StatusCode::BAD_REQUEST, "invalid_credentials");

    let c = Client::signed_in(&store, "new@example.com", "correct horse").await;
    assert_eq!(c.balance().await, 0);
    let device = c.new_device().await;
    let broke = c.order("h-0", "the-quiet-orchard", &device).await;
    assert_error(&broke, StatusCode::PAYMENT_REQUIRED, "insufficient_funds");

    // Vouchers: made by the CLI's function on the same data folder, redeemed once.
    let config = StoreConfig::loopback(dir.path().join("store"), None);
    let codes = marquee_store::cli::create_vouchers(&config, 1000, 2)
        .await
        .unwrap();
    assert_eq!(codes.len(), 2);
    let redeem = |code: String| {
        let c = &c;
        async move {
            c.call(
                "POST",
                "/api/v1/vouchers/redeem",
                Some(json!({ "code": code })),
            )
            .await
        }
    };
    let (status, wallet) = redeem(codes[0].to_lowercase()).await;
    assert_eq!(status, StatusCode::OK, "{wallet}");
    assert_eq!(wallet["balance_cents"], 1000);
    assert_error(
        &redeem(codes[0].clone()).await,
        StatusCode::CONFLICT,
        "voucher_used",
    );
    assert_error(
        &redeem("AAAA-BBBB-CCCC-DDDD".into()).await,
        StatusCode::NOT_FOUND,
        "unknown_voucher",
    );
    assert_eq!(c.balance().await, 1000);

    let (status, _) = c.order("h-1", "the-quiet-orchard", &device).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = c.order("h-2", "open-skies", &device).await;
    assert_eq!(status, StatusCode::OK);
    let (status, history) = c.call("GET", "/api/v1/orders", None).await;
    assert_eq!(status, StatusCode::OK);
    let history: OrderHistory = serde_json::from_value(history).unwrap();
    assert_eq!(history.orders.len(), 2, "the refused order left no trace");
    let rental = history
        .orders
        .iter()
        .find(|r| r.client_order_id == "h-1")
        .unwrap();
    assert_eq!(rental.title_name, "The Quiet Orchard");
    assert_eq!(rental.amount_cents, 300);
    assert_eq!(rental.offer, OfferKind::Rent);
    assert!(rental.licence_id.is_some());
    let free = history
        .orders
        .iter()
        .find(|r| r.client_order_id == "h-2")
        .unwrap();
    assert_eq!((free.amount_cents, free.licence_id.as_deref()), (0, None));
    assert_eq!(c.balance().await, 700);
    assert!(store.audit().await.unwrap().is_clean());
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let store = start_store_with(dir.path(), |c| c.clock = clock.clock()).await;
    let c = rich_account(&store, "brief@example.com").await;
    assert_eq!(c.balance().await, 10_000);
    // The default sign-in lasts 30 days: still good in its last second, gone at its end.
    clock.advance(marquee_store::DEFAULT_SESSION_TTL_S - 1);
    assert_eq!(c.balance().await, 10_000);
    clock.advance(1);
    let expired = c.call("GET", "/api/v1/wallet", None).await;
    assert_error(&expired, StatusCode::UNAUTHORIZED, "session_expired");
    let mut forged = Client::new(&store);
    forged.token = Some(random_hex(32));
    assert_error(
        &forged.call("GET", "/api/v1/wallet", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &Client::new(&store)
            .call("GET", "/api/v1/wallet", None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    store.shutdown().await;
}

// ---- bad input: a clear 4xx with a stable code, and nothing half-written ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_stable_codes_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    store
        .create_account("poor@example.com", "long enough", 250)
        .await
        .unwrap();
    let c = Client::signed_in(&store, "poor@example.com", "long enough").await;
    let device = c.new_device().await;

    // Malformed JSON, and JSON of the wrong shape.
    let resp = c
        .request("POST", "/api/v1/orders")
        .header("content-type", "application/json")
        .body("{\"client_order_id\": ")
        .send()
        .await
        .unwrap();
    let got = (resp.status(), resp.json::<Value>().await.unwrap());
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_json");
    let wrong = c
        .call("POST", "/api/v1/orders", Some(json!({"title_id": 5})))
        .await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "malformed_json");

    // An oversized request: refused with our JSON body.
    let resp = c
        .request("POST", "/api/v1/orders")
        .header("content-type", "application/json")
        .body(vec![b' '; 200 * 1024])
        .send()
        .await
        .unwrap();
    let got = (resp.status(), resp.json::<Value>().await.unwrap());
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    assert_error(
        &c.order("x-1", "no-such-title", &device).await,
        StatusCode::NOT_FOUND,
        "unknown_title",
    );
    let poor = c.order("x-2", "neon-harbor", &device).await;
    assert_error(&poor, StatusCode::PAYMENT_REQUIRED, "insufficient_funds");
    assert!(poor.1["message"].as_str().unwrap().contains("2.50"));
    assert_eq!(c.balance().await, 250);

    let (status, first) = c.order("x-3", "orbital-s01e01", &device).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let conflict = c.order("x-3", "orbital-s01e02", &device).await;
    assert_error(&conflict, StatusCode::CONFLICT, "order_conflict");
    assert_eq!(c.balance().await, 50);

    let unknown_device = c.order("x-4", "open-skies", &random_hex(32)).await;
    assert_error(&unknown_device, StatusCode::FORBIDDEN, "unknown_device");
    assert_error(
        &c.order("", "open-skies", &device).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &c.call("GET", "/api/v1/nothing-here", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &c.call("PUT", "/api/v1/orders", None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert_error(
        &c.call("GET", "/api/v1/catalog?limit=0", None).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &c.call("GET", "/api/v1/licences/status", None).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &c.call("POST", "/api/v1/licences/zz/revoke", None).await,
        StatusCode::NOT_FOUND,
        "unknown_licence",
    );

    // Titles listed without a video are never sold.
    let config = StoreConfig::loopback(dir.path().join("store"), None);
    marquee_store::cli::generate_catalog(&config, 20)
        .await
        .unwrap();
    store.refresh_catalog().await.unwrap();
    let not_for_sale = c.order("x-5", "gen-film-000001-sd", &device).await;
    assert_error(&not_for_sale, StatusCode::CONFLICT, "not_for_sale");

    let (_, history) = c.call("GET", "/api/v1/orders", None).await;
    assert_eq!(history["orders"].as_array().unwrap().len(), 1);
    let audit = store.audit().await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    assert_eq!(audit.orders, 1);
    store.shutdown().await;
}

// ---- torrents: what a standard client is handed ----

/// Every torrent the store serves names its tracker: `announce` = the store's own, and
/// `announce-list` = [[the store's own], [the operator's further trackers]] (the further ones
/// for free titles only), so a client given only the file (not a magnet link) finds the swarm. The info hash stays the one the signed
/// catalog names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_torrents_carry_the_store_tracker_first_then_the_operators() {
    const FURTHER: [&str; 2] = [
        "udp://tracker.example.org:6969/announce",
        "https://tracker.example.net/announce",
    ];
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| {
        c.trackers = FURTHER.iter().map(|t| t.to_string()).collect();
    })
    .await;
    let client = marquee_protocol::StoreClient::new(&store.url()).unwrap();
    let feed: CatalogFeed = serde_json::from_str(&client.catalog().await.unwrap().feed).unwrap();
    let own = format!("{}/announce", store.url());
    let mut checked = 0;
    for title in feed.titles.iter().filter(|t| t.for_sale) {
        let bytes = client.torrent(&title.id).await.unwrap();
        let t = librqbit::torrent_from_bytes(&bytes)
            .unwrap_or_else(|e| panic!("{}: the served torrent parses: {e}", title.id));
        assert_eq!(
            t.info_hash.as_string(),
            title.info_hash,
            "{}: the info hash is the catalog's",
            title.id
        );
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        assert_eq!(
            t.announce.map(|a| text(a.0)),
            Some(own.clone()),
            "{}",
            title.id
        );
        let tiers: Vec<Vec<String>> = t
            .announce_list
            .iter()
            .map(|tier| tier.iter().map(|u| text(u.0)).collect())
            .collect();
        // The operator's public trackers only for free titles: a paid title's swarm is
        // private to its holders.
        let mut expected = vec![vec![own.clone()]];
        if title.offer == OfferKind::Free {
            expected.push(FURTHER.map(String::from).to_vec());
        }
        assert_eq!(tiers, expected, "{}", title.id);
        checked += 1;
    }
    assert!(checked >= 8, "paid and free titles alike: {checked}");
    store.shutdown().await;
}

// ---- the catalog feed: paging, ETag, incremental ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_pages_revalidates_and_sends_only_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| {
        c.rescan_interval = Some(Duration::from_millis(200))
    })
    .await;
    let c = Client::new(&store);
    let get_feed = |path: String| {
        let c = &c;
        let store = &store;
        async move {
            let (status, body) = c.call("GET", &path, None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let signed: SignedFeed = serde_json::from_value(body).unwrap();
            verify(
                store,
                SignatureContext::Feed,
                signed.feed.as_bytes(),
                &signed.signature,
            );
            serde_json::from_str::<CatalogFeed>(&signed.feed).unwrap()
        }
    };
    let whole = get_feed("/api/v1/catalog".into()).await;
    let count = whole.titles.len();
    assert!(count >= 8, "the demo catalog");
    assert!(whole.next_after.is_none());
    assert!(whole.titles.iter().all(|t| t.for_sale && t.version > 0));

    let mut walked = vec![];
    let mut path = "/api/v1/catalog?limit=3".to_owned();
    loop {
        let page = get_feed(path.clone()).await;
        assert_eq!(page.total, Some(count as u64));
        walked.extend(page.titles.into_iter().map(|t| t.id));
        match page.next_after {
            Some(after) => path = format!("/api/v1/catalog?limit=3&after={after}"),
            None => break,
        }
    }
    let ids: Vec<_> = whole.titles.iter().map(|t| t.id.clone()).collect();
    assert_eq!(walked, ids);

    // ETag revalidation.
    let resp = c
        .request("GET", "/api/v1/catalog?limit=3")
        .send()
        .await
        .unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let resp = c
        .request("GET", "/api/v1/catalog?limit=3")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = c
        .request("GET", "/api/v1/catalog?limit=4")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "another query, another tag");

    // Nothing changed since the current version.
    let none = get_feed(format!("/api/v1/catalog?since={}", whole.version)).await;
    assert!(none.titles.is_empty());
    assert_eq!(none.since, Some(whole.version));

    // Another process adds titles; the running store picks them up by itself.
    let config = StoreConfig::loopback(dir.path().join("store"), None);
    marquee_store::cli::generate_catalog(&config, 30)
        .await
        .unwrap();
    let since = format!("/api/v1/catalog?since={}", whole.version);
    let changed = wait_for(
        "the running store's rescan to list the new titles",
        Duration::from_secs(10),
        || async {
            let feed = get_feed(since.clone()).await;
            if feed.titles.is_empty() {
                Err(format!("no titles since version {}", whole.version))
            } else {
                Ok(feed)
            }
        },
    )
    .await;
    assert_eq!(changed.titles.len(), 30);
    assert!(changed
        .titles
        .iter()
        .all(|t| !t.for_sale && t.version > whole.version));
    let resp = c
        .request("GET", "/api/v1/catalog?limit=3")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "a changed catalog, a new tag"
    );
    store.shutdown().await;
}

// ---- the OpenAPI document ----

/// Resolves a `$ref` in the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"]
                .get(name)
                .unwrap_or_else(|| panic!("{r} is not defined"))
        }
        None => schema,
    }
}

/// A light JSON Schema check: types, required properties, enums, nullable; recursive.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if value.is_null() && schema["nullable"] == true {
        return;
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check(doc, s, value, at);
        }
        return;
    }
    let schema = resolve(doc, schema);
    if let Some(choices) = schema["enum"].as_array() {
        assert!(
            choices.contains(value),
            "{at}: {value} is not one of {choices:?}"
        );
    }
    match schema["type"].as_str() {
        Some("object") => {
            let obj = value
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not an object: {value}"));
            for req in schema["required"].as_array().into_iter().flatten() {
                let req = req.as_str().unwrap();
                assert!(obj.contains_key(req), "{at}: missing {req} in {value}");
            }
            let props = schema["properties"].as_object();
            for (k, v) in obj {
                let prop = props
                    .and_then(|p| p.get(k))
                    .unwrap_or_else(|| panic!("{at}: {k} is not documented"));
                check(doc, prop, v, &format!("{at}.{k}"));
            }
        }
        Some("array") => {
            for (i, item) in value
                .as_array()
                .unwrap_or_else(|| panic!("{at}: not an array"))
                .iter()
                .enumerate()
            {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"));
            }
        }
        Some("string") => assert!(value.is_string(), "{at}: not a string: {value}"),
        Some("integer") => assert!(value.is_i64() || value.is_u64(), "{at}: not an integer"),
        Some("boolean") => assert!(value.is_boolean(), "{at}: not a boolean"),
        Some(other) => panic!("{at}: unexpected schema type {other}"),
        None => {}
    }
}

fn openapi() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("openapi.json parses")
}

/// The schema of one answer in the document.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let op = &doc["paths"][path][method.to_lowercase()];
    let resp = &op["responses"][status.to_string()];
    assert!(
        !resp.is_null(),
        "{method} {path} does not document {status}"
    );
    &resp["content"]["application/json"]["schema"]
}

#[test]
fn openapi_documents_exactly_the_served_routes() {
    let doc = openapi();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = marquee_store::routes()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
}

/// The error codes in `openapi.json` are exactly the store's: every code an error can carry
/// is documented, and every documented code is carried by some error.
#[test]
fn openapi_documents_exactly_the_error_codes() {
    let doc = openapi();
    let documented: BTreeSet<&str> = doc["components"]["schemas"]["ErrorBody"]["properties"]
        ["code"]["enum"]
        .as_array()
        .expect("ErrorBody.code lists its values")
        .iter()
        .map(|c| c.as_str().expect("a code is a string"))
        .collect();
    let real: BTreeSet<&str> = StoreError::CODES.iter().map(|c| c.as_str()).collect();
    let undocumented: Vec<_> = real.difference(&documented).collect();
    let unproduced: Vec<_> = documented.difference(&real).collect();
    assert!(
        undocumented.is_empty(),
        "error codes missing from openapi.json: {undocumented:?}"
    );
    assert!(
        unproduced.is_empty(),
        "openapi.json documents codes no StoreError has: {unproduced:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_match_the_openapi_schemas() {
    let doc = openapi();
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let c = rich_account(&store, "schema@example.com").await;
    let device = c.new_device().await;
    let mut seen: HashMap<String, Value> = HashMap::new();
    let calls: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        ("GET", "/api/v1/store".into(), None, 200, "/api/v1/store"),
        ("GET", "/api/v1/time".into(), None, 200, "/api/v1/time"),
        (
            "GET",
            "/api/v1/channels".into(),
            None,
            200,
            "/api/v1/channels",
        ),
        (
            "GET",
            "/api/v1/catalog?limit=2".into(),
            None,
            200,
            "/api/v1/catalog",
        ),
        ("GET", "/api/v1/wallet".into(), None, 200, "/api/v1/wallet"),
        (
            "GET",
            "/api/v1/devices".into(),
            None,
            200,
            "/api/v1/devices",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(
                json!({"client_order_id": "s-1", "title_id": "orbital-s01e01", "device_id": device}),
            ),
            200,
            "/api/v1/orders",
        ),
        ("GET", "/api/v1/orders".into(), None, 200, "/api/v1/orders"),
        (
            "GET",
            format!("/api/v1/licences/status?device_id={device}"),
            None,
            200,
            "/api/v1/licences/status",
        ),
        (
            "GET",
            "/api/v1/titles/neon-harbor/peers".into(),
            None,
            200,
            "/api/v1/titles/{id}/peers",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(json!({"client_order_id": "s-2", "title_id": "nope", "device_id": device})),
            404,
            "/api/v1/orders",
        ),
        (
            "POST",
            "/api/v1/vouchers/redeem".into(),
            Some(json!({"code": "NOPE"})),
            404,
            "/api/v1/vouchers/redeem",
        ),
        (
            "POST",
            "/api/v1/accounts".into(),
            Some(json!({"email": "x@example.com", "password": "short"})),
            400,
            "/api/v1/accounts",
        ),
    ];
    for (method, path, body, status, documented) in calls {
        let (got, value) = c.call(method, &path, body).await;
        assert_eq!(got.as_u16(), status, "{method} {path}: {value}");
        let schema = response_schema(&doc, method, documented, status);
        check(&doc, schema, &value, &format!("{method} {path}"));
        if status >= 400 {
            let code = &value["code"];
            let codes = doc["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
                .as_array()
                .unwrap();
            assert!(
                codes.contains(code),
                "{code} is not a documented error code"
            );
        }
        seen.insert(path, value);
    }
    // The feed inside the envelope matches its schema too.
    let page: Value =
        serde_json::from_str(seen["/api/v1/catalog?limit=2"]["feed"].as_str().unwrap()).unwrap();
    check(
        &doc,
        &json!({"$ref": "#/components/schemas/CatalogFeed"}),
        &page,
        "feed",
    );
    store.shutdown().await;
}

// ---- live channels: the directory ----

/// A channel's signed record, as `marquee-live broadcast` makes it.
fn channel_record(
    key: &ed25519_dalek::SigningKey,
    title: &str,
    at: i64,
) -> marquee_protocol::channels::SignedChannel {
    use marquee_protocol::channels::{ChannelRecord, LiveNode};
    let broadcaster = ed25519_dalek::SigningKey::from_bytes(&[200; 32]);
    ChannelRecord {
        channel: hex::encode(key.verifying_key().as_bytes()),
        title: title.to_owned(),
        poster: None,
        price_cents: 0,
        bitrate_bps: 1_000_000,
        mime: "video/webm; codecs=\"vp9,opus\"".into(),
        init_segment: base64::engine::general_purpose::STANDARD
            .encode([0x1A, 0x45, 0xDF, 0xA3, 1, 2, 3]),
        stripes: 4,
        broadcaster: LiveNode {
            node: hex::encode(broadcaster.verifying_key().as_bytes()),
            addr: "127.0.0.1:40000".into(),
        },
        at,
    }
    .sign(key)
}

/// A viewer's signed report: node `n`'s key, depth `depth` in every stripe, room in `open`.
fn viewer_report(
    channel: &str,
    n: u8,
    depth: u8,
    open: u8,
    at: i64,
) -> marquee_protocol::channels::SignedViewerReport {
    use marquee_protocol::channels::{LiveNode, ViewerReport};
    let key = ed25519_dalek::SigningKey::from_bytes(&[n; 32]);
    ViewerReport {
        channel: channel.to_owned(),
        viewer: LiveNode {
            node: hex::encode(key.verifying_key().as_bytes()),
            addr: format!("127.0.0.1:{}", 41_000 + u16::from(n)),
        },
        depth: vec![depth; 4],
        open,
        need_stripe: None,
        at,
    }
    .sign(&key)
}

fn to_json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_channels_are_listed_kept_and_ended_only_by_their_own_keys() {
    use marquee_protocol::channels::{ChannelSignal, ChannelSignalKind, JoinResponse};
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let store = start_store_with(dir.path(), |c| {
        c.clock = clock.clock();
        c.live_relay = Some("https://relay.example.com".into());
    })
    .await;
    let now = || clock.0.load(Ordering::SeqCst);
    let anyone = Client::new(&store);
    let owner = rich_account(&store, "live@example.com").await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let channel = hex::encode(key.verifying_key().as_bytes());
    let record = channel_record(&key, "Harbour cam", now());

    // Going live is for accounts.
    let (status, body) = anyone
        .call("POST", "/api/v1/channels", Some(to_json(&record)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A record signed by another key, or changed after signing, is refused in words.
    let thief = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let mut stolen = channel_record(&thief, "Harbour cam", now());
    stolen.record.channel = channel.clone();
    let (status, body) = owner
        .call("POST", "/api/v1/channels", Some(to_json(&stolen)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not the channel key's"),
        "{body}"
    );
    let mut altered = record.clone();
    altered.record.title = "Someone else's show".into();
    let (status, _) = owner
        .call("POST", "/api/v1/channels", Some(to_json(&altered)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A clock ten minutes off is named as the problem.
    let skewed = channel_record(&key, "Harbour cam", now() - 600);
    let (status, body) = owner
        .call("POST", "/api/v1/channels", Some(to_json(&skewed)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("clock"),
        "{body}"
    );

    let (status, body) = owner
        .call("POST", "/api/v1/channels", Some(to_json(&record)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["channel"], channel.as_str());
    // The same registration again is a replay.
    let (status, body) = owner
        .call("POST", "/api/v1/channels", Some(to_json(&record)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("no newer"),
        "{body}"
    );
    let (status, list) = anyone.call("GET", "/api/v1/channels", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["channels"][0]["title"], "Harbour cam");
    assert_eq!(list["channels"][0]["viewers"], 0);
    // The operator's relay for peers behind NAT, for every node of every channel.
    assert_eq!(list["relay"], "https://relay.example.com");

    // The first viewer is handed the broadcaster, with the record as its broadcaster signed it.
    let path = format!("/api/v1/channels/{channel}/viewers");
    let first = viewer_report(&channel, 10, u8::MAX, 0, now());
    let (status, body) = anyone.call("POST", &path, Some(to_json(&first))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let joined: JoinResponse = serde_json::from_value(body).unwrap();
    assert_eq!(joined.channel.verify().unwrap(), key.verifying_key());
    assert_eq!(joined.peers, vec![record.record.broadcaster.clone()]);
    assert_eq!(joined.viewers, 1);
    // A node may not name someone else's address: joiners would dial it.
    let mut elsewhere = viewer_report(&channel, 13, u8::MAX, 0, now());
    elsewhere.report.viewer.addr = "10.1.2.3:4433".into();
    let elsewhere = elsewhere
        .report
        .sign(&ed25519_dalek::SigningKey::from_bytes(&[13; 32]));
    let (status, body) = anyone.call("POST", &path, Some(to_json(&elsewhere))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("calls the store from"),
        "{body}"
    );
    // Replayed, forged, or about another channel: refused.
    let (status, _) = anyone.call("POST", &path, Some(to_json(&first))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut forged = viewer_report(&channel, 11, 1, 0xF, now());
    forged.report.viewer.node = first.report.viewer.node.clone();
    let (status, body) = anyone.call("POST", &path, Some(to_json(&forged))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("node key"),
        "{body}"
    );
    let elsewhere = viewer_report(&"ab".repeat(32), 12, 1, 0xF, now());
    let (status, _) = anyone.call("POST", &path, Some(to_json(&elsewhere))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Twelve viewers at depth 1 with room: a joiner is handed two per stripe, shallow ones,
    // never itself, and no longer the broadcaster.
    for n in 20..32u8 {
        let (status, body) = anyone
            .call(
                "POST",
                &path,
                Some(to_json(&viewer_report(&channel, n, 1, 0xF, now()))),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let joiner = viewer_report(&channel, 40, u8::MAX, 0, now());
    let (_, body) = anyone.call("POST", &path, Some(to_json(&joiner))).await;
    let joined: JoinResponse = serde_json::from_value(body).unwrap();
    assert!(
        !joined.peers.is_empty() && joined.peers.len() <= 8,
        "{:?}",
        joined.peers
    );
    assert!(!joined.peers.contains(&record.record.broadcaster));
    assert!(!joined.peers.contains(&joiner.report.viewer));
    assert_eq!(joined.viewers, 14);

    // Heartbeats keep it listed; a replayed or forged one is refused.
    let beat = format!("/api/v1/channels/{channel}/heartbeat");
    clock.advance(1);
    let signal = ChannelSignal::new(ChannelSignalKind::Heartbeat, &key, now());
    let (status, body) = anyone.call("POST", &beat, Some(to_json(&signal))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["viewers"], 14);
    let (status, _) = anyone.call("POST", &beat, Some(to_json(&signal))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    clock.advance(1);
    let forged = ChannelSignal::new(ChannelSignalKind::Heartbeat, &thief, now());
    let (status, _) = anyone.call("POST", &beat, Some(to_json(&forged))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Silent for 16 s: no longer listed, and nobody can join; a heartbeat brings it back.
    clock.advance(16);
    let (_, list) = anyone.call("GET", "/api/v1/channels", None).await;
    assert_eq!(list["channels"], json!([]));
    let late = viewer_report(&channel, 50, u8::MAX, 0, now());
    let (status, _) = anyone.call("POST", &path, Some(to_json(&late))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let signal = ChannelSignal::new(ChannelSignalKind::Heartbeat, &key, now());
    let (status, body) = anyone.call("POST", &beat, Some(to_json(&signal))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["viewers"], 0, "the viewers went quiet too");
    let (_, list) = anyone.call("GET", "/api/v1/channels", None).await;
    assert_eq!(list["channels"].as_array().unwrap().len(), 1);

    // Ended by its key: gone, and the old registration cannot list it again.
    clock.advance(1);
    let end = ChannelSignal::new(ChannelSignalKind::End, &key, now());
    let (status, _) = anyone
        .call(
            "POST",
            &format!("/api/v1/channels/{channel}/end"),
            Some(to_json(&end)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = anyone.call("GET", "/api/v1/channels", None).await;
    assert_eq!(list["channels"], json!([]));
    let (status, body) = owner
        .call("POST", "/api/v1/channels", Some(to_json(&record)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    clock.advance(1);
    let signal = ChannelSignal::new(ChannelSignalKind::Heartbeat, &key, now());
    let (status, _) = anyone.call("POST", &beat, Some(to_json(&signal))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A new record, signed after the end, goes live again.
    let again = channel_record(&key, "Harbour cam, later", now());
    let (status, _) = owner
        .call("POST", "/api/v1/channels", Some(to_json(&again)))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_directory_is_bounded_per_account_and_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let store = start_store_with(dir.path(), |c| c.clock = clock.clock()).await;
    let now = clock.0.load(Ordering::SeqCst);
    let owner = rich_account(&store, "many@example.com").await;
    for k in 0..3u8 {
        let key = ed25519_dalek::SigningKey::from_bytes(&[60 + k; 32]);
        let (status, _) = owner
            .call(
                "POST",
                "/api/v1/channels",
                Some(to_json(&channel_record(&key, "Show", now))),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let fourth = ed25519_dalek::SigningKey::from_bytes(&[63; 32]);
    let (status, body) = owner
        .call(
            "POST",
            "/api/v1/channels",
            Some(to_json(&channel_record(&fourth, "Show", now))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("end one"),
        "{body}"
    );

    // New viewers from one address: 30 at once, then one every 2 s.
    let channel = hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&[60; 32])
            .verifying_key()
            .as_bytes(),
    );
    let path = format!("/api/v1/channels/{channel}/viewers");
    let anyone = Client::new(&store);
    for n in 100..130u8 {
        let (status, body) = anyone
            .call(
                "POST",
                &path,
                Some(to_json(&viewer_report(&channel, n, 1, 1, now))),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let resp = anyone
        .request("POST", &path)
        .json(&viewer_report(&channel, 130, 1, 1, now))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_some());
    // A viewer already counted keeps reporting.
    let (status, _) = anyone
        .call(
            "POST",
            &path,
            Some(to_json(&viewer_report(&channel, 100, 2, 1, now + 1))),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.channels_size(), (3, 30));
    store.shutdown().await;
}

/// A channel poster: kept for a signed-in account and served beside the catalog's pictures; a
/// second upload replaces the first on disk; anything but a small JPEG or PNG is refused in
/// words, and nobody signed out may upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_poster_is_kept_one_per_account_and_served() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let owner = rich_account(&store, "poster@example.com").await;
    let jpeg = |fill: u8| {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
        b.extend(std::iter::repeat_n(fill, 2_000));
        b
    };
    let upload = |image: String| {
        let owner = &owner;
        async move {
            owner
                .call(
                    "POST",
                    "/api/v1/channels/poster",
                    Some(serde_json::json!({ "image": image })),
                )
                .await
        }
    };
    let (status, body) = upload(b64(&jpeg(1))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let first = body["poster"].as_str().unwrap().to_owned();
    assert!(
        first.starts_with("/media/live-") && first.ends_with(".jpg"),
        "{first}"
    );
    let anyone = Client::new(&store);
    let fetch = |path: String| {
        let anyone = &anyone;
        async move { anyone.request("GET", &path).send().await.unwrap().status() }
    };
    assert_eq!(fetch(first.clone()).await, StatusCode::OK);

    let (status, body) = upload(b64(&jpeg(2))).await;
    assert_eq!(status, StatusCode::CREATED);
    let second = body["poster"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(
        fetch(first).await,
        StatusCode::NOT_FOUND,
        "the earlier poster is gone"
    );
    assert_eq!(fetch(second).await, StatusCode::OK);

    for (image, says) in [
        ("not base64!".to_owned(), "not base64"),
        (b64(b"GIF89a and so on"), "JPEG or PNG"),
        (b64(&vec![0xFF; 41 * 1024]), "at most 40 KiB"),
    ] {
        let (status, body) = upload(image).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::PAYLOAD_TOO_LARGE,
            "{status} {body}"
        );
        if status == StatusCode::BAD_REQUEST {
            assert!(body["message"].as_str().unwrap().contains(says), "{body}");
        }
    }
    let (status, _) = anyone
        .call(
            "POST",
            "/api/v1/channels/poster",
            Some(serde_json::json!({ "image": b64(&jpeg(3)) })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

// ---- the document against a schema-driven fuzzer ----

/// schemathesis (from PyPI, in the virtual environment `cargo xtask test` makes in
/// `target/schemathesis`, or `MARQUEE_SCHEMATHESIS`) sends every operation of openapi.json,
/// schema-valid and not, to a store process, signed in as a test account: no server error, no
/// status, header or body the document does not describe, nothing valid refused and nothing
/// invalid accepted (`crates/store/schemathesis/schemathesis.toml` says what no schema can:
/// signatures, clocks, a tracker's BEP 3 answers). A fixed seed, so a failure replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_holds_against_schemathesis() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let st = std::env::var_os("MARQUEE_SCHEMATHESIS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/schemathesis/bin/st"));
    if !st.exists() {
        let on_ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
        assert!(
            !on_ci,
            "schemathesis is missing at {}: `cargo xtask test` installs it",
            st.display()
        );
        eprintln!(
            "skipped: no schemathesis at {} (`cargo xtask test` installs it)",
            st.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The fuzzer's wrong passwords come from 127.0.0.1 and use up its sign-in limit; the
    // hooks sign in as another client (an X-Forwarded-For this store trusts from loopback),
    // so re-authenticating never waits on the fuzzer's quota.
    let demo = marquee_store::bundled_demo_dir();
    let store = marquee_testsupport::StoreProcess::start_with(
        Path::new(env!("CARGO_BIN_EXE_marquee-store")),
        &dir.path().join("store-data"),
        "127.0.0.1:0",
        &[
            "--demo".as_ref(),
            demo.as_os_str(),
            "--trusted-proxy".as_ref(),
            "127.0.0.1/32".as_ref(),
        ],
    );
    let (email, password) = ("schemathesis@example.com", "schemathesis");
    let signed_up = reqwest::Client::new()
        .post(format!("{}/api/v1/accounts", store.url()))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), StatusCode::CREATED);
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tokio::process::Command::new(&st)
        .arg("--config-file")
        .arg(here.join("schemathesis/schemathesis.toml"))
        .arg("run")
        .arg(here.join("openapi.json"))
        .args(["--url", store.url()])
        .args(["--phases", "examples,coverage,fuzzing"])
        // One worker: schemathesis 4.32 once failed inside its own coverage cache with two.
        .args(["--max-examples", "25", "--workers", "1", "--seed", "1"])
        .arg("--no-color")
        .env("MARQUEE_STORE_URL", store.url())
        .env("MARQUEE_SCHEMATHESIS_EMAIL", email)
        .env("MARQUEE_SCHEMATHESIS_PASSWORD", password)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", here.join("schemathesis"))
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    // The test account still signs in with its password: nothing the fuzzer sent took it over.
    let still = reqwest::Client::new()
        .post(format!("{}/api/v1/sessions", store.url()))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        still,
        StatusCode::OK,
        "the test account no longer signs in:\n{report}"
    );
    let summary = report
        .find("SUMMARY")
        .map_or(report.as_ref(), |at| &report[at..]);
    println!("{summary}");
    assert!(
        out.status.success(),
        "schemathesis found what the document does not say:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The generated catalog's posters: each work its own PNG at the demo posters' size, drawn on
/// first request and then served from disk; a name the catalog does not use is not drawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_posters_are_drawn_only_for_the_catalogs_titles() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::loopback(dir.path().join("store"), None);
    marquee_store::cli::generate_catalog(&config, 40)
        .await
        .unwrap();
    let store = Store::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let feed: CatalogFeed = serde_json::from_str(
        &http
            .get(format!("{}/api/v1/catalog", store.url()))
            .send()
            .await
            .unwrap()
            .json::<SignedFeed>()
            .await
            .unwrap()
            .feed,
    )
    .unwrap();
    let posters: BTreeSet<&str> = feed.titles.iter().map(|t| t.poster_path.as_str()).collect();
    // One per work (SD and HD share one) and one per series.
    assert!(
        posters.len() > 15,
        "works have posters of their own: {posters:?}"
    );
    let first = *posters.iter().next().unwrap();
    let get = |path: String| {
        let http = http.clone();
        async move { http.get(path).send().await.unwrap() }
    };
    let drawn = get(format!("{}{first}", store.url())).await;
    assert_eq!(drawn.status(), StatusCode::OK);
    assert_eq!(drawn.headers()["content-type"], "image/png");
    let bytes = drawn.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 20_000);
    let kept = dir
        .path()
        .join("store/media")
        .join(first.trim_start_matches("/media/"));
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        bytes,
        "kept on disk once drawn"
    );
    let again = get(format!("{}{first}", store.url())).await;
    assert_eq!(again.bytes().await.unwrap(), bytes);
    let stranger = get(format!("{}/media/gen-not-a-title.png", store.url())).await;
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    store.shutdown().await;
}

// ---- one purchase or rental of a work opens each of its variants ----

/// The hex ids of the account's revoked licences on `device`, and its first plays.
async fn licence_status(a: &Client, device: &str) -> (Vec<String>, Vec<(String, i64)>) {
    let (status, st) = a
        .call(
            "GET",
            &format!("/api/v1/licences/status?device_id={device}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{st}");
    let st: LicenceStatusResponse = serde_json::from_value(st).unwrap();
    (
        st.revoked,
        st.first_plays
            .into_iter()
            .map(|p| (p.licence_id, p.at))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_of_a_work_opens_its_other_variant_and_moves_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let store = start_store_with(dir.path(), |c| c.clock = clock.clock()).await;
    let a = rich_account(&store, "a@example.com").await;
    let pc1 = a.new_device().await;
    let pc2 = a.new_device().await;
    let id = |v: &Value| hex::encode(licence_of(&store, v).licence_id);

    // Bought in HD on pc1. Its SD on pc2 is not a second purchase: the work plays on pc1.
    let (status, hd) = a.order("hd-1", "orbital-s01e01", &pc1).await;
    assert_eq!(status, StatusCode::OK, "{hd}");
    let paid = a.balance().await;
    let elsewhere = a.order("sd-pc2", "orbital-s01e01-sd", &pc2).await;
    assert_error(&elsewhere, StatusCode::CONFLICT, "licensed_elsewhere");
    assert_eq!(a.balance().await, paid, "nothing charged");

    // On pc1 the SD variant is licensed without a charge, under the same order, with a licence
    // of its own (its own container's key).
    let (status, sd) = a.order("sd-1", "orbital-s01e01-sd", &pc1).await;
    assert_eq!(status, StatusCode::OK, "{sd}");
    assert_eq!(sd["charged_cents"], 0, "{sd}");
    assert_eq!(sd["order_id"], hd["order_id"]);
    let sd_licence = licence_of(&store, &sd);
    assert_eq!(sd_licence.title_id, "orbital-s01e01-sd");
    assert_eq!(sd_licence.kind, LicenceKind::Buy);
    assert_ne!(
        sd_licence.key_commitment,
        licence_of(&store, &hd).key_commitment,
        "each variant is its own container"
    );

    // "Move it here" from pc2, in SD: the purchase comes to pc2 and both variants leave pc1;
    // then HD on pc2 is the same purchase again, not a charge.
    let (status, moved) = a
        .call(
            "POST",
            "/api/v1/orders",
            Some(
                json!({"client_order_id": "sd-move", "title_id": "orbital-s01e01-sd",
                        "device_id": pc2, "move_here": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["charged_cents"], 0);
    let (revoked, _) = licence_status(&a, &pc1).await;
    for gone in [id(&hd), id(&sd)] {
        assert!(revoked.contains(&gone), "{gone} left pc1: {revoked:?}");
    }
    let (status, hd2) = a.order("hd-pc2", "orbital-s01e01", &pc2).await;
    assert_eq!(status, StatusCode::OK, "{hd2}");
    assert_eq!(hd2["charged_cents"], 0);
    assert_eq!(a.balance().await, paid, "one purchase, charged once");

    // Moving the purchase back (the licence route, in HD) takes the SD licence off pc2 too.
    let (status, back) = a
        .call(
            "POST",
            &format!("/api/v1/licences/{}/move", id(&hd2)),
            Some(json!({"device_id": pc1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    let (revoked, _) = licence_status(&a, &pc2).await;
    assert!(
        revoked.contains(&id(&moved)),
        "the SD licence left pc2 with the purchase: {revoked:?}"
    );

    // A rental: the other variant shares its window. Its first frame, in either, starts both.
    let (status, rent_hd) = a.order("r-hd", "neon-harbor", &pc1).await;
    assert_eq!(status, StatusCode::OK, "{rent_hd}");
    clock.advance(600);
    let (status, rent_sd) = a.order("r-sd", "neon-harbor-sd", &pc1).await;
    assert_eq!(status, StatusCode::OK, "{rent_sd}");
    assert_eq!(rent_sd["charged_cents"], 0);
    let (hd_l, sd_l) = (licence_of(&store, &rent_hd), licence_of(&store, &rent_sd));
    assert_eq!(sd_l.kind, LicenceKind::Rent);
    assert_eq!(
        sd_l.issued_at, hd_l.issued_at,
        "the rental's start deadline"
    );
    let (status, t) = Client::new(&store).call("GET", "/api/v1/time", None).await;
    assert_eq!(status, StatusCode::OK);
    let now = t["time"].as_i64().unwrap();
    let ff = format!(
        "/api/v1/licences/{}/first-frame",
        hex::encode(sd_l.licence_id)
    );
    let (status, recorded) = a.call("POST", &ff, Some(json!({"at": now}))).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["at"], now);
    let (_, plays) = licence_status(&a, &pc1).await;
    for l in [&hd_l, &sd_l] {
        assert!(
            plays.contains(&(hex::encode(l.licence_id), now)),
            "both variants started at the SD's first frame: {plays:?}"
        );
    }
    // A new rental of the same film on another computer is a new charge, as ever.
    let (status, other) = a.order("r-pc2", "neon-harbor-sd", &pc2).await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(other["charged_cents"], 400);
    assert!(store.audit().await.unwrap().is_clean());
    store.shutdown().await;
}

/// The app moves its data folder with the embedded demo store's folder inside it: started from
/// the new place, the demo store finds its packages there and packages nothing again (a paid
/// title packaged again would get a new key, and the licences already issued would open
/// nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_store_moved_with_its_folder_keeps_its_packages_and_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let titles = |store: &Store| {
        let url = store.url();
        async move {
            let body: Value = reqwest::get(format!("{url}/api/v1/catalog"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let signed: SignedFeed = serde_json::from_value(body).unwrap();
            let feed: CatalogFeed = serde_json::from_str(&signed.feed).unwrap();
            feed.titles
                .into_iter()
                .map(|t| (t.id, t.info_hash))
                .collect::<BTreeSet<_>>()
        }
    };
    let first = start_store(dir.path()).await;
    let before = titles(&first).await;
    assert!(before.len() >= 8, "the demo catalog: {before:?}");
    first.shutdown().await;
    drop(first);

    let moved = dir.path().join("moved");
    std::fs::rename(dir.path().join("store"), moved.join("store"))
        .or_else(|_| {
            std::fs::create_dir_all(&moved)?;
            std::fs::rename(dir.path().join("store"), moved.join("store"))
        })
        .unwrap();
    let again = start_store(&moved).await;
    // The same torrents: the same packages, not new ones (a new key changes every byte).
    assert_eq!(titles(&again).await, before);
    again.shutdown().await;
}
