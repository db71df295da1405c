/**
 * The window's language: English, Arabic or Italian, through i18next (typed keys: English's
 * sentences in `messages.ts`). `t` reads the current language, so every sentence a component
 * shows follows a change of language without a reload; numbers, dates, sizes and prices go
 * through `Intl` in the same language (`format.ts` takes it from here).
 *
 * The language is the person's choice when they made one (kept in the profile by the app's shell,
 * `src-tauri/language.rs`, which hands it to the page before its first script with the system's
 * languages), else the system's first language Marquee speaks, else English. Arabic is written right to left: the
 * document's `dir` follows the language, and the layout uses logical CSS properties.
 */
import i18next, { type TFunction } from "i18next";
import { ar, en, it } from "./messages";

/** The languages Marquee speaks, by BCP 47 tag. */
export const LANGUAGES = ["en", "ar", "it"] as const;
/** One of [`LANGUAGES`]. */
export type Language = (typeof LANGUAGES)[number];

/** Each language by its own name, as a language picker lists them. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: "English",
  ar: "العربية",
  it: "Italiano",
};

declare module "i18next" {
  interface CustomTypeOptions {
    defaultNS: "translation";
    resources: { translation: typeof en };
    // Sentences are text: Svelte escapes what it inserts, so i18next must not escape twice.
    returnNull: false;
  }
}

/** The first of `preferred` (BCP 47 tags, best first) that Marquee speaks, else English. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    const found = LANGUAGES.find((l) => l === primary);
    if (found) return found;
  }
  return "en";
}

/** Whether `language` is written right to left. */
export function isRtl(language: Language): boolean {
  return language === "ar";
}

/** What the app's shell hands the page (`src-tauri/language.rs`); absent in unit tests. */
type FromShell = { chosen: string | null; system: readonly string[] };

function fromShell(): FromShell | undefined {
  return (globalThis as { __MARQUEE_LANGUAGES__?: FromShell }).__MARQUEE_LANGUAGES__;
}

/** The language to start in: the person's choice, else the system's, else English. */
export function startingLanguage(shell: FromShell | undefined, webview: readonly string[]): Language {
  const chosen = LANGUAGES.find((l) => l === shell?.chosen);
  return chosen ?? pickLanguage(shell?.system ?? webview);
}

class I18n {
  /** The language the window speaks now. */
  current = $state<Language>("en");

  constructor() {
    void i18next.init({
      resources: { en: { translation: en }, ar: { translation: ar }, it: { translation: it } },
      lng: "en",
      fallbackLng: "en",
      supportedLngs: [...LANGUAGES],
      interpolation: { escapeValue: false },
      returnNull: false,
      initAsync: false,
    });
  }

  /** Speaks the person's chosen language, else the system's; call once at start. */
  start() {
    this.use(startingLanguage(fromShell(), globalThis.navigator?.languages ?? []));
  }

  /** Speaks `language` from now on (the settings page also has the shell keep it). */
  use(language: Language) {
    void i18next.changeLanguage(language);
    this.current = language;
    const root = globalThis.document?.documentElement;
    if (root) {
      root.lang = language;
      root.dir = isRtl(language) ? "rtl" : "ltr";
    }
  }
}

/** The window's language. */
export const i18n = new I18n();

/** A sentence in the window's language, by key (`t("library.title")`), with its values. */
export const t: TFunction = ((...args: Parameters<TFunction>) => {
  // Read so that whatever shows the sentence shows it again when the language changes.
  void i18n.current;
  return (i18next.t as (...a: Parameters<TFunction>) => string)(...args);
}) as TFunction;
