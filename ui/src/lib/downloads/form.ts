/** What the Downloads forms (limits, sharing) share: reading their fields. Pure: no DOM. */
import { t } from "../i18n/i18n.svelte";
import type { AppError } from "../ipc";

/** One number field of a form: its key, its label and how its text is read. */
export type NumberField<K extends string> = {
  key: K;
  label: () => string;
  parse: (text: string) => { value: number | null } | { error: string };
};

/**
 * Reads every field's text with its own parsing: each value by key (`null` for no limit), or the
 * refusal of the first field that does not read, naming it, as the form shows an error.
 */
export function readFields<K extends string>(
  fields: readonly NumberField<K>[],
  text: Record<K, string>,
): { values: Record<K, number | null> } | { error: AppError } {
  const values = {} as Record<K, number | null>;
  for (const f of fields) {
    const parsed = f.parse(text[f.key]);
    if ("error" in parsed) {
      return { error: refusal(t("downloads.limits.fieldError", { field: f.label(), error: parsed.error })) };
    }
    values[f.key] = parsed.value;
  }
  return { values };
}

/** A form's own refusal, shown as the core's would be. */
export function refusal(sentence: string): AppError {
  return { kind: "download_refused", message: sentence, params: { detail: sentence } };
}
