/** Headlines for backend errors, chosen by `kind` (never by message text), in the window's language. */
import { t } from "./i18n/i18n.svelte";
import type { ErrorKind } from "./ipc/bindings";

export function errorHeadline(kind: ErrorKind): string {
  return t(`errors.${kind}`);
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
