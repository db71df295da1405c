//! Reads `tauri.conf.json` (top level, beside this package's Cargo.toml), declares the app's
//! commands so each must be granted by a capability, and resolves the capabilities kept in
//! `src-tauri/capabilities/`.

/// Every command the UI may call; each gets an `allow-<name>` permission.
const COMMANDS: &[&str] = &[
    "catalog_list",
    "catalog_search",
    "wallet_get",
    "library_list",
    "title_acquire",
    "playback_open",
    "playback_report",
    "downloads_watch",
    "drops_pending",
    "publish_pick",
    "publish_prepare",
    "publish_cancel",
    "publish_discard",
    "publish_submit",
    "title_share",
    "title_save_torrent",
    "title_export",
    "magnet_open",
    "torrent_import",
    "licence_move",
    "device_reactivate",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
