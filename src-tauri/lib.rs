//! The Marquee desktop shell: a thin Tauri layer over [`marquee_core::Core`]. Each command is
//! one line of the table in [`commands`], which also makes the UI's typed bindings and the
//! permission each command needs (`cargo xtask bindings`, see `bindings.rs`).
//!
//! The rest, by concern: [`state`] (the opened core and the profile), [`publish`] (files from
//! the desktop and the file dialogs), [`progress`] (what the window is kept told of),
//! [`desktop`] (one instance, links, the tray), [`updates`], [`security`] (the CSP) and
//! [`log`].

use tauri::{DragDropEvent, Manager, Runtime, WindowEvent};
use tokio::sync::watch;

use marquee_core::playback::PlaybackListener;

#[cfg(test)]
mod bindings;
mod commands;
mod data_folder;
mod desktop;
mod language;
mod log;
mod progress;
mod publish;
mod security;
mod settings;
mod state;
mod updates;

pub use commands::ipc;
pub use desktop::LinksOpened;
pub use publish::FilesDropped;
pub use security::with_playback_origin;
pub use state::AppState;

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
        .plugin(language::Languages::default())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(move |app| {
            events.mount_events(app);
            let (tx, _) = watch::channel(None);
            app.manage(AppState::new(tx.clone(), playback.clone()));
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
            #[cfg(target_os = "linux")]
            desktop::reload_when_the_page_dies(app.handle());
            // A tray is a nicety: a desktop without one (no StatusNotifier host) still runs.
            if let Err(e) = desktop::tray(app.handle()) {
                tracing::warn!(error = %e, "no tray icon");
            }
            let handle = app.handle().clone();
            // Opening the core starts the demo store and packages its titles: never block the
            // window on it; commands wait for it instead.
            tauri::async_runtime::spawn(async move {
                let opened = match state::profile(&handle) {
                    Ok(profile) => {
                        if let Err(e) = log::to_file(&profile.data_dir) {
                            tracing::warn!(error = %e, "no log file");
                        }
                        // The first line of this run in the file (the update test reads it).
                        tracing::info!(version = %handle.package_info().version, "Marquee starting");
                        state::open_core(&handle, profile).await
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
                publish::files_arrived(window.app_handle(), paths.clone());
            }
            WindowEvent::CloseRequested { api, .. } if window.label() == "main" => {
                desktop::close_requested(window.app_handle(), api);
            }
            _ => {}
        })
        .invoke_handler(ipc.invoke_handler())
}

/// The app's configuration, capabilities and built UI, embedded at compile time.
pub(crate) fn context<R: Runtime>() -> tauri::Context<R> {
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

/// Runs the app.
pub fn run() {
    log::init();
    // Bound before the window exists: its CSP allows media from this port and no other.
    let playback =
        PlaybackListener::bind_loopback().expect("binding the playback server on 127.0.0.1");
    let context = security::context_for(context(), &playback);
    build(tauri::Builder::default(), Some(playback))
        .run(context)
        .expect("error while running Marquee");
}
