//! The window's security: the content security policy, with the playback server's exact origin
//! added where media and fetches need it, and (in the tests) the capabilities the ACL enforces.

use tauri::utils::config::{Csp, CspDirectiveSources};
use tauri::Runtime;

use marquee_core::playback::PlaybackListener;

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

/// The app's context with the CSP naming the playback server's origin.
pub(crate) fn context_for<R: Runtime>(
    mut context: tauri::Context<R>,
    playback: &PlaybackListener,
) -> tauri::Context<R> {
    let security = &mut context.config_mut().app.security;
    security.csp = Some(with_playback_origin(
        security.csp.take(),
        &playback.origin(),
    ));
    context
}

#[cfg(test)]
mod tests {
    use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindow;

    use tauri::Manager;
    use tokio::sync::watch;

    use super::*;
    use crate::state::{internal, AppState};
    use crate::{context, ipc};

    /// The real app (its capabilities and the generated permissions) on the mock runtime, with
    /// a core that never opens: only commands that do not need it can succeed.
    fn app() -> tauri::App<MockRuntime> {
        let (core, _) = watch::channel(Some(Err(internal("no core in this test"))));
        mock_builder()
            .manage(AppState::new(core, None))
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
        // The UI listens to events (its own and the drag-and-drop overlay's), reads the app's
        // version (the settings page) and calls the app's commands; nothing else.
        assert_eq!(
            granted,
            [
                "core:event:allow-listen",
                "core:event:allow-unlisten",
                "core:app:allow-version",
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
        if let Err(e) = invoke(&main, "plugin:app|version") {
            assert!(
                !e.contains("not allowed"),
                "reading the version is allowed: {e}"
            );
        }
        // But not the rest of the app plugin (hiding the app, its other metadata).
        let refused = invoke(&main, "plugin:app|app_hide").expect_err("refused");
        assert!(refused.contains("not allowed"), "{refused}");
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
        let context = context_for(context::<MockRuntime>(), &playback);
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
