//! What the shell holds while it runs: the core once it has opened (or why it could not), the
//! embedded demo store, and files and links that arrived before the page listened; and how the
//! core is opened on this run's profile.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use marquee_core::api::{AppError, DroppedFile, ErrorKind};
use marquee_core::playback::PlaybackListener;
use marquee_core::{Core, CoreConfig};
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

/// The core, once it has opened (or why it could not), the demo store this run started, and
/// files that arrived before the page was listening.
pub struct AppState {
    pub(crate) core: watch::Sender<Option<Result<Core, AppError>>>,
    /// The embedded demo store, while it runs (never when another store is configured).
    pub(crate) demo_store: tokio::sync::Mutex<Option<marquee_store::Store>>,
    /// Files that arrived before the page first asked for them; `None` once it has (from then
    /// on the page hears of files through the event alone).
    pub(crate) pending: Mutex<Option<Vec<DroppedFile>>>,
    /// Links that arrived before the page first asked for them, like `pending`.
    pub(crate) pending_links: Mutex<Option<Vec<String>>>,
    /// The playback server's listener, bound before the window so its CSP names the origin;
    /// the core takes it when it opens.
    pub(crate) playback: Option<PlaybackListener>,
}

impl AppState {
    /// A state whose core is `core` (`None` while it opens).
    pub(crate) fn new(
        core: watch::Sender<Option<Result<Core, AppError>>>,
        playback: Option<PlaybackListener>,
    ) -> AppState {
        AppState {
            core,
            demo_store: tokio::sync::Mutex::new(None),
            pending: Mutex::new(Some(Vec::new())),
            pending_links: Mutex::new(Some(Vec::new())),
            playback,
        }
    }

    /// Waits for the core to open.
    pub(crate) async fn core(&self) -> Result<Core, AppError> {
        let mut rx = self.core.subscribe();
        let ready = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| internal("the core stopped"))?;
        ready.clone().expect("checked by wait_for")
    }

    /// Files dropped or opened before the page first asked; taken once.
    pub(crate) fn take_pending_drops(&self) -> Vec<DroppedFile> {
        take_pending(&self.pending)
    }

    /// Links opened before the page first asked; taken once.
    pub(crate) fn take_pending_links(&self) -> Vec<String> {
        take_pending(&self.pending_links)
    }
}

/// What a pending list holds, leaving `None` behind: later arrivals go by event alone.
fn take_pending<T>(pending: &Mutex<Option<Vec<T>>>) -> Vec<T> {
    pending
        .lock()
        .expect("a pending list")
        .take()
        .unwrap_or_default()
}

/// An error of the shell itself, as the UI gets it: the UI shows `message` as it is
/// (`errors.text.internal_shell`).
pub(crate) fn internal(message: &str) -> AppError {
    AppError {
        kind: ErrorKind::Internal,
        message: message.to_owned(),
        params: [
            ("detail".to_owned(), message.to_owned()),
            ("variant".to_owned(), "shell".to_owned()),
        ]
        .into(),
    }
}

/// Where the demo catalog is: bundled as a resource in installers, the source tree otherwise.
fn demo_dir<R: Runtime>(app: &AppHandle<R>) -> PathBuf {
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
pub(crate) struct Profile {
    pub(crate) data_dir: PathBuf,
    /// `None`: the embedded demo store.
    store_url: Option<String>,
}

/// `MARQUEE_DATA_DIR` overrides the profile folder, and the store is the one named by
/// `MARQUEE_STORE_URL`, else by `store_url` in the profile's `settings.json`, else the embedded
/// demo store.
pub(crate) fn profile<R: Runtime>(app: &AppHandle<R>) -> Result<Profile, AppError> {
    let data_dir = data_dir(app)?;
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
pub(crate) async fn open_core<R: Runtime>(
    app: &AppHandle<R>,
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

/// Registers this computer as a new device when the profile was made on another one: the old
/// device key is kept aside, the library stays, and the core opens again.
pub(crate) async fn reactivate_device<R: Runtime>(app: &AppHandle<R>) -> Result<(), AppError> {
    let profile = profile(app)?;
    marquee_core::identity::set_aside_device_key(
        &profile.data_dir,
        marquee_core::time::unix_now(),
    )?;
    let state = app.state::<AppState>();
    state.core.send_replace(None);
    let opened = open_core(app, profile).await;
    state.core.send_replace(Some(opened.clone()));
    opened.map(drop)
}

/// The profile's `settings.json`.
#[derive(Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The store to use instead of the embedded demo store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    store_url: Option<String>,
    /// The window's language, once the person chose one on the settings page (a BCP 47 tag the
    /// page speaks); the system's until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

/// The profile's folder: where the home folder's `data-folder.json` points after a move
/// (`data_folder.rs`), else the home folder itself.
pub(crate) fn data_dir<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf, AppError> {
    crate::data_folder::resolve(home_dir(app)?)
}

/// The folder Marquee starts from: `MARQUEE_DATA_DIR`, else the app's data folder.
pub(crate) fn home_dir<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf, AppError> {
    match std::env::var_os("MARQUEE_DATA_DIR") {
        Some(d) => Ok(PathBuf::from(d)),
        None => app
            .path()
            .app_data_dir()
            .map_err(|e| internal(&format!("no data folder: {e}"))),
    }
}

/// The language the person chose for the window in the profile at `data_dir`, if they did.
pub(crate) fn chosen_language(data_dir: &Path) -> Option<String> {
    read_settings(&data_dir.join("settings.json"))
        .ok()
        .and_then(|s| s.language)
}

/// Keeps `language` as the person's choice in the profile at `data_dir`, beside the other
/// settings.
pub(crate) fn choose_language(data_dir: &Path, language: &str) -> Result<(), AppError> {
    change_settings(data_dir, |s| s.language = Some(language.to_owned()))
}

/// Keeps `store_url` as the store the profile at `data_dir` buys from (`None`: the embedded
/// demo store) from the next start on.
pub(crate) fn choose_store(data_dir: &Path, store_url: Option<&str>) -> Result<(), AppError> {
    change_settings(data_dir, |s| s.store_url = store_url.map(str::to_owned))
}

/// Changes the profile's settings, written whole to a new file, then moved over the old one.
fn change_settings(data_dir: &Path, change: impl FnOnce(&mut Settings)) -> Result<(), AppError> {
    let path = data_dir.join("settings.json");
    let mut settings = read_settings(&path)?;
    change(&mut settings);
    let bytes = serde_json::to_vec_pretty(&settings).expect("settings serialise");
    let fresh = data_dir.join("settings.json.new");
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&fresh, bytes))
        .and_then(|()| std::fs::rename(&fresh, &path))
        .map_err(|e| internal(&format!("{} cannot be written: {e}", path.display())))
}

fn read_settings(path: &Path) -> Result<Settings, AppError> {
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
