//! The catalog kept current incrementally: a first start walks the feed page by page, a repeat
//! asks only what changed (nothing: one `304`), a hidden title arrives alone, and the offline
//! copy is checked against the store's signature when it is read.

use base64::Engine;
use marquee_core::api::PublishForm;
use marquee_core::catalog::SYNC_PAGE;
use marquee_core::Core;
use marquee_store::StoreConfig;
use marquee_testsupport::start_store_with;

use crate::config;

const MACHINE: &str = "5c0ffee15c0ffee15c0ffee15c0ffee1";
const OPERATOR: &str = "operator-secret-for-the-catalog-test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_downloads_only_what_changed_and_a_damaged_copy_is_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    // More titles than one page holds, beside the demo catalog.
    let generated = SYNC_PAGE as usize + 700;
    let store_config = StoreConfig::loopback(
        dir.path().join("store"),
        Some(marquee_store::bundled_demo_dir()),
    );
    marquee_store::cli::generate_catalog(&store_config, generated)
        .await
        .unwrap();
    let store = start_store_with(dir.path(), |c| c.operator_token = Some(OPERATOR.into())).await;
    let profile = dir.path().join("p");

    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    let first = core.catalog_sync().await.unwrap();
    assert!(first.requests >= 2, "more than one page: {first:?}");
    assert!(first.titles as usize > generated, "{first:?}");
    let listed = core.catalog_list().await.unwrap();
    assert!(listed.len() > generated && listed.iter().any(|t| t.id == "neon-harbor"));
    let again = core.catalog_sync().await.unwrap();
    assert!(again.not_modified && again.bytes == 0, "{again:?}");

    // A second start: the copy is read (and verified) from the profile; the store says nothing
    // changed.
    drop(core);
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    let second = core.catalog_sync().await.unwrap();
    assert!(
        second.not_modified && second.requests == 1,
        "a repeat start asks once: {second:?}"
    );
    assert_eq!(core.catalog_list().await.unwrap().len(), listed.len());
    assert!(!core.catalog_search("neon harbor").await.unwrap().is_empty());

    // A publication is listed and found at once (publishing syncs).
    let video = dir.path().join("Lake_Day.webm");
    std::fs::copy(
        marquee_store::bundled_demo_dir().join("media/paper-boats.webm"),
        &video,
    )
    .unwrap();
    let poster =
        std::fs::read(marquee_store::bundled_demo_dir().join("media/paper-boats.jpg")).unwrap();
    let dropped = core.drop_register(video);
    let draft = core
        .publish_prepare(&dropped.drop_id, |_| {})
        .await
        .unwrap();
    let published = core
        .publish_submit(
            &draft.draft_id,
            PublishForm {
                name: "Lake Day".into(),
                description: "Boats on the lake.".into(),
                language: "en".into(),
                licence_to_share: "CC BY 4.0".into(),
                poster_data_url: Some(format!(
                    "data:image/jpeg;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(&poster)
                )),
                publisher_name: "Lakeside".into(),
            },
        )
        .await
        .unwrap();
    let id = published.title.id.clone();
    // Publishing synced already: the title is listed and found.
    assert!(core
        .catalog_list()
        .await
        .unwrap()
        .iter()
        .any(|t| t.id == id));
    assert_eq!(
        core.catalog_search("lake day").await.unwrap()[0].id,
        id,
        "the search index took the new title"
    );

    // The operator hides it: the tombstone arrives alone; the title leaves the list and search.
    let hidden = reqwest::Client::new()
        .post(format!("{}/api/v1/titles/{id}/hide", store.url()))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 204);
    let change = core.catalog_sync().await.unwrap();
    assert_eq!(change.titles, 1, "only the tombstone: {change:?}");
    assert!(
        change.bytes * 100 < first.bytes,
        "a change costs under 1% of the first sync: {change:?} against {first:?}"
    );
    assert!(!core
        .catalog_list()
        .await
        .unwrap()
        .iter()
        .any(|t| t.id == id));
    assert!(core.catalog_search("lake day").await.unwrap().is_empty());

    // Someone edits the offline copy: it no longer verifies, so it is dropped and fetched again
    // whole, and the edit is never shown.
    drop(core);
    let db_path = profile.join("library.db");
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", db_path.display()))
        .await
        .unwrap();
    let edited = sqlx::query(
        "UPDATE catalog_pages SET feed = replace(feed, '\"price_cents\":400', '\"price_cents\":1')",
    )
    .execute(&db)
    .await
    .unwrap();
    assert!(edited.rows_affected() > 0, "a price to change");
    db.close().await;
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    let refetched = core.catalog_sync().await.unwrap();
    assert!(
        refetched.titles as usize > generated,
        "the whole catalog again: {refetched:?}"
    );
    let cheap = core
        .catalog_list()
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.offer.price_cents == 1)
        .count();
    assert_eq!(cheap, 0, "no edited price is shown");

    // Offline, the verified copy is what is shown.
    store.shutdown().await;
    let offline = core.catalog_list().await.unwrap();
    assert_eq!(offline.len(), listed.len());
}
