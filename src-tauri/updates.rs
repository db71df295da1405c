//! Updates: at start the page asks whether a newer Marquee is published; it shows what is new
//! and installs only when the person agrees. The update manifest and the package are checked
//! against the release key compiled into the app (minisign, through `tauri-plugin-updater`), and
//! the signature must name the version the manifest announces, so an old signed release cannot
//! be passed off as new. A refused update changes nothing: the installed version keeps working.
//!
//! Where updates come from is set at release time (`plugins.updater` in `tauri.conf.json`,
//! patched by `.github/workflows/release.yml` with the release key and the release feed);
//! a build without them has no update channel and says so by checking nothing. Debug builds
//! also read `MARQUEE_UPDATE_ENDPOINT` and `MARQUEE_UPDATE_PUBKEY`, so the tests can serve a
//! signed update from loopback; release builds ignore both.

use marquee_core::api::{AppError, ErrorKind};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_updater::UpdaterExt;

/// A newer version, as the page shows it.
#[derive(Clone, Debug, serde::Serialize, specta::Type)]
pub struct UpdateInfo {
    /// The version on offer.
    pub version: String,
    /// The running version.
    pub current_version: String,
    /// What is new, as the release says it (plain text).
    pub notes: Option<String>,
}

fn refused(message: String) -> AppError {
    AppError {
        kind: ErrorKind::UpdateRefused,
        // The whole sentence is the UI's text too (`errors.text.update_refused` is `{{detail}}`).
        params: [("detail".to_owned(), message.clone())].into(),
        message,
    }
}

/// The updater with the channel this build uses, or `None` when it has none.
fn updater<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<Option<tauri_plugin_updater::Updater>, AppError> {
    // Only debug builds change the updater (the update test's endpoint and key).
    #[cfg_attr(not(debug_assertions), allow(unused_mut))]
    let mut builder = app.updater_builder();
    #[cfg(debug_assertions)]
    {
        if let Ok(key) = std::env::var("MARQUEE_UPDATE_PUBKEY") {
            builder = builder.pubkey(key);
        }
        if let Ok(url) = std::env::var("MARQUEE_UPDATE_ENDPOINT") {
            let url = url
                .parse()
                .map_err(|e| refused(format!("MARQUEE_UPDATE_ENDPOINT is not a URL: {e}")))?;
            builder = builder
                .endpoints(vec![url])
                .map_err(|e| refused(e.to_string()))?;
        }
    }
    match builder.build() {
        Ok(updater) => Ok(Some(updater)),
        // No feed configured: a development build.
        Err(tauri_plugin_updater::Error::EmptyEndpoints) => Ok(None),
        Err(e) => Err(refused(format!("Marquee cannot check for updates: {e}"))),
    }
}

/// Whether a newer Marquee is published; `None` when this is the newest, or the build has no
/// update channel.
pub async fn check<R: Runtime>(app: &AppHandle<R>) -> Result<Option<UpdateInfo>, AppError> {
    let Some(updater) = updater(app)? else {
        return Ok(None);
    };
    let update = updater.check().await.map_err(|e| {
        refused(format!(
            "The update server's answer was not accepted ({e}). Marquee {} keeps working; it checks again at the next start.",
            app.package_info().version
        ))
    })?;
    Ok(update.map(|u| UpdateInfo {
        version: u.version.clone(),
        current_version: u.current_version.clone(),
        notes: u.body.clone(),
    }))
}

/// Downloads the update, checks its signature, installs it and restarts into it. A package
/// whose signature does not match is refused before anything is installed.
pub async fn install<R: Runtime>(app: &AppHandle<R>) -> Result<(), AppError> {
    let current = app.package_info().version.to_string();
    let Some(updater) = updater(app)? else {
        return Err(refused(
            "This build of Marquee has no update channel.".into(),
        ));
    };
    let Some(update) = updater.check().await.map_err(|e| {
        refused(format!(
            "The update server's answer was not accepted ({e}). Marquee {current} keeps working."
        ))
    })?
    else {
        return Err(refused(format!("Marquee {current} is the newest version.")));
    };
    let version = update.version.clone();
    tracing::info!(%version, "downloading the update");
    let signature_refused = |e: &tauri_plugin_updater::Error| {
        matches!(
            e,
            tauri_plugin_updater::Error::Minisign(_)
                | tauri_plugin_updater::Error::SignatureUtf8(_)
                | tauri_plugin_updater::Error::SignedVersionMismatch { .. }
                | tauri_plugin_updater::Error::MissingSignedVersion
        )
    };
    let bytes = update.download(|_, _| {}, || {}).await.map_err(|e| {
        if signature_refused(&e) {
            tracing::warn!(%version, error = %e, "update refused: bad signature");
            refused(format!(
                "The download of Marquee {version} is not signed by Marquee's release key, so it was not installed. Marquee {current} keeps working."
            ))
        } else {
            refused(format!(
                "Marquee {version} could not be downloaded ({e}). Marquee {current} keeps working; try again later."
            ))
        }
    })?;
    let state = app.state::<crate::state::AppState>();
    let core = state.core.borrow().clone().and_then(Result::ok);
    // Windows: the installer replaces files in use, and `install` exits the app once it has
    // started it, so the session stops first. Elsewhere the package manager swaps the files
    // under the running app, which keeps working if the install fails.
    #[cfg(windows)]
    if let Some(core) = &core {
        core.shutdown().await;
    }
    update.install(bytes).map_err(|e| {
        refused(format!(
            "Marquee {version} could not be installed ({e}). Marquee {current} keeps working."
        ))
    })?;
    #[cfg(not(windows))]
    if let Some(core) = &core {
        core.shutdown().await;
    }
    tracing::info!(%version, "update installed; restarting");
    app.restart();
}
