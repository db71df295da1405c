//! What the window is kept told of over `tauri::ipc::Channel`s: download progress and whether
//! the store answers. Each feed runs until the page drops its channel (a reload, the window
//! closed).

use std::time::Duration;

use marquee_core::api::{Connection, DownloadProgress};
use marquee_core::Core;
use tauri::ipc::Channel;

/// Sends every title's download progress twice a second.
pub(crate) fn downloads(core: Core, on_progress: Channel<Vec<DownloadProgress>>) {
    tauri::async_runtime::spawn(async move {
        loop {
            if on_progress.send(core.downloads()).is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}

/// Sends whether the store answers: now, and at every change.
pub(crate) fn connection(core: Core, on_change: Channel<Connection>) {
    tauri::async_runtime::spawn(async move {
        let mut changes = core.connection_watch();
        loop {
            let now = changes.borrow_and_update().clone();
            if on_change.send(now).is_err() || changes.changed().await.is_err() {
                break;
            }
        }
    });
}
