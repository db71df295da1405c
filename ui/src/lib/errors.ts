/**
 * What the window says about a backend error, chosen by `kind` (never by message text), in the
 * window's language: a headline, and a sentence phrased here from the kind and the values the
 * core sends with it (`AppError.params`, see `Error::params` in `crates/core/src/error.rs`).
 * `message` is the core's English sentence, for logs; the window does not show it.
 *
 * Values by name: `x_ms` (epoch milliseconds) is written as a date and `x_bytes` as a size, both
 * offered to the sentence as `x`; `detail` is text the store or a lower layer wrote, shown as it
 * came; `variant` picks `errors.text.<kind>_<variant>` where a kind has more than one sentence.
 */
import { t } from "./i18n/i18n.svelte";
import { en } from "./i18n/messages";
import { formatBytes, formatDateTime } from "./format";
import type { AppError, ErrorKind } from "./ipc/bindings";

type TextKey = keyof typeof en.errors.text;

export function errorHeadline(kind: ErrorKind): string {
  return t(`errors.headline.${kind}`);
}

/** The values a sentence is given: dates and sizes written in the window's language. */
function sentenceValues(params: AppError["params"]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    const number = Number(value);
    if (name.endsWith("_ms") && value !== "" && Number.isFinite(number)) {
      values[name.slice(0, -3)] = formatDateTime(number, { year: true });
    } else if (name.endsWith("_bytes") && value !== "" && Number.isFinite(number)) {
      values[name.slice(0, -6)] = formatBytes(number);
    } else {
      values[name] = value;
    }
  }
  return values;
}

/** The names a sentence fills in (`{{name}}`), read from English, which every language keeps. */
function needs(key: TextKey): string[] {
  return [...en.errors.text[key].matchAll(/\{\{\s*(\w+)/g)].map((m) => m[1]);
}

/** What happened and what to do next, for `e`, in the window's language. */
export function errorText(e: AppError): string {
  const variant = e.params?.variant;
  const withVariant = `${e.kind}_${variant}`;
  const key = (variant !== undefined && withVariant in en.errors.text ? withVariant : e.kind) as TextKey;
  const values = sentenceValues(e.params);
  // A sentence with a hole reads worse than none: an error built without its values (by a bug,
  // or by Tauri itself) says only that something went wrong.
  if (!(key in en.errors.text) || needs(key).some((name) => values[name] === undefined)) {
    return t("errors.unexplained");
  }
  // The key is checked above; i18next's types cannot follow a key chosen at run time.
  return (t as (key: string, values: Record<string, string>) => string)(`errors.text.${key}`, values);
}

/** Whether pressing the same button again may help. */
export function isRetryable(kind: ErrorKind): boolean {
  return (
    kind === "store_unreachable" ||
    kind === "store_failed" ||
    kind === "catalog_untrusted" ||
    kind === "download_failed" ||
    kind === "internal"
  );
}
