//! The Marquee desktop shell: a thin Tauri layer over [`marquee_core::Core`]. Each command is a
//! few lines that call the core and turn its errors into `{kind, message}` for the UI.

use std::path::PathBuf;
use std::time::Duration;

use marquee_core::api::{
    AcquireResult, AppError, DownloadProgress, ErrorKind, LibraryEntry, PlaybackSource, Title,
    Wallet,
};
use marquee_core::{Core, CoreConfig, StoreSource};
use tauri::ipc::Channel;
use tauri::{Manager, Runtime, State};
use tokio::sync::watch;

/// The core, once it has opened (or why it could not).
pub struct AppState {
    core: watch::Receiver<Option<Result<Core, AppError>>>,
}

impl AppState {
    /// Waits for the core to open.
    async fn core(&self) -> Result<Core, AppError> {
        let mut rx = self.core.clone();
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
async fn catalog_list(state: State<'_, AppState>) -> Result<Vec<Title>, AppError> {
    Ok(state.core().await?.catalog_list().await?)
}

/// The wallet.
#[tauri::command]
async fn wallet_get(state: State<'_, AppState>) -> Result<Wallet, AppError> {
    Ok(state.core().await?.wallet_get().await?)
}

/// The library.
#[tauri::command]
async fn library_list(state: State<'_, AppState>) -> Result<Vec<LibraryEntry>, AppError> {
    Ok(state.core().await?.library_list().await?)
}

/// Rent, buy or get a free title.
#[tauri::command]
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
async fn playback_open(
    state: State<'_, AppState>,
    title_id: String,
) -> Result<PlaybackSource, AppError> {
    Ok(state.core().await?.playback_open(&title_id).await?)
}

/// Report the playback position (and the first frame).
#[tauri::command]
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

/// Where the demo catalog is: bundled as a resource in installers, the source tree otherwise.
fn demo_dir<R: Runtime>(app: &tauri::AppHandle<R>) -> PathBuf {
    app.path()
        .resource_dir()
        .ok()
        .map(|d| d.join("demo"))
        .filter(|d| d.join("catalog.json").exists())
        .unwrap_or_else(marquee_store::bundled_demo_dir)
}

/// The core's configuration: `MARQUEE_DATA_DIR` overrides the profile folder and
/// `MARQUEE_STORE_URL` points the app at a store instead of the embedded demo store.
fn config<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<CoreConfig, AppError> {
    let data_dir = match std::env::var_os("MARQUEE_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => app
            .path()
            .app_data_dir()
            .map_err(|e| internal(&format!("no data folder: {e}")))?,
    };
    let mut config = CoreConfig::demo(data_dir, demo_dir(app));
    if let Ok(url) = std::env::var("MARQUEE_STORE_URL") {
        config.store = StoreSource::Remote { url };
    }
    Ok(config)
}

/// Builds the app on a builder (tests pass a mock builder).
pub fn build<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .setup(|app| {
            let (tx, rx) = watch::channel(None);
            app.manage(AppState { core: rx });
            let handle = app.handle().clone();
            // Opening the core starts the demo store and packages its titles: never block the
            // window on it; commands wait for it instead.
            tauri::async_runtime::spawn(async move {
                let opened = match config(&handle) {
                    Ok(config) => Core::open(config).await.map_err(AppError::from),
                    Err(e) => Err(e),
                };
                if let Err(e) = &opened {
                    tracing::error!(error = %e.message, "the core did not open");
                }
                let _ = tx.send(Some(opened));
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            catalog_list,
            wallet_get,
            library_list,
            title_acquire,
            playback_open,
            playback_report,
            downloads_watch
        ])
}

/// Runs the app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,librqbit=warn,librqbit_core=warn".into()),
        )
        .init();
    build(tauri::Builder::default())
        .run(tauri::generate_context!())
        .expect("error while running Marquee");
}
