//! Files from the desktop: drops and "Open with Marquee" reach the core as paths on the Rust
//! side and the page as ids; the system's file dialogs for picking videos (to publish, or to go
//! live with) and for saving a free title or its `.torrent`.

use std::path::PathBuf;

use marquee_core::api::{AppError, DroppedFile};
use marquee_core::Core;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::DialogExt;
use tauri_specta::Event;

use crate::state::{internal, AppState};

/// The event that tells the page files were dropped (or opened with the app): `files-dropped`,
/// with the files by id.
#[derive(Clone, Debug, serde::Serialize, specta::Type, tauri_specta::Event)]
pub struct FilesDropped(pub Vec<DroppedFile>);

/// Registers dropped or opened files with the core and tells the page about them by id.
pub(crate) fn files_arrived<R: Runtime>(app: &AppHandle<R>, paths: Vec<PathBuf>) {
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

/// Lets the person pick videos or torrent files with the system's file dialog; the paths stay
/// on the Rust side and the page gets ids.
pub(crate) async fn pick<R: Runtime>(
    app: &AppHandle<R>,
    core: &Core,
) -> Result<Vec<DroppedFile>, AppError> {
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

/// Lets the person pick one WebM video to go live with; the path stays on the Rust side and the
/// page gets an id, or `None` when the person cancelled.
pub(crate) async fn pick_live<R: Runtime>(
    app: &AppHandle<R>,
    core: &Core,
) -> Result<Option<DroppedFile>, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .add_filter("WebM and MP4 videos", &["webm", "mp4", "m4v"])
        .pick_file(move |picked| {
            let _ = tx.send(picked);
        });
    let picked = rx.await.map_err(|_| internal("the file dialog closed"))?;
    Ok(picked
        .and_then(|f| f.into_path().ok())
        .map(|p| core.drop_register(p)))
}

/// Asks where to save, then writes a free title's `.torrent` there; the path, or `None` when
/// the person cancelled.
pub(crate) async fn save_torrent<R: Runtime>(
    app: &AppHandle<R>,
    core: &Core,
    title_id: &str,
) -> Result<Option<String>, AppError> {
    let bytes = core.torrent_file(title_id).await?;
    let (_, torrent_name) = core.export_names(title_id).await?;
    let Some(path) = save_dialog(app, &torrent_name).await? else {
        return Ok(None);
    };
    std::fs::write(&path, bytes).map_err(|e| internal(&format!("saving the torrent: {e}")))?;
    Ok(Some(path.display().to_string()))
}

/// Asks where to save, then copies a free title's file there; the path, or `None` when the
/// person cancelled.
pub(crate) async fn export<R: Runtime>(
    app: &AppHandle<R>,
    core: &Core,
    title_id: &str,
) -> Result<Option<String>, AppError> {
    let (file_name, _) = core.export_names(title_id).await?;
    let Some(path) = save_dialog(app, &file_name).await? else {
        return Ok(None);
    };
    core.title_export(title_id, &path).await?;
    Ok(Some(path.display().to_string()))
}

async fn save_dialog<R: Runtime>(
    app: &AppHandle<R>,
    name: &str,
) -> Result<Option<PathBuf>, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_file_name(name).save_file(move |p| {
        let _ = tx.send(p);
    });
    let picked = rx.await.map_err(|_| internal("the file dialog closed"))?;
    Ok(picked.and_then(|p| p.into_path().ok()))
}
