//! The app as a desktop citizen: one running instance that later launches hand their files and
//! links to, `magnet:` links from the desktop or a browser, and a tray icon that keeps titles
//! seeding after the window is closed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use marquee_core::api::{DownloadItem, DownloadState};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event;

use crate::publish::files_arrived;
use crate::state::AppState;

/// The event that tells the page `magnet:` links were opened with the app (from a browser, the
/// desktop or a second launch): `links-opened`, with the links as given.
#[derive(Clone, Debug, serde::Serialize, specta::Type, tauri_specta::Event)]
pub struct LinksOpened(pub Vec<String>);

/// The tray icon's id.
const TRAY: &str = "main";
/// Tray menu ids.
const MENU_SHOW: &str = "show";
const MENU_QUIT: &str = "quit";

/// What a launch was asked to open: files (a `.torrent` from "Open with", a video) and
/// `magnet:` links. Anything else on the command line is ignored.
#[derive(Debug, Default, PartialEq)]
pub struct Opened {
    pub files: Vec<PathBuf>,
    pub links: Vec<String>,
}

/// Splits a launch's arguments (without the program name) into files and links; relative
/// paths are taken from `cwd`, the folder the launch ran in (a second launch's folder is not
/// this process's).
pub fn opened_from_args<I, S>(args: I, cwd: &Path) -> Opened
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut opened = Opened::default();
    for arg in args {
        let arg = arg.as_ref();
        // The scheme is case-insensitive (RFC 3986); the rest is the core's to check.
        // `get`, not indexing: byte 7 of a file name may fall inside a character.
        if arg.len() > 7
            && arg
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("magnet:"))
        {
            opened.links.push(arg.to_owned());
            continue;
        }
        let path = cwd.join(arg);
        if path.is_file() {
            opened.files.push(path);
        }
    }
    opened
}

/// Hands what a launch opened to the page: files through the drop path, links through
/// [`LinksOpened`] (kept until the page first asks, for links that arrive before it listens).
pub fn open<R: Runtime>(app: &AppHandle<R>, opened: Opened) {
    files_arrived(app, opened.files);
    if opened.links.is_empty() {
        return;
    }
    let state = app.state::<AppState>();
    if let Some(pending) = state.pending_links.lock().expect("pending links").as_mut() {
        pending.extend(opened.links.iter().cloned());
    }
    let _ = LinksOpened(opened.links).emit(app);
}

/// A later launch of Marquee: bring the window back (it may be hidden in the tray) and open
/// what that launch was given.
pub fn second_launch<R: Runtime>(app: &AppHandle<R>, argv: Vec<String>, cwd: String) {
    show_window(app);
    open(
        app,
        opened_from_args(argv.into_iter().skip(1), Path::new(&cwd)),
    );
}

/// Shows, restores and focuses the main window.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Whether closing the window should keep the app running in the tray: something is
/// downloading or seeding, which stops with the app.
pub fn keeps_running(items: &[DownloadItem]) -> bool {
    items.iter().any(|i| {
        matches!(
            i.progress.state,
            DownloadState::Downloading | DownloadState::Seeding | DownloadState::Queued
        )
    })
}

/// The tray's one line about transfers: what is downloading (and how far in all), else how
/// many titles are shared, else that nothing is.
pub fn tray_summary(items: &[DownloadItem]) -> String {
    let downloading: Vec<&DownloadItem> = items
        .iter()
        .filter(|i| {
            matches!(
                i.progress.state,
                DownloadState::Downloading | DownloadState::Queued
            )
        })
        .collect();
    let seeding = items
        .iter()
        .filter(|i| i.progress.state == DownloadState::Seeding)
        .count();
    if !downloading.is_empty() {
        let total: u64 = downloading.iter().map(|i| i.progress.total_bytes).sum();
        let done: u64 = downloading
            .iter()
            .map(|i| i.progress.downloaded_bytes)
            .sum();
        let percent = (done * 100).checked_div(total).unwrap_or(0);
        let what = match downloading.as_slice() {
            [one] => one.name.clone(),
            many => format!("{} titles", many.len()),
        };
        format!("Downloading {what}: {percent}%")
    } else if seeding > 0 {
        format!(
            "Sharing {seeding} {} with other viewers",
            if seeding == 1 { "title" } else { "titles" }
        )
    } else {
        "Nothing downloading".to_owned()
    }
}

/// The tray's line while this computer broadcasts: it comes before transfers, as it is what
/// keeps Marquee running.
pub fn broadcast_summary(title: &str, viewers: u64) -> String {
    format!(
        "Live: “{title}”, {viewers} {}",
        if viewers == 1 { "viewer" } else { "viewers" }
    )
}

/// Puts Marquee in the tray: a line about the broadcast or the transfers, "Show Marquee" and
/// "Quit". The line is refreshed every two seconds while the app runs.
pub fn tray<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, MENU_SHOW, "Show Marquee", true, None::<&str>)?,
            &MenuItem::with_id(app, MENU_QUIT, "Quit", true, None::<&str>)?,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .tooltip("Marquee")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            MENU_SHOW => show_window(app),
            MENU_QUIT => quit(app),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(core) = app.state::<AppState>().core().await else {
            return;
        };
        loop {
            if let Some((title, viewers)) = core.live_broadcasting().await {
                let _ = status.set_text(broadcast_summary(&title, viewers));
            } else if let Ok(items) = core.downloads_list().await {
                let _ = status.set_text(tray_summary(&items));
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
    Ok(())
}

/// The window's close button: a live channel being watched is left; with transfers or a
/// broadcast running the window hides and the app stays in the tray; otherwise the app quits
/// cleanly.
pub fn close_requested<R: Runtime>(app: &AppHandle<R>, api: &tauri::CloseRequestApi) {
    // Decided off the UI thread: the core may still be opening.
    api.prevent_close();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let ready = app.state::<AppState>().core.borrow().clone();
        let busy = match ready {
            Some(Ok(core)) => {
                // Watching a channel ends with the window; seeding and broadcasting do not.
                core.live_leave().await;
                core.live_broadcasting().await.is_some()
                    || core
                        .downloads_list()
                        .await
                        .map(|items| keeps_running(&items))
                        .unwrap_or(false)
            }
            _ => false,
        };
        match app.get_webview_window("main") {
            Some(window) if busy => {
                let _ = window.hide();
            }
            _ => quit(&app),
        }
    });
}

/// Quits: stops the torrent session (peers are told we left, the database is closed) and the
/// embedded demo store, then exits.
pub fn quit<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let ready = state.core.borrow().clone();
        if let Some(Ok(core)) = ready {
            core.shutdown().await;
        }
        if let Some(store) = state.demo_store.lock().await.take() {
            store.shutdown().await;
        }
        app.exit(0);
    });
}

/// WebKitGTK runs the page in a process of its own. When that process ends (a crash in a media
/// pipeline, the memory limit), the window would stay blank: say why in the log and load the
/// page again. The core, and with it downloads, seeding and a broadcast, keep running.
#[cfg(target_os = "linux")]
pub fn reload_when_the_page_dies<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let attached = window.with_webview(|page| {
        use webkit2gtk::WebViewExt as _;
        page.inner().connect_web_process_terminated(|view, reason| {
            tracing::error!(
                ?reason,
                "the window's web process ended: loading the page again"
            );
            view.reload();
        });
    });
    if let Err(e) = attached {
        tracing::warn!(error = %e, "cannot watch the window's web process");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_core::api::{DownloadProgress, TitleKind, TitleOrigin};

    fn item(name: &str, state: DownloadState, done: u64, total: u64) -> DownloadItem {
        DownloadItem {
            name: name.to_owned(),
            kind: TitleKind::Film,
            origin: TitleOrigin::Store,
            height: 480,
            progress: DownloadProgress {
                title_id: name.to_owned(),
                state,
                downloaded_bytes: done,
                total_bytes: total,
                down_bytes_per_s: 0,
                up_bytes_per_s: 0,
                peers: 0,
                error: None,
            },
            eta_s: None,
            files_deletable: true,
            queue_position: None,
            give_back: Default::default(),
        }
    }

    #[test]
    fn a_launch_opens_magnet_links_and_existing_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.torrent"), b"d4:infod").unwrap();
        let opened = opened_from_args(
            [
                "a.torrent",
                "missing.torrent",
                "MAGNET:?xt=urn:btih:0123",
                "--flag",
                "magnet:",
                "é-é-é-é.torrent",
            ],
            dir.path(),
        );
        assert_eq!(opened.files, vec![dir.path().join("a.torrent")]);
        assert_eq!(opened.links, vec!["MAGNET:?xt=urn:btih:0123".to_owned()]);
    }

    #[test]
    fn the_tray_says_what_is_downloading_else_what_is_shared() {
        assert_eq!(tray_summary(&[]), "Nothing downloading");
        assert!(!keeps_running(&[item("a", DownloadState::Paused, 1, 2)]));
        let seeding = [item("a", DownloadState::Seeding, 2, 2)];
        assert_eq!(tray_summary(&seeding), "Sharing 1 title with other viewers");
        assert_eq!(
            broadcast_summary("Evening Show", 1),
            "Live: “Evening Show”, 1 viewer"
        );
        assert_eq!(
            broadcast_summary("Evening Show", 12),
            "Live: “Evening Show”, 12 viewers"
        );
        assert!(keeps_running(&seeding));
        let one = [
            item("Neon Harbor", DownloadState::Downloading, 25, 100),
            item("b", DownloadState::Seeding, 2, 2),
        ];
        assert_eq!(tray_summary(&one), "Downloading Neon Harbor: 25%");
        let two = [
            item("a", DownloadState::Downloading, 50, 100),
            item("b", DownloadState::Queued, 0, 100),
        ];
        assert_eq!(tray_summary(&two), "Downloading 2 titles: 25%");
    }
}
