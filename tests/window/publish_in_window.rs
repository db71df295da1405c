//! Publishing in the window: a viewer's video reaches the app the way a dropped file does
//! (opened with the app: the same Rust path as Tauri's drag-and-drop event, which registers the
//! file and tells the page its id), the publish sheet checks and copies it, the viewer names it
//! and picks a poster frame from the playing video, publishes it, finds it on the community
//! shelf, and plays it.
//!
//! Writes `target/e2e/publish.png`.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_a_dropped_video_and_play_it_from_the_community_shelf() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let video = profile.path().join("Lake_Day.webm");
    std::fs::copy(
        marquee_store::bundled_demo_dir().join("media/paper-boats.webm"),
        &video,
    )
    .unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, &profile.path().join("profile"), &[&video]).await;

    // The sheet opens, checks and copies the file, and offers a draft named after it.
    poll(
        &c,
        "the publish sheet's draft",
        "const s = document.querySelector('[data-testid=publish-sheet]'); return s && s.dataset.state === 'draft';",
        Duration::from_secs(120),
    )
    .await;
    let name = c
        .find(Locator::Css("[data-testid=publish-name]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(name, "Lake Day");
    c.find(Locator::Css("[data-testid=publish-description]"))
        .await
        .unwrap()
        .send_keys("An afternoon on the water.")
        .await
        .unwrap();
    // The name shown beside the video is the publisher's choice (empty the first time).
    c.find(Locator::Css("[data-testid=publish-publisher]"))
        .await
        .unwrap()
        .send_keys("Lakeside Films")
        .await
        .unwrap();

    // A poster frame from the playing preview.
    poll(
        &c,
        "the preview to show a frame",
        "const v = document.querySelector('[data-testid=publish-preview]'); return v && v.readyState >= 2;",
        Duration::from_secs(60),
    )
    .await;
    c.execute(
        "const v = document.querySelector('[data-testid=publish-preview]'); v.currentTime = 3;",
        vec![],
    )
    .await
    .unwrap();
    poll(
        &c,
        "the seek",
        "const v = document.querySelector('[data-testid=publish-preview]'); return !v.seeking && v.readyState >= 2;",
        Duration::from_secs(30),
    )
    .await;
    click(&c, "[data-testid=publish-poster-pick]").await;
    poll(
        &c,
        "the chosen poster",
        "const p = document.querySelector('[data-testid=publish-poster]');
         return p && p.src.startsWith('data:image/jpeg') && p.complete && p.naturalWidth > 0;",
        Duration::from_secs(10),
    )
    .await;
    screenshot(&c, "the publish sheet to settle", &out, "publish.png").await;

    click(&c, "[data-testid=publish-submit]").await;

    // On the community shelf, beside the studio titles.
    let card = poll(
        &c,
        "the title on the community shelf",
        "const shelf = document.querySelector('[data-testid=shelf-community]');
         if (!shelf) return null;
         const card = [...shelf.querySelectorAll('[data-testid^=title-card-]')]
           .find(c => c.textContent.includes('Lake Day') && c.textContent.includes('by Lakeside Films'));
         return card ? card.dataset.testid : null;",
        Duration::from_secs(60),
    )
    .await;
    let card = match card {
        Value::String(s) => s,
        other => panic!("no card: {other}"),
    };
    poll(
        &c,
        "the card's poster on the community shelf",
        &format!(
            "const card = document.querySelector('[data-testid=shelf-community] [data-testid={card}]');
             return card !== null
               && [...card.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0);"
        ),
        Duration::from_secs(30),
    )
    .await;
    screenshot(
        &c,
        "the community shelf to settle",
        &out,
        "community-shelf.png",
    )
    .await;
    click(
        &c,
        &format!("[data-testid=shelf-community] [data-testid={card}]"),
    )
    .await;
    let label = acquire_label(&c).await;
    assert!(
        label.contains("Watch"),
        "published titles play without an order: {label}"
    );
    click(&c, "[data-testid=acquire]").await;
    assert_plays(&c).await;
    c.close().await.unwrap();
    drop(driver);
}
