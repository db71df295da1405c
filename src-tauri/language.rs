//! The window's language, handed to the page before any of its scripts runs, so its first paint
//! is already in the person's language and direction: the one they chose on the settings page
//! (kept in the profile's `settings.json`, not in the webview's storage, which every profile on
//! the computer shares), else the system's. WebKitGTK derives
//! `navigator.languages` from the C locale, which is "C" wherever the person's locale is not
//! generated (a minimal install), so the page is told what the session asks for instead:
//! `LANGUAGE`, `LC_ALL`, `LC_MESSAGES` or `LANG` on Linux, the user's preferred languages on
//! Windows and macOS (`sys-locale`). The page picks the first it speaks (`ui/src/lib/i18n`).

use tauri::plugin::Plugin;
use tauri::{AppHandle, Runtime};

use marquee_core::api::AppError;

use crate::state::{self, internal};

/// The global the page reads its languages from: `{ chosen, system }`.
pub const GLOBAL: &str = "__MARQUEE_LANGUAGES__";

/// The languages the window speaks (`ui/src/lib/i18n/i18n.svelte.ts` has the same list).
pub const SPOKEN: [&str; 3] = ["en", "ar", "it"];

/// The script that defines [`GLOBAL`] (read-only): the person's choice, if any, and the
/// system's languages, BCP 47 tags, best first.
pub fn script(chosen: Option<&str>, system: &[String]) -> String {
    let value = serde_json::json!({ "chosen": chosen, "system": system });
    format!("Object.defineProperty(window, '{GLOBAL}', {{ value: Object.freeze({value}) }});")
}

/// The plugin that hands the page its languages. The profile is read when the app starts
/// (plugins start before the window is made), so the choice is the profile's, not the page's.
#[derive(Default)]
pub struct Languages {
    script: Option<String>,
}

impl<R: Runtime> Plugin<R> for Languages {
    fn name(&self) -> &'static str {
        "marquee-language"
    }

    fn initialize(
        &mut self,
        app: &AppHandle<R>,
        _config: serde_json::Value,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let chosen = state::data_dir(app)
            .ok()
            .and_then(|dir| state::chosen_language(&dir))
            .filter(|l| SPOKEN.contains(&l.as_str()));
        let system: Vec<String> = sys_locale::get_locales().collect();
        tracing::info!(?chosen, ?system, "the window's languages");
        self.script = Some(script(chosen.as_deref(), &system));
        Ok(())
    }

    fn initialization_script(&self) -> Option<String> {
        self.script.clone()
    }
}

/// Keeps `language` as the person's choice for the window, from the next start on too.
pub fn choose<R: Runtime>(app: &AppHandle<R>, language: &str) -> Result<(), AppError> {
    if !SPOKEN.contains(&language) {
        return Err(internal(&format!(
            "Marquee does not speak {language:?}; it speaks English (en), Arabic (ar) and Italian (it)."
        )));
    }
    state::choose_language(&state::data_dir(app)?, language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_hands_over_the_languages_as_data() {
        let s = script(
            None,
            &["ar-EG".into(), "en".into(), "x'); alert(1); ('".into()],
        );
        assert_eq!(
            s,
            r#"Object.defineProperty(window, '__MARQUEE_LANGUAGES__', { value: Object.freeze({"chosen":null,"system":["ar-EG","en","x'); alert(1); ('"]}) });"#
        );
        assert!(script(Some("it"), &[]).contains(r#"{"chosen":"it","system":[]}"#));
    }

    #[test]
    fn a_choice_is_kept_in_the_profile_beside_the_store() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("settings.json"),
            r#"{"store_url": "https://store.example"}"#,
        )
        .unwrap();
        assert_eq!(state::chosen_language(dir.path()), None);
        state::choose_language(dir.path(), "ar").unwrap();
        assert_eq!(state::chosen_language(dir.path()).as_deref(), Some("ar"));
        let kept: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("settings.json")).unwrap())
                .unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"store_url": "https://store.example", "language": "ar"})
        );
    }
}
