//! Starting with the store unreachable, in the window: the storefront opens from the catalog
//! saved on this computer, with the pictures it showed before and a banner saying the app is
//! offline; and when the store process comes back at its address the banner goes by itself,
//! with nobody clicking anything. And when the page's own process dies, the app loads the
//! page again.
//!
//! Saves `target/e2e/offline.png` (the README shows it).

use std::time::Duration;

use crate::common::*;

const TITLE: &str = "neon-harbor";

/// Waits until nothing accepts connections at `addr`.
fn wait_closed(addr: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the store still listens at {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_offline_from_the_saved_catalog_and_reconnects_by_itself() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let store_data = dir.path().join("store");
    let store = start_store_process_at(&store_data, &listen);
    let url = store.url().to_owned();
    let profile = dir.path().join("profile");
    let (_xvfb, display) = start_xvfb();
    let card = title_card(TITLE);
    let has_card = format!("return document.querySelector('{card}') !== null;");
    let banner = "document.querySelector('[data-testid=offline-banner]')";

    // Online once: the catalog is saved on this computer.
    let (driver, c) = launch_with(&display, &profile, &[], Some(&url)).await;
    poll(&c, "the storefront", &has_card, Duration::from_secs(90)).await;
    assert_eq!(
        c.execute(&format!("return {banner} === null;"), vec![])
            .await
            .unwrap(),
        true,
        "no offline banner while the store answers"
    );
    c.close().await.unwrap();
    drop(driver);

    // The store goes away; the app starts anyway, from what it saved.
    drop(store);
    wait_closed(&listen);
    let (driver, c) = launch_with(&display, &profile, &[], Some(&url)).await;
    let text = poll(
        &c,
        "the offline banner",
        &format!("const b = {banner}; return b ? b.innerText : null;"),
        Duration::from_secs(90),
    )
    .await;
    let text = text.as_str().unwrap().to_owned();
    assert!(text.contains("You're offline"), "{text}");
    assert!(text.contains(&listen), "the banner names the store: {text}");
    poll(
        &c,
        "the saved storefront",
        &has_card,
        Duration::from_secs(30),
    )
    .await;
    screenshot(&c, "the offline storefront", &out, "offline.png").await;

    // Back at its address: the app notices by itself.
    let _store = start_store_process_at(&store_data, &listen);
    poll(
        &c,
        "the offline banner to go",
        &format!("return {banner} === null ? true : null;"),
        Duration::from_secs(90),
    )
    .await;

    // The page's own process killed (as a crash in a media pipeline would end it): the app
    // says why in its log and loads the page again in a new one, instead of a blank window.
    // Both are looked for until they show: WebKit may still be starting the page's process
    // again (its network process restarting after the reconnect has been seen here).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (app, page) = loop {
        if let Some(app) = app_with_profile(&profile) {
            if let Some(page) = web_process_of(app) {
                break (app, page);
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no web process for this test's app ({:?}); its children: {:?}",
            app_with_profile(&profile),
            app_with_profile(&profile).map(children_of)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    run(std::process::Command::new("kill").args(["-9", &page.to_string()]));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let log = profile.join("logs/marquee.log");
    loop {
        let said = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("the window's web process ended: loading the page again");
        if said && web_process_of(app).is_some_and(|p| p != page) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the app did not load the page again after its web process was killed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // WebDriver's session ended with the page it drove.
    let _ = c.close().await;
    drop(driver);
}
