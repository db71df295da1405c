//! The Marquee desktop shell: a thin Tauri layer over [`marquee_core::Core`]. Each command is a
//! few lines that call the core and turn its errors into `{kind, message}` for the UI.
//!
//! [`ipc`] lists every command and event once; the UI's typed bindings and the permission each
//! command needs are generated from that list (`cargo xtask bindings`, see `bindings.rs`).

use std::path::PathBuf;
use std::time::Duration;

use std::sync::Mutex;

use marquee_core::api::{
    AccountInfo, AccountOverview, AcquireResult, AppError, Connection, DownloadItem,
    DownloadLimits, DownloadProgress, DroppedFile, ErrorKind, LibraryEntry, PlaybackSource,
    PublishDraft, PublishForm, PublishProgress, RestoreResult, ShareLinks, Title, TorrentPreview,
    Wallet,
};
use marquee_core::playback::PlaybackListener;
use marquee_core::{Core, CoreConfig};
use tauri::ipc::Channel;
use tauri::utils::config::{Csp, CspDirectiveSources};
use tauri::{DragDropEvent, Manager, Runtime, State, WindowEvent};
use tauri_plugin_dialog::DialogExt;
use tauri_specta::Event;
use tokio::sync::watch;

#[cfg(test)]
mod bindings;
mod desktop;
mod log;
mod updates;

/// The event that tells the page files were dropped (or opened with the app): `files-dropped`,
/// with the files by id.
#[derive(Clone, Debug, serde::Serialize, specta::Type, tauri_specta::Event)]
pub struct FilesDropped(pub Vec<DroppedFile>);

/// The event that tells the page `magnet:` links were opened with the app (from a browser, the
/// desktop or a second launch): `links-opened`, with the links as given.
#[derive(Clone, Debug, serde::Serialize, specta::Type, tauri_specta::Event)]
pub struct LinksOpened(pub Vec<String>);

/// The core, once it has opened (or why it could not), the demo store this run started, and
/// files that arrived before the page was listening.
pub struct AppState {
    core: watch::Sender<Option<Result<Core, AppError>>>,
    /// The embedded demo store, while it runs (never when another store is configured).
    demo_store: tokio::sync::Mutex<Option<marquee_store::Store>>,
    /// Files that arrived before the page first asked for them; `None` once it has (from then
    /// on the page hears of files through the event alone).
    pending: Mutex<Option<Vec<DroppedFile>>>,
    /// Links that arrived before the page first asked for them, like `pending`.
    pending_links: Mutex<Option<Vec<String>>>,
    /// The playback server's listener, bound before the window so its CSP names the origin;
    /// the core takes it when it opens.
    playback: Option<PlaybackListener>,
}

impl AppState {
    /// Waits for the core to open.
    async fn core(&self) -> Result<Core, AppError> {
        let mut rx = self.core.subscribe();
        let ready = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| internal("the core stopped"))?;
        ready.clone().expect("checked by wait_for")
    }
}

fn internal(message: &str) -> AppError {
    AppError {
        kind: ErrorKind::Internal,
        message: message.to_owned(),
    }
}

/// The catalog of the store.
#[tauri::command]
#[specta::specta]
async fn catalog_list(state: State<'_, AppState>) -> Result<Vec<Title>, AppError> {
    Ok(state.core().await?.catalog_list().await?)
}

/// Full-text search of the catalog.
#[tauri::command]
#[specta::specta]
async fn catalog_search(state: State<'_, AppState>, query: String) -> Result<Vec<Title>, AppError> {
    Ok(state.core().await?.catalog_search(&query).await?)
}

/// The wallet.
#[tauri::command]
#[specta::specta]
async fn wallet_get(state: State<'_, AppState>) -> Result<Wallet, AppError> {
    Ok(state.core().await?.wallet_get().await?)
}

/// Who is signed in, on which store.
#[tauri::command]
#[specta::specta]
async fn account_get(state: State<'_, AppState>) -> Result<AccountInfo, AppError> {
    Ok(state.core().await?.account_get())
}

/// Signs in with an e-mail and password (the password is not kept).
#[tauri::command]
#[specta::specta]
async fn account_sign_in(
    state: State<'_, AppState>,
    email: String,
    password: String,
) -> Result<AccountInfo, AppError> {
    Ok(state
        .core()
        .await?
        .account_sign_in(&email, &password)
        .await?)
}

/// Creates an account and signs in to it.
#[tauri::command]
#[specta::specta]
async fn account_sign_up(
    state: State<'_, AppState>,
    email: String,
    password: String,
) -> Result<AccountInfo, AppError> {
    Ok(state
        .core()
        .await?
        .account_sign_up(&email, &password)
        .await?)
}

/// Signs out.
#[tauri::command]
#[specta::specta]
async fn account_sign_out(state: State<'_, AppState>) -> Result<AccountInfo, AppError> {
    Ok(state.core().await?.account_sign_out().await?)
}

/// The account page: wallet, receipts, computers.
#[tauri::command]
#[specta::specta]
async fn account_overview(state: State<'_, AppState>) -> Result<AccountOverview, AppError> {
    Ok(state.core().await?.account_overview().await?)
}

/// Tops the wallet up with a voucher code.
#[tauri::command]
#[specta::specta]
async fn voucher_redeem(state: State<'_, AppState>, code: String) -> Result<Wallet, AppError> {
    Ok(state.core().await?.voucher_redeem(&code).await?)
}

/// Deactivates one of the account's computers.
#[tauri::command]
#[specta::specta]
async fn device_deactivate(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<AccountInfo, AppError> {
    Ok(state.core().await?.device_deactivate(&device_id).await?)
}

/// Puts back what the account holds on this computer, without a charge.
#[tauri::command]
#[specta::specta]
async fn library_restore(state: State<'_, AppState>) -> Result<RestoreResult, AppError> {
    Ok(state.core().await?.library_restore().await?)
}

/// The library.
#[tauri::command]
#[specta::specta]
async fn library_list(state: State<'_, AppState>) -> Result<Vec<LibraryEntry>, AppError> {
    Ok(state.core().await?.library_list().await?)
}

/// Rent, buy or get a free title.
#[tauri::command]
#[specta::specta]
async fn title_acquire(
    state: State<'_, AppState>,
    title_id: String,
    client_order_id: String,
) -> Result<AcquireResult, AppError> {
    Ok(state
        .core()
        .await?
        .title_acquire(&title_id, &client_order_id)
        .await?)
}

/// Open a title for playback.
#[tauri::command]
#[specta::specta]
async fn playback_open(
    state: State<'_, AppState>,
    title_id: String,
) -> Result<PlaybackSource, AppError> {
    Ok(state.core().await?.playback_open(&title_id).await?)
}

/// Report the playback position (and the first frame).
#[tauri::command]
#[specta::specta]
async fn playback_report(
    state: State<'_, AppState>,
    title_id: String,
    position_s: f64,
    first_frame: bool,
) -> Result<(), AppError> {
    Ok(state
        .core()
        .await?
        .playback_report(&title_id, position_s, first_frame)
        .await?)
}

/// Push download progress to the window twice a second until the window goes away.
#[tauri::command]
#[specta::specta]
async fn downloads_watch(
    state: State<'_, AppState>,
    on_progress: Channel<Vec<DownloadProgress>>,
) -> Result<(), AppError> {
    let core = state.core().await?;
    tauri::async_runtime::spawn(async move {
        loop {
            if on_progress.send(core.downloads()).is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    Ok(())
}

/// Push whether the store answers to the window: now, and at every change, until the window
/// goes away.
#[tauri::command]
#[specta::specta]
async fn connection_watch(
    state: State<'_, AppState>,
    on_change: Channel<Connection>,
) -> Result<(), AppError> {
    let core = state.core().await?;
    tauri::async_runtime::spawn(async move {
        let mut changes = core.connection_watch();
        loop {
            let now = changes.borrow_and_update().clone();
            if on_change.send(now).is_err() || changes.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// Every download and seed, with its state, progress, speeds, peers and time left.
#[tauri::command]
#[specta::specta]
async fn downloads_list(state: State<'_, AppState>) -> Result<Vec<DownloadItem>, AppError> {
    Ok(state.core().await?.downloads_list().await?)
}

/// Pauses a title's download (or seeding); it stays paused after a restart.
#[tauri::command]
#[specta::specta]
async fn download_pause(state: State<'_, AppState>, title_id: String) -> Result<(), AppError> {
    Ok(state.core().await?.download_pause(&title_id).await?)
}

/// Resumes a paused title, or downloads a removed one again.
#[tauri::command]
#[specta::specta]
async fn download_resume(state: State<'_, AppState>, title_id: String) -> Result<(), AppError> {
    Ok(state.core().await?.download_resume(&title_id).await?)
}

/// Removes a title from the downloads, keeping its files or deleting them.
#[tauri::command]
#[specta::specta]
async fn download_remove(
    state: State<'_, AppState>,
    title_id: String,
    delete_files: bool,
) -> Result<(), AppError> {
    Ok(state
        .core()
        .await?
        .download_remove(&title_id, delete_files)
        .await?)
}

/// The global download and upload limits.
#[tauri::command]
#[specta::specta]
async fn downloads_limits_get(state: State<'_, AppState>) -> Result<DownloadLimits, AppError> {
    Ok(state.core().await?.downloads_limits_get().await?)
}

/// Sets the global download and upload limits (KiB/s, `null` for none).
#[tauri::command]
#[specta::specta]
async fn downloads_limits_set(
    state: State<'_, AppState>,
    limits: DownloadLimits,
) -> Result<DownloadLimits, AppError> {
    Ok(state.core().await?.downloads_limits_set(limits).await?)
}

/// Moves a purchase licensed to another computer of the account to this one.
#[tauri::command]
#[specta::specta]
async fn licence_move(
    state: State<'_, AppState>,
    title_id: String,
) -> Result<LibraryEntry, AppError> {
    Ok(state.core().await?.licence_move(&title_id).await?)
}

/// Registers this computer as a new device when the profile was made on another one: the old
/// device key is kept aside, the library stays, and the core opens again.
#[tauri::command]
#[specta::specta]
async fn device_reactivate<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<(), AppError> {
    let profile = profile(&app)?;
    marquee_core::identity::set_aside_device_key(&profile.data_dir)?;
    state.core.send_replace(None);
    let opened = open_core(&app, profile).await;
    state.core.send_replace(Some(opened.clone()));
    opened.map(drop)
}

/// Files dropped or opened before the page listened for [`FilesDropped`]; taken once.
#[tauri::command]
#[specta::specta]
fn drops_pending(state: State<'_, AppState>) -> Vec<DroppedFile> {
    state
        .pending
        .lock()
        .expect("pending drops")
        .take()
        .unwrap_or_default()
}

/// Whether a newer Marquee is published (nothing when this build has no update channel).
#[tauri::command]
#[specta::specta]
async fn update_check<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> Result<Option<updates::UpdateInfo>, AppError> {
    updates::check(&app).await
}

/// Installs the published update once the person agrees, then restarts into it.
#[tauri::command]
#[specta::specta]
async fn update_install<R: Runtime>(app: tauri::AppHandle<R>) -> Result<(), AppError> {
    updates::install(&app).await
}

/// `magnet:` links opened with the app before the page listened for [`LinksOpened`]; taken
/// once.
#[tauri::command]
#[specta::specta]
fn links_pending(state: State<'_, AppState>) -> Vec<String> {
    state
        .pending_links
        .lock()
        .expect("pending links")
        .take()
        .unwrap_or_default()
}

/// Lets the person pick videos or torrent files with the system's file dialog; the paths stay
/// on the Rust side.
#[tauri::command]
#[specta::specta]
async fn publish_pick<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Vec<DroppedFile>, AppError> {
    let core = state.core().await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .add_filter("Videos and torrents", &["webm", "mp4", "m4v", "torrent"])
        .pick_files(move |picked| {
            let _ = tx.send(picked);
        });
    let picked = rx.await.map_err(|_| internal("the file dialog closed"))?;
    Ok(picked
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| f.into_path().ok())
        .map(|p| core.drop_register(p))
        .collect())
}

/// Checks, copies and starts seeding a dropped video; progress goes to `on_progress`.
#[tauri::command]
#[specta::specta]
async fn publish_prepare(
    state: State<'_, AppState>,
    drop_id: String,
    on_progress: Channel<PublishProgress>,
) -> Result<PublishDraft, AppError> {
    let core = state.core().await?;
    Ok(core
        .publish_prepare(&drop_id, move |p| {
            let _ = on_progress.send(p);
        })
        .await?)
}

/// Cancels preparing a dropped video.
#[tauri::command]
#[specta::specta]
async fn publish_cancel(state: State<'_, AppState>, drop_id: String) -> Result<(), AppError> {
    state.core().await?.publish_cancel(&drop_id);
    Ok(())
}

/// Drops a draft and its copy.
#[tauri::command]
#[specta::specta]
async fn publish_discard(state: State<'_, AppState>, draft_id: String) -> Result<(), AppError> {
    Ok(state.core().await?.publish_discard(&draft_id).await?)
}

/// Publishes a draft to the community shelf.
#[tauri::command]
#[specta::specta]
async fn publish_submit(
    state: State<'_, AppState>,
    draft_id: String,
    form: PublishForm,
) -> Result<LibraryEntry, AppError> {
    Ok(state.core().await?.publish_submit(&draft_id, form).await?)
}

/// A magnet link for a free title.
#[tauri::command]
#[specta::specta]
async fn title_share(state: State<'_, AppState>, title_id: String) -> Result<ShareLinks, AppError> {
    Ok(state.core().await?.share_links(&title_id).await?)
}

/// Asks where to save, then writes a free title's `.torrent` there.
#[tauri::command]
#[specta::specta]
async fn title_save_torrent<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    title_id: String,
) -> Result<Option<String>, AppError> {
    let core = state.core().await?;
    let bytes = core.torrent_file(&title_id).await?;
    let (_, torrent_name) = core.export_names(&title_id).await?;
    let Some(path) = save_dialog(&app, &torrent_name).await? else {
        return Ok(None);
    };
    std::fs::write(&path, bytes).map_err(|e| internal(&format!("saving the torrent: {e}")))?;
    Ok(Some(path.display().to_string()))
}

/// Asks where to save, then copies a free title's file there.
#[tauri::command]
#[specta::specta]
async fn title_export<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    title_id: String,
) -> Result<Option<String>, AppError> {
    let core = state.core().await?;
    let (file_name, _) = core.export_names(&title_id).await?;
    let Some(path) = save_dialog(&app, &file_name).await? else {
        return Ok(None);
    };
    core.title_export(&title_id, &path).await?;
    Ok(Some(path.display().to_string()))
}

async fn save_dialog<R: Runtime>(
    app: &tauri::AppHandle<R>,
    name: &str,
) -> Result<Option<PathBuf>, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_file_name(name).save_file(move |p| {
        let _ = tx.send(p);
    });
    let picked = rx.await.map_err(|_| internal("the file dialog closed"))?;
    Ok(picked.and_then(|p| p.into_path().ok()))
}

/// Adds a magnet link (pasted) as a free title not from the store.
#[tauri::command]
#[specta::specta]
async fn magnet_open(state: State<'_, AppState>, link: String) -> Result<LibraryEntry, AppError> {
    Ok(state.core().await?.magnet_open(&link).await?)
}

/// What a dropped `.torrent` file holds, or why it cannot be added; adds nothing.
#[tauri::command]
#[specta::specta]
async fn torrent_preview(
    state: State<'_, AppState>,
    drop_id: String,
) -> Result<TorrentPreview, AppError> {
    Ok(state.core().await?.torrent_preview(&drop_id).await?)
}

/// Adds a dropped `.torrent` file as a free title not from the store.
#[tauri::command]
#[specta::specta]
async fn torrent_import(
    state: State<'_, AppState>,
    drop_id: String,
) -> Result<LibraryEntry, AppError> {
    Ok(state.core().await?.torrent_import(&drop_id).await?)
}

/// Registers dropped or opened files with the core and tells the page about them by id.
pub(crate) fn files_arrived<R: Runtime>(app: &tauri::AppHandle<R>, paths: Vec<PathBuf>) {
    if paths.is_empty() {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let Ok(core) = state.core().await else { return };
        let files: Vec<DroppedFile> = paths.into_iter().map(|p| core.drop_register(p)).collect();
        if let Some(pending) = state.pending.lock().expect("pending drops").as_mut() {
            pending.extend(files.iter().cloned());
        }
        let _ = FilesDropped(files).emit(&app);
    });
}

/// Where the demo catalog is: bundled as a resource in installers, the source tree otherwise.
fn demo_dir<R: Runtime>(app: &tauri::AppHandle<R>) -> PathBuf {
    let dir = app
        .path()
        .resource_dir()
        .ok()
        .map(|d| d.join("demo"))
        .filter(|d| d.join("catalog.json").exists())
        .unwrap_or_else(marquee_store::bundled_demo_dir);
    // Said once per run: the install test checks an installed app uses its own copy.
    tracing::info!(dir = %dir.display(), "the demo catalog");
    dir
}

/// Where this run's profile is and which store it uses.
struct Profile {
    data_dir: PathBuf,
    /// `None`: the embedded demo store.
    store_url: Option<String>,
}

/// `MARQUEE_DATA_DIR` overrides the profile folder, and the store is the one named by
/// `MARQUEE_STORE_URL`, else by `store_url` in the profile's `settings.json`, else the embedded
/// demo store.
fn profile<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<Profile, AppError> {
    let data_dir = match std::env::var_os("MARQUEE_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => app
            .path()
            .app_data_dir()
            .map_err(|e| internal(&format!("no data folder: {e}")))?,
    };
    let settings = read_settings(&data_dir.join("settings.json"))?;
    let store_url = std::env::var("MARQUEE_STORE_URL")
        .ok()
        .or(settings.store_url);
    Ok(Profile {
        data_dir,
        store_url,
    })
}

/// Opens the core on the profile's store. With no store configured, starts the embedded demo
/// store on loopback first (once per run) and hands the core its URL and key; if the core then
/// fails to open, the demo store is stopped rather than left running.
async fn open_core<R: Runtime>(
    app: &tauri::AppHandle<R>,
    profile: Profile,
) -> Result<Core, AppError> {
    let state = app.state::<AppState>();
    let mut demo = state.demo_store.lock().await;
    let mut config = match profile.store_url {
        // A store on a network: the person signs in (or up) in the window.
        Some(url) => CoreConfig::signed_out(profile.data_dir, url),
        None => {
            let store = match demo.take() {
                Some(store) => store,
                None => marquee_store::Store::start(marquee_store::StoreConfig::loopback(
                    profile.data_dir.join("demo-store"),
                    Some(demo_dir(app)),
                ))
                .await
                .map_err(|e| internal(&format!("the demo store did not start: {e:#}")))?,
            };
            // The embedded demo store: its demo account is signed in automatically, so the
            // first-run demo stays one command.
            let mut config = CoreConfig::new(
                profile.data_dir,
                store.url(),
                marquee_store::DEMO_EMAIL,
                marquee_store::DEMO_PASSWORD,
            );
            config.trusted_store_key = Some(store.public_key());
            *demo = Some(store);
            config
        }
    };
    config.playback_listener = state.playback.clone();
    match Core::open(config).await {
        Ok(core) => Ok(core),
        Err(e) => {
            if let Some(store) = demo.take() {
                store.shutdown().await;
            }
            Err(e.into())
        }
    }
}

/// The profile's `settings.json`.
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The store to use instead of the embedded demo store.
    store_url: Option<String>,
}

fn read_settings(path: &std::path::Path) -> Result<Settings, AppError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            internal(&format!(
                "{} is not valid: {e}. Fix or remove it and start Marquee again.",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(internal(&format!("{} cannot be read: {e}", path.display()))),
    }
}

/// Builds the app on a builder (tests pass a mock builder). `playback` is the listener the
/// window's CSP allows media from (see [`with_playback_origin`]).
pub fn build<R: Runtime>(
    builder: tauri::Builder<R>,
    playback: Option<PlaybackListener>,
) -> tauri::Builder<R> {
    let ipc = ipc::<R>();
    let events = ipc.clone();
    builder
        // First: a second launch hands its arguments over and exits before anything else
        // starts (D-Bus on Linux; with no session bus each launch runs on its own).
        .plugin(tauri_plugin_single_instance::init(desktop::second_launch))
        // Registers `magnet:` with the OS (from `plugins.deep-link` in tauri.conf.json); on
        // macOS links arrive as events, elsewhere on the command line.
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(move |app| {
            events.mount_events(app);
            let (tx, _) = watch::channel(None);
            app.manage(AppState {
                core: tx.clone(),
                demo_store: tokio::sync::Mutex::new(None),
                pending: Mutex::new(Some(Vec::new())),
                pending_links: Mutex::new(Some(Vec::new())),
                playback: playback.clone(),
            });
            // Files and links given on the command line (file associations, "Open with
            // Marquee", a browser's magnet link) take the same path as a later launch's.
            let cwd = std::env::current_dir().unwrap_or_default();
            desktop::open(
                app.handle(),
                desktop::opened_from_args(std::env::args().skip(1).collect::<Vec<_>>(), &cwd),
            );
            #[cfg(target_os = "macos")]
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                let handle = app.handle().clone();
                app.deep_link().on_open_url(move |event| {
                    let links = event.urls().iter().map(|u| u.to_string()).collect();
                    desktop::open(
                        &handle,
                        desktop::Opened {
                            files: Vec::new(),
                            links,
                        },
                    );
                });
            }
            // A tray is a nicety: a desktop without one (no StatusNotifier host) still runs.
            if let Err(e) = desktop::tray(app.handle()) {
                tracing::warn!(error = %e, "no tray icon");
            }
            let handle = app.handle().clone();
            // Opening the core starts the demo store and packages its titles: never block the
            // window on it; commands wait for it instead.
            tauri::async_runtime::spawn(async move {
                let opened = match profile(&handle) {
                    Ok(profile) => {
                        if let Err(e) = log::to_file(&profile.data_dir) {
                            tracing::warn!(error = %e, "no log file");
                        }
                        // The first line of this run in the file (the update test reads it).
                        tracing::info!(version = %handle.package_info().version, "Marquee starting");
                        open_core(&handle, profile).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = &opened {
                    tracing::error!(error = %e.message, "the core did not open");
                }
                tx.send_replace(Some(opened));
            });
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Paths come from the OS drop event on the Rust side; the page only ever sees ids.
            WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) => {
                files_arrived(window.app_handle(), paths.clone());
            }
            WindowEvent::CloseRequested { api, .. } if window.label() == "main" => {
                desktop::close_requested(window.app_handle(), api);
            }
            _ => {}
        })
        .invoke_handler(ipc.invoke_handler())
}

/// Every command the page may call and every event it hears: the one list. The invoke handler
/// and the event names come from here at run time; `cargo xtask bindings` writes the UI's typed
/// bindings and the permission each command needs from it (see `bindings.rs`). A command left out
/// here cannot be called at all; one added needs `cargo xtask bindings` (a test fails until then).
pub fn ipc<R: Runtime>() -> tauri_specta::Builder<R> {
    // Generic commands name a runtime only for their TypeScript signature (which does not depend
    // on it): the handler itself stays generic over `R`.
    tauri_specta::Builder::new()
        .commands(tauri_specta::collect_commands![
            catalog_list,
            catalog_search,
            wallet_get,
            account_get,
            account_sign_in,
            account_sign_up,
            account_sign_out,
            account_overview,
            voucher_redeem,
            device_deactivate,
            library_restore,
            library_list,
            title_acquire,
            playback_open,
            playback_report,
            downloads_watch,
            connection_watch,
            downloads_list,
            download_pause,
            download_resume,
            download_remove,
            downloads_limits_get,
            downloads_limits_set,
            drops_pending,
            links_pending,
            update_check::<tauri::Wry>,
            update_install::<tauri::Wry>,
            publish_pick::<tauri::Wry>,
            publish_prepare,
            publish_cancel,
            publish_discard,
            publish_submit,
            title_share,
            title_save_torrent::<tauri::Wry>,
            title_export::<tauri::Wry>,
            magnet_open,
            torrent_preview,
            torrent_import,
            licence_move,
            device_reactivate::<tauri::Wry>,
        ])
        .events(tauri_specta::collect_events![FilesDropped, LinksOpened])
        // Rejections stay rejections: `ui/src/lib/ipc` turns them into `AppError`s, including
        // the bare strings Tauri itself rejects with (a refused permission).
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
}

/// The app's configuration, capabilities and built UI, embedded at compile time.
fn context<R: Runtime>() -> tauri::Context<R> {
    #[allow(unused_mut)]
    let mut context = tauri::generate_context!();
    // The update test needs a build that calls itself newer. `TAURI_CONFIG` would say so, but
    // the `tauri` crate's build script watches that variable too, so raising the version that
    // way rebuilds tauri and every crate above it (about five minutes here); this variable is
    // read by this crate alone. Debug builds only: a release's version is its config's.
    #[cfg(debug_assertions)]
    if let Some(version) = option_env!("MARQUEE_BUILD_VERSION") {
        context.package_info_mut().version = version
            .parse()
            .expect("MARQUEE_BUILD_VERSION is a semantic version");
        context.config_mut().version = Some(version.to_owned());
    }
    context
}

/// The CSP of `tauri.conf.json` with the playback server's exact origin (`http://127.0.0.1:PORT`)
/// added to `media-src` (the `<video>`s) and `connect-src` (anything the page fetches from it),
/// the only loopback port those two allow. The file names none there, so without this nothing
/// plays: the policy fails closed. Other local servers stay out of reach of the page's
/// requests, except as images: see `img-src` in `tauri.conf.json`.
pub fn with_playback_origin(csp: Option<Csp>, origin: &str) -> Csp {
    let mut directives: std::collections::HashMap<String, CspDirectiveSources> =
        csp.map(Into::into).unwrap_or_default();
    for name in ["media-src", "connect-src"] {
        directives
            .entry(name.to_owned())
            .or_insert_with(|| CspDirectiveSources::List(vec!["'self'".to_owned()]))
            .push(origin);
    }
    Csp::DirectiveMap(directives)
}

/// [`context`] with the CSP naming the playback server's origin.
fn context_for<R: Runtime>(playback: &PlaybackListener) -> tauri::Context<R> {
    let mut context = context::<R>();
    let security = &mut context.config_mut().app.security;
    security.csp = Some(with_playback_origin(
        security.csp.take(),
        &playback.origin(),
    ));
    context
}

/// Runs the app.
pub fn run() {
    log::init();
    // Bound before the window exists: its CSP allows media from this port and no other.
    let playback =
        PlaybackListener::bind_loopback().expect("binding the playback server on 127.0.0.1");
    let context = context_for(&playback);
    build(tauri::Builder::default(), Some(playback))
        .run(context)
        .expect("error while running Marquee");
}

#[cfg(test)]
mod tests {
    use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindow;

    use super::*;

    /// The real app (its capabilities and the generated permissions) on the mock runtime, with
    /// a core that never opens: only commands that do not need it can succeed.
    fn app() -> tauri::App<MockRuntime> {
        let (core, _) = watch::channel(Some(Err(internal("no core in this test"))));
        mock_builder()
            .manage(AppState {
                core,
                demo_store: tokio::sync::Mutex::new(None),
                pending: Mutex::new(Some(Vec::new())),
                pending_links: Mutex::new(Some(Vec::new())),
                playback: None,
            })
            .invoke_handler(ipc().invoke_handler())
            .build(context())
            .expect("the app builds")
    }

    fn window(app: &tauri::App<MockRuntime>, label: &str) -> WebviewWindow<MockRuntime> {
        app.get_webview_window(label).unwrap_or_else(|| {
            tauri::WebviewWindowBuilder::new(app, label, Default::default())
                .build()
                .expect("a window")
        })
    }

    fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str) -> Result<(), String> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().expect("a URL"),
            body: tauri::ipc::InvokeBody::default(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(window, request)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn commands_run_only_where_a_capability_grants_them() {
        let app = app();
        let main = window(&app, "main");
        assert_eq!(invoke(&main, "drops_pending"), Ok(()));
        // No capability names this window.
        let other = window(&app, "other");
        let refused = invoke(&other, "drops_pending").expect_err("refused");
        assert!(refused.contains("not allowed"), "{refused}");
        // A command the permissions do not list is refused before any handler sees it, as one
        // added to the handler without `cargo xtask bindings` would be.
        let refused = invoke(&main, "not_a_command").expect_err("refused");
        assert!(refused.contains("not allowed"), "{refused}");
    }

    /// The permissions the window's capabilities grant, as written.
    fn granted() -> Vec<String> {
        let json: serde_json::Value =
            serde_json::from_str(include_str!("capabilities/default.json")).expect("JSON");
        assert_eq!(
            std::fs::read_dir(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src-tauri/capabilities"
            ))
            .unwrap()
            .count(),
            1,
            "default.json is the only capability"
        );
        json["permissions"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|p| p.as_str().expect("a permission name").to_owned())
            .collect()
    }

    #[test]
    fn the_window_gets_only_the_permissions_the_ui_uses() {
        let granted = granted();
        for broad in [
            "core:default",
            "core:window:default",
            "core:webview:default",
            "core:app:default",
            "core:path:default",
            "core:event:default",
        ] {
            assert!(!granted.iter().any(|p| p == broad), "{broad} is granted");
        }
        // The UI listens to events (its own and the drag-and-drop overlay's) and calls the
        // app's commands; nothing else.
        assert_eq!(
            granted,
            [
                "core:event:allow-listen",
                "core:event:allow-unlisten",
                "ui-commands"
            ]
        );
        // Through the real ACL: commands the dropped sets granted are refused, listening is not.
        let app = app();
        let main = window(&app, "main");
        for cmd in [
            "plugin:window|title",
            "plugin:webview|internal_toggle_devtools",
            "plugin:event|emit",
        ] {
            let refused = invoke(&main, cmd).expect_err("refused");
            assert!(refused.contains("not allowed"), "{cmd}: {refused}");
        }
        if let Err(e) = invoke(&main, "plugin:event|listen") {
            assert!(!e.contains("not allowed"), "listening is allowed: {e}");
        }
    }

    /// One directive of a policy, as its sources.
    fn directive(policy: &str, name: &str) -> Vec<String> {
        policy
            .split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_csp_locks_the_page_down_and_names_the_playback_port() {
        let playback = PlaybackListener::bind_loopback().unwrap();
        let origin = playback.origin();
        let context = context_for::<MockRuntime>(&playback);
        let policy = context
            .config()
            .app
            .security
            .csp
            .as_ref()
            .expect("a CSP")
            .to_string();
        for (name, sources) in [
            ("object-src", "'none'"),
            ("base-uri", "'none'"),
            ("form-action", "'none'"),
            ("frame-ancestors", "'none'"),
        ] {
            assert_eq!(directive(&policy, name), [sources], "{policy}");
        }
        for name in ["media-src", "connect-src"] {
            let sources = directive(&policy, name);
            assert!(
                sources.contains(&origin),
                "{name} allows {origin}: {policy}"
            );
            assert!(
                !sources.iter().any(|s| s.contains('*')),
                "{name} allows no wildcard port: {policy}"
            );
        }
        assert!(!directive(&policy, "script-src")
            .iter()
            .any(|s| s.contains("unsafe")));
        // Built, the app serves exactly this policy.
        let app = mock_builder().build(context).expect("the app builds");
        let served = app.config().app.security.csp.as_ref().unwrap().to_string();
        assert!(
            directive(&served, "media-src").contains(&origin),
            "{served}"
        );
    }
}
