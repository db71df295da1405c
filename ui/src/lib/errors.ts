/** Headlines for backend errors, chosen by `kind` (never by message text). */
import type { ErrorKind } from "./ipc/bindings";

export function errorHeadline(kind: ErrorKind): string {
  switch (kind) {
    case "unknown_title":
      return "Title not found";
    case "insufficient_funds":
      return "Not enough credit";
    case "licence_invalid":
      return "Licence problem";
    case "licence_other_device":
      return "Licensed to another computer";
    case "licence_expired":
      return "Rental ended";
    case "licence_revoked":
      return "Licence withdrawn";
    case "clock_behind":
      return "Your clock is behind";
    case "other_computer":
      return "This profile belongs to another computer";
    case "store_unreachable":
      return "Store unreachable";
    case "not_in_library":
      return "Not in your library";
    case "download_failed":
      return "Download failed";
    case "playback":
      return "Can't play this title";
    case "publish_refused":
      return "Can't publish this file";
    case "cancelled":
      return "Cancelled";
    case "internal":
      return "Something went wrong";
  }
}

/** Whether pressing the same button again may help. */
export function isRetryable(kind: ErrorKind): boolean {
  return kind === "store_unreachable" || kind === "download_failed" || kind === "internal";
}
