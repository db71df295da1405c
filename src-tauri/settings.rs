//! What the settings page changes beyond the language (`language.rs`): the store Marquee buys
//! from. The store is chosen when the core opens, so a new one takes a restart: the person is
//! signed out of the old store first (a session belongs to its store), the choice is kept in the
//! profile's `settings.json`, and Marquee starts again on it.

use marquee_core::api::{AppError, ErrorKind};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::{self, AppState};

/// A setting refused: the English `message` for the log, and for the page the `variant` of
/// `errors.text.settings_refused_<variant>` with the values its sentence names.
pub(crate) fn refused(variant: &str, message: String, values: &[(&str, String)]) -> AppError {
    let mut params: std::collections::BTreeMap<String, String> = values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    params.insert("variant".to_owned(), variant.to_owned());
    AppError {
        kind: ErrorKind::SettingsRefused,
        params,
        message,
    }
}

/// A store's address as typed: `http` or `https` with a host, no path, query or credentials;
/// given back without a trailing slash.
pub fn store_address(typed: &str) -> Result<String, AppError> {
    let typed = typed.trim();
    // Each reason is a variant the page phrases (`settings_refused_store_<reason>`).
    let bad = |reason: &str, why: &str| {
        refused(
            &format!("store_{reason}"),
            format!(
                "“{typed}” is not a store's address: {why}. It looks like https://store.example.com."
            ),
            &[("typed", typed.to_owned())],
        )
    };
    let url = tauri::Url::parse(typed).map_err(|_| bad("not_web", "it is not a web address"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("scheme", "it does not start with https:// or http://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no_host", "it names no computer"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials",
            "it carries a name or password, which the store never asks for there",
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "path",
            "a store's address ends after its name (and port)",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Buys from the store at `typed` (`None`: the embedded demo store) from now on: signs out of
/// the current store, keeps the choice in the profile and restarts Marquee on it. Returns only
/// when it refused, with nothing changed.
pub async fn set_store<R: Runtime>(
    app: &AppHandle<R>,
    typed: Option<&str>,
) -> Result<(), AppError> {
    if std::env::var_os("MARQUEE_STORE_URL").is_some() {
        return Err(refused(
            "store_environment",
            "This Marquee was started with MARQUEE_STORE_URL, which names its store: change it there."
                .into(),
            &[],
        ));
    }
    let url = match typed.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(store_address(t)?),
        None => None,
    };
    // Kept first: a profile that cannot be written refuses here, with the core still running.
    state::choose_store(&state::data_dir(app)?, url.as_deref())?;
    let app_state = app.state::<AppState>();
    let ready = app_state.core.borrow().clone();
    if let Some(Ok(core)) = ready {
        let info = core.account_get();
        if info.email.is_some() && !info.demo_store {
            // The old store forgets this session too; a store that does not answer changes
            // nothing here (the session is dropped on this computer either way).
            if let Err(e) = core.account_sign_out().await {
                tracing::warn!(error = %e, "signing out of the old store");
            }
        }
        core.shutdown().await;
    }
    if let Some(store) = app_state.demo_store.lock().await.take() {
        store.shutdown().await;
    }
    tracing::info!(store = ?url, "the store changed; restarting");
    app.restart()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_address_is_a_web_address_with_a_host_and_nothing_after() {
        assert_eq!(
            store_address(" https://store.example.com/ ").unwrap(),
            "https://store.example.com"
        );
        assert_eq!(
            store_address("http://127.0.0.1:8640").unwrap(),
            "http://127.0.0.1:8640"
        );
        for (typed, why) in [
            ("store.example.com", "not a web address"),
            ("ftp://store.example.com", "https://"),
            ("https://store.example.com/api/v1", "ends after its name"),
            ("https://me:secret@store.example.com", "name or password"),
            ("https://store.example.com/?x=1", "ends after its name"),
        ] {
            let e = store_address(typed).unwrap_err();
            assert_eq!(e.kind, ErrorKind::SettingsRefused);
            assert!(e.message.contains(why), "{typed}: {}", e.message);
            assert!(
                e.message.contains("https://store.example.com"),
                "{}",
                e.message
            );
        }
    }
}
