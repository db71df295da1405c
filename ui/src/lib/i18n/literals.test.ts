import { expect, test } from "vitest";

/**
 * Every sentence a component shows comes from `t`: text between tags and the values of the
 * attributes people read (labels, titles, placeholders, alternative texts) may hold only
 * expressions, symbols and the brand. A literal English word left in markup fails here.
 */
const components = import.meta.glob("/src/**/*.svelte", {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

/** Words that are the same in every language. */
const SAME_EVERYWHERE = new Set(["Marquee", "HD", "SD", "MP4", "WebM", "BitTorrent"]);

/** Removes `{…}` expressions (nested braces included). */
function withoutExpressions(s: string): string {
  let out = "";
  let depth = 0;
  for (const ch of s) {
    if (ch === "{") depth += 1;
    else if (ch === "}") depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return out;
}

function words(s: string): string[] {
  return (withoutExpressions(s).match(/[A-Za-z][A-Za-z'’]+/g) ?? []).filter((w) => !SAME_EVERYWHERE.has(w));
}

export function literalsIn(source: string): string[] {
  const markup = source
    .replace(/<script[\s\S]*?<\/script>/g, "")
    .replace(/<style[\s\S]*?<\/style>/g, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    // SVG drawing data is not text.
    .replace(/<svg[\s\S]*?<\/svg>/g, "");
  const found: string[] = [];
  for (const m of markup.matchAll(/>([^<>]*)</g)) {
    const text = m[1].trim();
    if (words(text).length) found.push(text);
  }
  for (const m of markup.matchAll(/\s(aria-label|title|placeholder|alt|aria-description)="([^"]*)"/g)) {
    if (words(m[2]).length) found.push(`${m[1]}="${m[2]}"`);
  }
  return found;
}

test("the checker finds literal words and leaves expressions alone", () => {
  expect(literalsIn(`<p>Hello {name}</p><b aria-label="Close">{t("x")}</b>`)).toEqual(["Hello {name}", 'aria-label="Close"']);
  expect(literalsIn(`<p>{t("a", { n: 1 })} · {x}</p><i title={t("y")}></i>`)).toEqual([]);
});

test("no component shows a literal sentence", () => {
  const left = Object.entries(components)
    .map(([file, source]) => [file, literalsIn(source)] as const)
    .filter(([, found]) => found.length > 0)
    .map(([file, found]) => `${file}: ${found.join(" | ")}`);
  expect(left).toEqual([]);
});
