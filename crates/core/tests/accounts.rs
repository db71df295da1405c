//! People's own accounts on one store, and the attacks the security review tried: signing up,
//! in and out with the session kept between runs; two accounts that cannot touch each other's
//! things; a purchase on one computer at a time; deactivation that stops a computer's titles; a
//! reinstall that is not charged again.

use std::path::Path;
use std::time::Duration;

use marquee_core::api::{ErrorKind, LicenceStatus};
use marquee_core::Core;
use marquee_protocol::api::ErrorCode;
use marquee_protocol::{ClientError, StoreClient};
use marquee_store::StoreConfig;
use marquee_testsupport::{start_store, wait_for};

use crate::signed_out;

const MACHINE_A: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const MACHINE_B: &str = "f9e8d7c6b5a493827160f5e4d3c2b1a0";

/// Mints one voucher worth `cents` on the store's own database, as `marquee-store voucher
/// create` does.
async fn voucher(dir: &Path, cents: i64) -> String {
    let config = StoreConfig::loopback(dir.join("store"), None);
    marquee_store::cli::create_vouchers(&config, cents, 1)
        .await
        .unwrap()
        .remove(0)
}

/// A real Ed25519 publishing key, so only the device key can be what a refusal is about.
fn publisher() -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
        .verifying_key()
        .to_bytes()
}

fn refused(e: ClientError) -> ErrorCode {
    match e {
        ClientError::Refused { code, .. } => code,
        other => panic!("expected a refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_up_in_and_out_with_the_session_kept_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let profile = dir.path().join("ann");
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();

    // Signed out: the catalog shows, nothing can be bought, in words.
    assert_eq!(core.account_get().email, None);
    assert!(!core.catalog_list().await.unwrap().is_empty());
    let e = core.title_acquire("neon-harbor", "o-1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SignedOut, "{e}");
    assert_eq!(
        core.wallet_get().await.unwrap_err().kind(),
        ErrorKind::SignedOut
    );

    // An account nobody made, and a password that is too short, refused in words.
    let e = core
        .account_sign_in("ann@example.com", "whatever-it-is")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongPassword, "{e}");
    let e = core
        .account_sign_up("ann@example.com", "short")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCredentials, "{e}");
    assert!(e.to_string().contains("at least 8"), "{e}");

    let info = core
        .account_sign_up("Ann@Example.com", "correct horse")
        .await
        .unwrap();
    assert_eq!(info.email.as_deref(), Some("ann@example.com"));
    assert!(info.device_registered);

    // The session is kept in a file only this user can read, and the password is not in it.
    let kept = profile.join("session.json");
    let text = std::fs::read_to_string(&kept).unwrap();
    assert!(!text.contains("correct horse"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "session file mode {mode:o}");
    }

    // A voucher tops the wallet up, once.
    let code = voucher(dir.path(), 1000).await;
    assert_eq!(
        core.voucher_redeem(&code).await.unwrap().balance_cents,
        1000
    );
    let e = core.voucher_redeem(&code).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::VoucherUsed, "{e}");
    let e = core.voucher_redeem("NOPE-NOPE-NOPE").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownVoucher, "{e}");

    let rented = core.title_acquire("neon-harbor", "o-2").await.unwrap();
    assert_eq!(rented.charged_cents, 400);
    let page = core.account_overview().await.unwrap();
    assert_eq!(page.wallet.balance_cents, 600);
    assert_eq!(page.receipts.len(), 1);
    let receipt = &page.receipts[0];
    assert_eq!(
        (
            receipt.title_id.as_str(),
            receipt.amount_cents,
            receipt.this_device
        ),
        ("neon-harbor", 400, true)
    );
    assert_eq!(page.devices.len(), 1);
    assert!(page.devices[0].this_device && page.devices[0].active);
    core.shutdown().await;
    drop(core);

    // A restart: still signed in, without the password.
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    assert_eq!(core.account_get().email.as_deref(), Some("ann@example.com"));
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 600);

    // Signing out ends the session at the store too: the old token opens nothing.
    let token = std::fs::read_to_string(&kept).unwrap();
    let token = serde_json::from_str::<serde_json::Value>(&token).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    core.account_sign_out().await.unwrap();
    assert!(!kept.exists());
    assert_eq!(core.account_get().email, None);
    let old = StoreClient::new(&store.url()).unwrap();
    old.set_token(Some(token));
    assert_eq!(
        refused(old.wallet().await.unwrap_err()),
        ErrorCode::Unauthorized
    );
    let e = core
        .account_sign_up("ann@example.com", "another password")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::EmailTaken, "{e}");

    // Signing in again: the rental plays, and getting it again charges nothing.
    core.account_sign_in("ann@example.com", "correct horse")
        .await
        .unwrap();
    core.playback_open("neon-harbor").await.unwrap();
    let again = core.title_acquire("neon-harbor", "o-3").await.unwrap();
    assert_eq!(again.charged_cents, 0);
    assert_eq!(again.wallet.balance_cents, 600);

    // The store goes away: signing in says so, in words.
    core.account_sign_out().await.unwrap();
    store.shutdown().await;
    let e = core
        .account_sign_in("ann@example.com", "correct horse")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StoreUnreachable, "{e}");
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_accounts_cannot_see_or_touch_each_others_orders_licences_or_devices() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let a = Core::open(signed_out(&dir.path().join("a"), &store.url(), MACHINE_A))
        .await
        .unwrap();
    a.account_sign_up("a@example.com", "password-a")
        .await
        .unwrap();
    a.voucher_redeem(&voucher(dir.path(), 1000).await)
        .await
        .unwrap();
    a.title_acquire("orbital-s01e01", "a-1").await.unwrap();
    let a_receipt = a.account_overview().await.unwrap().receipts.remove(0);
    let a_device = a.device_id().to_hex();

    // B, a stranger on the same store, straight to the API.
    let b = StoreClient::new(&store.url()).unwrap();
    b.sign_up("b@example.com", "password-b").await.unwrap();
    assert!(b.order_history().await.unwrap().orders.is_empty());
    assert_eq!(b.wallet().await.unwrap().balance_cents, 0);
    assert!(b.devices().await.unwrap().devices.is_empty());
    let history = reqwest::Client::new()
        .get(format!("{}/api/v1/orders", store.url()))
        .bearer_auth(b.token().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!history.contains("orbital"), "{history}");

    // A's licence, by its id from A's own history: B can neither revoke, renew, move nor
    // report on it; the store answers as if it did not exist.
    let a_licence = {
        let own = StoreClient::new(&store.url()).unwrap();
        own.sign_in("a@example.com", "password-a").await.unwrap();
        own.order_history().await.unwrap().orders[0]
            .licence_id
            .clone()
            .unwrap()
    };
    let http = reqwest::Client::new();
    for path in ["revoke", "renew", "first-frame", "move"] {
        let resp = http
            .post(format!(
                "{}/api/v1/licences/{a_licence}/{path}",
                store.url()
            ))
            .bearer_auth(b.token().unwrap())
            .json(&serde_json::json!({"at": 0, "device_id": a_device}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "unknown_licence", "{path}: {body}");
    }
    // A's computer: B can neither deactivate it nor read its licence status. Registering the
    // same device id (a computer both use, or a guess) gives B a row of its own; A's stays A's.
    assert_eq!(
        refused(b.deactivate_device(&a_device).await.unwrap_err()),
        ErrorCode::UnknownDevice
    );
    let status = b.licence_status(&a_device, "01").await.unwrap();
    assert!(status.revoked.is_empty() && status.first_plays.is_empty());
    let key = marquee_licence::DeviceKeys::generate();
    b.register_device(&a_device, &key.public_key(), &publisher())
        .await
        .unwrap();
    let status = b.licence_status(&a_device, "01").await.unwrap();
    assert!(status.revoked.is_empty() && status.first_plays.is_empty());
    // Deactivating it there deactivates B's row only, and B ordering for it is refused
    // without a charge.
    b.deactivate_device(&a_device).await.unwrap();
    let b = StoreClient::new(&store.url()).unwrap();
    b.sign_in("b@example.com", "password-b").await.unwrap();
    let e = b
        .order(&marquee_protocol::api::OrderRequest {
            client_order_id: "b-1".into(),
            title_id: "orbital-s01e01".into(),
            device_id: a_device.clone(),
            move_here: true,
        })
        .await
        .unwrap_err();
    assert_eq!(refused(e), ErrorCode::DeviceInactive);
    assert!(b.order_history().await.unwrap().orders.is_empty());

    // A's purchase still plays on A.
    a.licences_sync().await.unwrap();
    a.playback_open("orbital-s01e01").await.unwrap();
    assert_eq!(a_receipt.amount_cents, 200);
    a.shutdown().await;
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_purchase_plays_on_one_computer_and_deactivation_stops_a_computers_titles() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let a = Core::open(signed_out(&dir.path().join("a"), &store.url(), MACHINE_A))
        .await
        .unwrap();
    a.account_sign_up("pat@example.com", "password-p")
        .await
        .unwrap();
    a.voucher_redeem(&voucher(dir.path(), 1000).await)
        .await
        .unwrap();
    a.title_acquire("orbital-s01e01", "a-1").await.unwrap();
    a.title_acquire("neon-harbor", "a-2").await.unwrap();
    a.playback_open("orbital-s01e01").await.unwrap();

    // The same account on a second computer: the purchase is not handed out a second time.
    let b = Core::open(signed_out(&dir.path().join("b"), &store.url(), MACHINE_B))
        .await
        .unwrap();
    b.account_sign_in("pat@example.com", "password-p")
        .await
        .unwrap();
    let e = b.title_acquire("orbital-s01e01", "b-1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicensedElsewhere, "{e}");
    assert!(e.to_string().contains("Move it here"), "{e}");
    assert_eq!(b.wallet_get().await.unwrap().balance_cents, 400);
    // A rental never moves.
    let e = b.licence_move("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotMovable, "{e}");

    // "Move it here": B plays it, nothing is charged, and A's copy stops.
    let moved = b.licence_move("orbital-s01e01").await.unwrap();
    assert_eq!(moved.licence.status, LicenceStatus::Owned);
    b.playback_open("orbital-s01e01").await.unwrap();
    assert_eq!(b.wallet_get().await.unwrap().balance_cents, 400);
    a.licences_sync().await.unwrap();
    let e = a.playback_open("orbital-s01e01").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceRevoked, "{e}");

    // From B, the person deactivates A: A's rental stops, and A's session is over.
    b.device_deactivate(&a.device_id().to_hex()).await.unwrap();
    let _ = a.licences_sync().await;
    let e = a.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SignInRequired, "{e}");
    assert_eq!(
        a.wallet_get().await.unwrap_err().kind(),
        ErrorKind::SignInRequired
    );
    // A restart does not bring it back, nor does forging the "refused" mark in library.db and
    // lowering the clock's mark: the kept session is refused and forgotten.
    a.shutdown().await;
    drop(a);
    {
        let db = sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            dir.path().join("a").join("library.db").display()
        ))
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('session_refused', '0'), ('clock_high_water', '0')
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .execute(&db)
        .await
        .unwrap();
        db.close().await;
        // Without its kept session, only the sealed mark remembers the refusal.
        std::fs::remove_file(dir.path().join("a").join("session.json")).unwrap();
    }
    let a = Core::open(signed_out(&dir.path().join("a"), &store.url(), MACHINE_A))
        .await
        .unwrap();
    assert_eq!(a.account_get().email, None);
    let e = a.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SignInRequired, "{e}");
    // Signing in with the password again re-registers A; the rental stays revoked.
    a.account_sign_in("pat@example.com", "password-p")
        .await
        .unwrap();
    let e = a.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceRevoked, "{e}");
    a.shutdown().await;
    b.shutdown().await;
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reinstall_on_the_same_computer_is_not_charged_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let profile = dir.path().join("first-install");
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    core.account_sign_up("rae@example.com", "password-r")
        .await
        .unwrap();
    core.voucher_redeem(&voucher(dir.path(), 1000).await)
        .await
        .unwrap();
    core.title_acquire("neon-harbor", "rent-1").await.unwrap();
    core.title_acquire("orbital-s01e01", "buy-1").await.unwrap();
    core.playback_open("neon-harbor").await.unwrap();
    core.playback_report("neon-harbor", 1.0, true)
        .await
        .unwrap();
    let ends = wait_for(
        "the rental's window to start",
        Duration::from_secs(20),
        || async {
            core.licences_sync().await.map_err(|e| e.to_string())?;
            let lib = core.library_list().await.map_err(|e| e.to_string())?;
            let rental = lib.iter().find(|e| e.title.id == "neon-harbor").unwrap();
            match (rental.licence.status, rental.licence.ends_at_ms) {
                (LicenceStatus::Running, Some(ends)) => Ok(ends),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    core.shutdown().await;
    drop(core);

    // The data folder is deleted: a new install on the same computer, with a new device key.
    std::fs::remove_dir_all(&profile).unwrap();
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    core.account_sign_in("rae@example.com", "password-r")
        .await
        .unwrap();
    // The old order id, retried: the old install's licence comes back re-wrapped for this
    // install's key, not as "licensed to another computer", and nothing is charged.
    let retried = core.title_acquire("orbital-s01e01", "buy-1").await.unwrap();
    // The same order answers again (it says what it charged then); the wallet is untouched.
    assert_eq!(retried.wallet.balance_cents, 400);
    assert_eq!(retried.entry.licence.status, LicenceStatus::Owned);
    core.playback_open("orbital-s01e01").await.unwrap();
    // Renting again what was rented here, with a new order id: not charged, and the window is
    // the one that was running, not a new one.
    let rental = core.title_acquire("neon-harbor", "rent-2").await.unwrap();
    assert_eq!(rental.charged_cents, 0);
    assert_eq!(rental.entry.licence.status, LicenceStatus::Running);
    assert_eq!(rental.entry.licence.ends_at_ms, Some(ends));
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 400);
    core.playback_open("neon-harbor").await.unwrap();
    core.shutdown().await;
    drop(core);

    // Another reinstall, restored from the account page in one step.
    std::fs::remove_dir_all(&profile).unwrap();
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    core.account_sign_in("rae@example.com", "password-r")
        .await
        .unwrap();
    let mut restored = core.library_restore().await.unwrap().restored;
    restored.sort();
    assert_eq!(restored, ["neon-harbor", "orbital-s01e01"]);
    let lib = core.library_list().await.unwrap();
    let rental = lib.iter().find(|e| e.title.id == "neon-harbor").unwrap();
    assert_eq!(rental.licence.ends_at_ms, Some(ends));
    core.playback_open("orbital-s01e01").await.unwrap();
    core.playback_open("neon-harbor").await.unwrap();
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 400);
    let audit = store.audit().await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    core.shutdown().await;
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cloned_machine_id_never_keeps_one_licence_playing_on_two_computers() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let first = Core::open(signed_out(
        &dir.path().join("first"),
        &store.url(),
        MACHINE_A,
    ))
    .await
    .unwrap();
    first
        .account_sign_up("sam@example.com", "password-s")
        .await
        .unwrap();
    first
        .voucher_redeem(&voucher(dir.path(), 1000).await)
        .await
        .unwrap();
    first
        .title_acquire("orbital-s01e01", "buy-1")
        .await
        .unwrap();
    first.playback_open("orbital-s01e01").await.unwrap();
    let owner = StoreClient::new(&store.url()).unwrap();
    owner
        .sign_in("sam@example.com", "password-s")
        .await
        .unwrap();
    let original = owner.order_history().await.unwrap().orders[0]
        .licence_id
        .clone()
        .expect("the purchase's licence");
    let device = first.device_id().to_hex();

    // A second computer presenting the same machine id (a cloned disk image, or a forged id)
    // signs in to the same account with its own key, and restores the purchase.
    let clone = Core::open(signed_out(
        &dir.path().join("clone"),
        &store.url(),
        MACHINE_A,
    ))
    .await
    .unwrap();
    clone
        .account_sign_in("sam@example.com", "password-s")
        .await
        .unwrap();
    assert_eq!(
        clone.library_restore().await.unwrap().restored,
        ["orbital-s01e01"]
    );
    clone.playback_open("orbital-s01e01").await.unwrap();
    // The clone's licence has an id of its own; the first computer's is revoked.
    let status = owner.licence_status(&device, "00").await.unwrap();
    assert_eq!(status.revoked, [original], "{status:?}");

    // The first computer's copy stops at its next sync: one licence plays on one PC.
    first.licences_sync().await.unwrap();
    let e = first.playback_open("orbital-s01e01").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceRevoked, "{e}");
    assert_eq!(first.wallet_get().await.unwrap().balance_cents, 800);
    let audit = store.audit().await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    first.shutdown().await;
    clone.shutdown().await;
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_zero_and_low_order_device_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let client = StoreClient::new(&store.url()).unwrap();
    client
        .sign_up("zed@example.com", "password-z")
        .await
        .unwrap();
    // The all-zero point, and a point of order 8 (from the curve's small subgroup).
    let mut order_eight = [0u8; 32];
    hex::decode_to_slice(
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        &mut order_eight,
    )
    .unwrap();
    for key in [[0u8; 32], order_eight] {
        let e = client
            .register_device(&"ab".repeat(32), &key, &publisher())
            .await
            .unwrap_err();
        assert_eq!(refused(e), ErrorCode::InvalidDeviceKey);
    }
    assert!(client.devices().await.unwrap().devices.is_empty());
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edited_library_is_refused_and_restored_from_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let profile = dir.path().join("p");
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    core.account_sign_up("eve@example.com", "password-e")
        .await
        .unwrap();
    core.voucher_redeem(&voucher(dir.path(), 1000).await)
        .await
        .unwrap();
    core.title_acquire("neon-harbor", "rent-1").await.unwrap();
    core.playback_open("neon-harbor").await.unwrap();
    core.playback_report("neon-harbor", 1.0, true)
        .await
        .unwrap();
    let ends = wait_for(
        "the store to hear of the first frame",
        Duration::from_secs(20),
        || async {
            core.licences_sync().await.map_err(|e| e.to_string())?;
            let lib = core.library_list().await.map_err(|e| e.to_string())?;
            let e = lib.iter().find(|e| e.title.id == "neon-harbor").unwrap();
            e.licence.ends_at_ms.ok_or_else(|| "not started".to_owned())
        },
    )
    .await;
    core.shutdown().await;
    drop(core);

    // Someone edits library.db to forget the first frame (a fresh 48 hours).
    {
        let db = sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            profile.join("library.db").display()
        ))
        .await
        .unwrap();
        let done =
            sqlx::query("UPDATE library SET first_frame_at = NULL WHERE title_id = 'neon-harbor'")
                .execute(&db)
                .await
                .unwrap();
        assert_eq!(done.rows_affected(), 1);
        db.close().await;
    }
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    let e = core.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LibraryTampered, "{e}");
    assert!(e.to_string().contains("Restore"), "{e}");
    // Restoring from the account brings back the store's record: the window that was running.
    core.library_restore().await.unwrap();
    core.playback_open("neon-harbor").await.unwrap();
    let lib = core.library_list().await.unwrap();
    let e = lib.iter().find(|e| e.title.id == "neon-harbor").unwrap();
    assert_eq!(
        e.licence.ends_at_ms,
        Some(ends),
        "the window did not restart"
    );
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 600);
    core.shutdown().await;
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_download_resumed_while_signed_out_still_finds_its_peers() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let profile = dir.path().join("p");
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    core.account_sign_up("sam@example.com", "password-s")
        .await
        .unwrap();
    // A free title: it needs no licence, so it plays signed out.
    core.title_acquire("open-skies", "free-1").await.unwrap();
    core.account_sign_out().await.unwrap();
    core.shutdown().await;
    drop(core);
    // Deleting what was downloaded makes the restart fetch it all again, signed out: the peer
    // list needs a sign-in, the store's tracker does not.
    std::fs::remove_dir_all(profile.join("downloads")).unwrap();
    let core = Core::open(signed_out(&profile, &store.url(), MACHINE_A))
        .await
        .unwrap();
    assert_eq!(core.account_get().email, None);
    wait_for(
        "the download to finish signed out",
        Duration::from_secs(60),
        || async {
            match core
                .downloads()
                .into_iter()
                .find(|d| d.title_id == "open-skies")
            {
                Some(d) if d.downloaded_bytes == d.total_bytes && d.total_bytes > 0 => Ok(()),
                other => Err(other),
            }
        },
    )
    .await;
    core.playback_open("open-skies").await.unwrap();
    core.shutdown().await;
    store.shutdown().await;
}
