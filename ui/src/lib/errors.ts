/** Headlines for backend errors, chosen by `kind` (never by message text). */
import type { ErrorKind } from "./ipc/bindings";

export function errorHeadline(kind: ErrorKind): string {
  switch (kind) {
    case "unknown_title":
      return "Title not found";
    case "insufficient_funds":
      return "Not enough credit";
    case "sign_in_required":
      return "Sign in again";
    case "signed_out":
      return "You are signed out";
    case "wrong_password":
      return "Wrong e-mail or password";
    case "licensed_elsewhere":
      return "Playing on another computer";
    case "library_tampered":
      return "This title's record was changed";
    case "device_limit":
      return "Too many computers";
    case "device_not_registered":
      return "This computer is not registered";
    case "order_conflict":
      return "Order already used";
    case "not_for_sale":
      return "Not for sale yet";
    case "not_movable":
      return "Rentals stay where they were rented";
    case "email_taken":
      return "E-mail already registered";
    case "invalid_credentials":
      return "Check your e-mail and password";
    case "rate_limited":
      return "Too many attempts: wait a little";
    case "unknown_voucher":
      return "Unknown voucher";
    case "voucher_used":
      return "Voucher already used";
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
    case "device_unusable":
      return "This computer's identity cannot be used";
    case "store_unreachable":
      return "Store unreachable";
    case "store_key_changed":
      return "This is not the store you used before";
    case "catalog_untrusted":
      return "Catalog not signed by the store";
    case "store_incompatible":
      return "Update Marquee";
    case "store_failed":
      return "The store had a problem";
    case "not_in_library":
      return "Not in your library";
    case "download_failed":
      return "Download failed";
    case "download_refused":
      return "Can't change this download";
    case "disk_full":
      return "Not enough space";
    case "update_refused":
      return "Update not installed";
    case "playback":
      return "Can't play this title";
    case "publish_refused":
      return "Can't publish this file";
    case "file_gone":
      return "Drop the file again";
    case "not_shareable":
      return "Only free titles can be shared";
    case "torrent_refused":
      return "Can't add this torrent";
    case "export_refused":
      return "Can't export this title";
    case "cancelled":
      return "Cancelled";
    case "live_ended":
      return "This channel has ended";
    case "live_not_offered":
      return "No live channels in this store";
    case "live_unavailable":
      return "Can't watch this channel";
    case "live_refused":
      return "Can't go live with this video";
    case "internal":
      return "Something went wrong";
  }
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
