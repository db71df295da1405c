//! The same store on PostgreSQL: starts its own server in a temporary folder (initdb + pg_ctl)
//! and runs orders, retries, vouchers and the feed against it. Without PostgreSQL's binaries
//! (Debian: `apt-get install postgresql`, which `cargo xtask test` runs) it fails under
//! `CI=true`, and elsewhere skips, saying so on the terminal.

use std::path::{Path, PathBuf};
use std::process::Command;

use marquee_store::{Store, StoreConfig};
use serde_json::{json, Value};

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// initdb refuses to run as root: then the server runs as the `postgres` user.
fn as_server_user(bin: &Path, args: &[&str]) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

struct Server {
    bin: PathBuf,
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = as_server_user(
            &self.bin.join("pg_ctl"),
            &["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"],
        )
        .output();
    }
}

/// A PostgreSQL server of the test's own in `dir/pg` on a free loopback port, stopped when
/// dropped; `None` (after saying so, and failing under `CI=true`) when PostgreSQL is missing.
fn start_postgres(dir: &Path, test: &str) -> Option<(Server, String)> {
    let Some(bin) = pg_bin() else {
        let missing = "PostgreSQL is not installed: there is no initdb and pg_ctl under \
                       /usr/lib/postgresql/*/bin (`apt-get install postgresql`)";
        // CI must run every test: a missing server there is a broken set-up, not a pass.
        let on_ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
        assert!(!on_ci, "{missing}, and CI must run this test");
        // Straight to stderr: libtest hides what a passing test prints with `eprintln!`.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("SKIPPED {test}: {missing}\n").as_bytes(),
        );
        return None;
    };
    let pg = dir.join("pg");
    std::fs::create_dir_all(&pg).unwrap();
    // The server user must own its folder (and reach it through the temp dir).
    let _ = Command::new("chmod").arg("755").arg(dir).status();
    let _ = Command::new("chown")
        .args(["-R", "postgres"])
        .arg(&pg)
        .status();
    let data = pg.join("data");
    let out = as_server_user(
        &bin.join("initdb"),
        &[
            "-D",
            data.to_str().unwrap(),
            "-U",
            "marquee",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opts = format!("-p {port} -k {} -h 127.0.0.1", pg.display());
    let out = as_server_user(
        &bin.join("pg_ctl"),
        &[
            "-D",
            data.to_str().unwrap(),
            "-o",
            &opts,
            "-l",
            pg.join("log").to_str().unwrap(),
            "-w",
            "start",
        ],
    )
    .output()
    .unwrap();
    let server = Server {
        bin: bin.clone(),
        data: data.clone(),
    };
    assert!(
        out.status.success(),
        "pg_ctl start: {} {}",
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(pg.join("log")).unwrap_or_default()
    );
    Some((
        server,
        format!("postgres://marquee@127.0.0.1:{port}/postgres"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_runs_on_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, url)) = start_postgres(dir.path(), "the_store_runs_on_postgresql") else {
        return;
    };
    let mut config = StoreConfig::loopback(
        dir.path().join("store"),
        Some(marquee_store::bundled_demo_dir()),
    );
    config.database_url = Some(url);
    let store = Store::start(config.clone())
        .await
        .expect("store on PostgreSQL");

    let http = reqwest::Client::new();
    let base = store.url();
    let session: Value = http
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({"email": "pg@example.com", "password": "postgres!"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let code = marquee_store::cli::create_vouchers(&config, 500, 1)
        .await
        .unwrap()
        .remove(0);
    let wallet: Value = http
        .post(format!("{base}/api/v1/vouchers/redeem"))
        .bearer_auth(&token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wallet["balance_cents"], 500, "{wallet}");
    let device = "ab".repeat(32);
    let status = http
        .post(format!("{base}/api/v1/devices"))
        .bearer_auth(&token)
        .json(&json!({"device_id": device, "public_key": "cd".repeat(32)}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    let order = json!({"client_order_id": "pg-1", "title_id": "neon-harbor", "device_id": device});
    let mut answers = vec![];
    for _ in 0..2 {
        let a: Value = http
            .post(format!("{base}/api/v1/orders"))
            .bearer_auth(&token)
            .json(&order)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answers.push(a);
    }
    assert_eq!(
        answers[0]["order_id"], answers[1]["order_id"],
        "{answers:?}"
    );
    assert_eq!(answers[1]["balance_cents"], 100);
    let poor = http
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&token)
        .json(&json!({"client_order_id": "pg-2", "title_id": "midnight-circuit", "device_id": device}))
        .send()
        .await
        .unwrap();
    assert_eq!(poor.status(), 402);
    let history: Value = http
        .get(format!("{base}/api/v1/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["orders"].as_array().unwrap().len(), 1);
    let page = http
        .get(format!("{base}/api/v1/catalog?limit=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(store.audit().await.unwrap().is_clean());
    store.shutdown().await;
}

/// Rows of a query on the store's PostgreSQL, each as its columns in text.
async fn rows(pool: &sqlx::AnyPool, query: &str) -> Vec<Vec<String>> {
    use sqlx::Row as _;
    sqlx::query(query)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.columns().len())
                .map(|i| {
                    r.try_get::<String, _>(i)
                        .or_else(|_| r.try_get::<i64, _>(i).map(|v| v.to_string()))
                        .unwrap()
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_store_processes_on_one_postgresql_keep_the_device_limit_the_one_pc_rule_and_the_sequence(
) {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, url)) = start_postgres(dir.path(), "two_store_processes_on_one_postgresql")
    else {
        return;
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_marquee-store"));
    let demo = marquee_store::bundled_demo_dir();
    let a = marquee_testsupport::StoreProcess::start_with(
        bin,
        &dir.path().join("a"),
        "127.0.0.1:0",
        &[
            "--database-url".as_ref(),
            url.as_ref(),
            "--demo".as_ref(),
            demo.as_os_str(),
        ],
    );
    let b = marquee_testsupport::StoreProcess::start_with(
        bin,
        &dir.path().join("b"),
        "127.0.0.1:0",
        &["--database-url".as_ref(), url.as_ref()],
    );
    let stores = [a.url().to_owned(), b.url().to_owned()];
    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!("{}/api/v1/accounts", stores[0]))
        .json(&json!({"email": "two@example.com", "password": "two stores"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();

    // Seven computers, each signed in (a session belongs to the computer that registers with
    // it), registering at once, alternately through each store, under a limit of five.
    let mut sessions = Vec::new();
    for i in 0..7 {
        let signed: Value = http
            .post(format!("{}/api/v1/sessions", stores[i % 2]))
            .json(&json!({"email": "two@example.com", "password": "two stores"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        sessions.push(signed["token"].as_str().unwrap().to_owned());
    }
    let devices: Vec<String> = (0..7).map(|i| format!("{i:02}").repeat(32)).collect();
    let registered = futures::future::join_all(devices.iter().enumerate().map(|(i, d)| {
        http.post(format!("{}/api/v1/devices", stores[i % 2]))
            .bearer_auth(&sessions[i])
            .json(&json!({"device_id": d, "public_key": "cd".repeat(32)}))
            .send()
    }))
    .await;
    let statuses: Vec<u16> = registered
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        5,
        "five computers, whichever store they asked: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 204 || *s == 409),
        "{statuses:?}"
    );
    let active = rows(
        &{
            sqlx::any::install_default_drivers();
            sqlx::AnyPool::connect(&url).await.unwrap()
        },
        "SELECT device_id FROM devices WHERE active = 1 ORDER BY device_id",
    )
    .await;
    let active: Vec<String> = active.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(active.len(), 5);

    // Money to buy with.
    let mut config = StoreConfig::loopback(dir.path().join("vouchers"), None);
    config.database_url = Some(url.clone());
    let code = marquee_store::cli::create_vouchers(&config, 2_000, 1)
        .await
        .unwrap()
        .remove(0);
    let redeemed = http
        .post(format!("{}/api/v1/vouchers/redeem", stores[1]))
        .bearer_auth(&token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(redeemed.status(), 200);

    // Each purchase ordered at once from two computers, one through each store: one charge,
    // and the other computer told it plays elsewhere.
    let purchases = [
        "orbital-s01e01",
        "orbital-s01e02",
        "glass-rain",
        "pixel-drift",
    ];
    for title in purchases {
        let answers = futures::future::join_all((0..2).map(|i| {
            http.post(format!("{}/api/v1/orders", stores[i]))
                .bearer_auth(&token)
                .json(&json!({
                    "client_order_id": format!("{title}-{i}"),
                    "title_id": title,
                    "device_id": active[i],
                }))
                .send()
        }))
        .await;
        let mut statuses: Vec<u16> = answers
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{title}");
    }

    // A purchase moved at once to two other computers, one through each store: it plays on
    // one of them.
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let licence = rows(
        &pool,
        "SELECT id FROM licences WHERE title_id = 'glass-rain' AND revoked = 0",
    )
    .await;
    assert_eq!(licence.len(), 1);
    let licence = &licence[0][0];
    let moves = futures::future::join_all((0..2).map(|i| {
        http.post(format!("{}/api/v1/licences/{licence}/move", stores[i]))
            .bearer_auth(&token)
            .json(&json!({ "device_id": active[2 + i] }))
            .send()
    }))
    .await;
    let moved: Vec<u16> = moves
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(moved.iter().filter(|s| **s == 200).count(), 1, "{moved:?}");
    assert!(moved.iter().all(|s| *s < 500), "{moved:?}");

    // Titles packaged by four processes at once, besides the stores: every catalog version
    // names one title.
    let video = demo.join("media/glass-rain.webm");
    let packagers: Vec<std::process::Child> = (0..4)
        .map(|i| {
            Command::new(bin)
                .arg("package")
                .arg(&video)
                .args([
                    "--title",
                    &format!("Packaged {i}"),
                    "--id",
                    &format!("packaged-{i}"),
                ])
                .args(["--kind", "community_video", "--price", "0"])
                .arg("--data")
                .arg(dir.path().join(format!("packager-{i}")))
                .args(["--database-url", &url])
                .env("RUST_LOG", "warn")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut p in packagers {
        assert!(p.wait().unwrap().success());
    }

    for (what, query) in [
        (
            "a purchase with two live licences",
            "SELECT order_id FROM licences WHERE revoked = 0 AND kind = 'buy' GROUP BY order_id HAVING COUNT(*) > 1",
        ),
        (
            "a title charged twice",
            "SELECT title_id FROM orders WHERE charged_cents > 0 GROUP BY title_id HAVING COUNT(*) > 1",
        ),
        (
            "a catalog version of two titles",
            "SELECT seq FROM titles GROUP BY seq HAVING COUNT(*) > 1",
        ),
    ] {
        let found = rows(&pool, query).await;
        assert!(found.is_empty(), "{what}: {found:?}");
    }
    assert_eq!(
        rows(
            &pool,
            "SELECT COUNT(*) FROM titles WHERE id LIKE 'packaged-%'"
        )
        .await[0][0],
        "4"
    );
}
