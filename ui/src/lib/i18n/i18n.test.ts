import { describe, expect, it as test } from "vitest";
import { ar, en, it } from "./messages";
import { isRtl, LANGUAGES, pickLanguage, startingLanguage, t, i18n } from "./i18n.svelte";

/** Every key of a tree of sentences, as "domain.a.b". */
function keys(tree: unknown, prefix = ""): string[] {
  if (typeof tree === "string") return [prefix];
  return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) =>
    keys(v, prefix ? `${prefix}.${k}` : k),
  );
}

const PLURAL = /_(zero|one|two|few|many|other)$/;

/**
 * What `language` must have for each English key: the key itself, or for a plural (English's
 * `x_one`/`x_other`) every form that language's plural rules use (Arabic has six).
 */
function expected(language: string): string[] {
  const forms = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
  const out = new Set<string>();
  for (const key of keys(en)) {
    const plural = PLURAL.exec(key);
    if (!plural) out.add(key);
    else for (const form of forms) out.add(key.replace(PLURAL, `_${form}`));
  }
  return [...out].sort();
}

describe("the sentences", () => {
  for (const [language, messages] of [
    ["ar", ar],
    ["it", it],
  ] as const) {
    test(`${language} has every sentence English has, with its own plural forms, and no other`, () => {
      const have = new Set(keys(messages));
      const missing = expected(language).filter((k) => !have.has(k));
      expect(missing, `missing in ${language}`).toEqual([]);
      const known = new Set(expected(language));
      const stray = [...have].filter((k) => !known.has(k));
      expect(stray, `in ${language} but not in English`).toEqual([]);
    });

    test(`${language} keeps every {{value}} English names`, () => {
      const get = (tree: unknown, key: string) =>
        key.split(".").reduce((n, k) => (n as Record<string, unknown>)?.[k], tree) as string | undefined;
      const wrong: string[] = [];
      for (const key of keys(en)) {
        const source = get(en, key)!;
        const values = (s: string) => [...s.matchAll(/\{\{\s*(\w+)/g)].map((m) => m[1]).sort();
        const plural = PLURAL.exec(key);
        const targets = plural
          ? new Intl.PluralRules(language).resolvedOptions().pluralCategories.map((f) => key.replace(PLURAL, `_${f}`))
          : [key];
        for (const target of targets) {
          const translated = get(messages, target);
          if (translated === undefined) continue;
          // A plural form may leave the count out ("one file", "two files" in Arabic's dual).
          const need = values(source).filter((v) => !(plural && v === "count"));
          const has = values(translated);
          if (need.some((v) => !has.includes(v))) wrong.push(`${target}: ${translated}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  test("English has no empty sentence", () => {
    const get = (key: string) =>
      key.split(".").reduce((n, k) => (n as Record<string, unknown>)?.[k], en as unknown) as string;
    expect(keys(en).filter((k) => get(k).trim() === "")).toEqual([]);
  });
});

describe("the language", () => {
  test("is the first system language Marquee speaks, else English", () => {
    expect(pickLanguage(["fr-FR", "ar-EG", "en"])).toBe("ar");
    expect(pickLanguage(["it_IT", "en"])).toBe("it");
    expect(pickLanguage(["de", "fr"])).toBe("en");
    expect(pickLanguage([])).toBe("en");
  });

  test("starts in the person's choice, else the system's, else the webview's", () => {
    expect(startingLanguage({ chosen: "it", system: ["ar-EG"] }, ["en-US"])).toBe("it");
    expect(startingLanguage({ chosen: null, system: ["ar-EG", "C"] }, ["en-US"])).toBe("ar");
    // A choice the page does not speak (an edited file) is no choice.
    expect(startingLanguage({ chosen: "fr", system: ["C"] }, ["it-IT"])).toBe("en");
    expect(startingLanguage(undefined, ["it-IT"])).toBe("it");
  });

  test("Arabic alone is right to left", () => {
    expect(LANGUAGES.filter(isRtl)).toEqual(["ar"]);
  });

  test("t follows the chosen language and falls back to English", () => {
    i18n.use("en");
    const english = t("shell.tabs.store");
    i18n.use("ar");
    expect(t("shell.tabs.store")).not.toBe(english);
    i18n.use("it");
    expect(t("shell.tabs.store")).not.toBe(english);
    i18n.use("en");
    expect(t("shell.tabs.store")).toBe(english);
  });
});
