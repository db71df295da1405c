/**
 * The one door to the backend. Every Tauri command the UI uses has a typed wrapper here;
 * components never call `invoke` themselves. Types come from the generated `bindings.ts`.
 */
import { Channel, invoke } from "@tauri-apps/api/core";
import { ERROR_KINDS } from "./bindings";
import type {
  AcquireResult,
  AppError,
  DownloadProgress,
  LibraryEntry,
  PlaybackSource,
  Title,
  Wallet,
} from "./bindings";

export type * from "./bindings";

/** True for a value shaped like the backend's `{kind, message}` error. */
export function isAppError(value: unknown): value is AppError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.kind === "string" &&
    (ERROR_KINDS as readonly string[]).includes(v.kind) &&
    typeof v.message === "string"
  );
}

/**
 * Turns whatever a rejected call produced into an `AppError`. The backend rejects with
 * `{kind, message}`; Tauri itself may reject with a bare string (for example a missing
 * permission), and a bug may throw an `Error`.
 */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value;
  if (typeof value === "string" && value.trim() !== "") {
    return { kind: "internal", message: value };
  }
  if (value instanceof Error && value.message) {
    return { kind: "internal", message: value.message };
  }
  return {
    kind: "internal",
    message: "Something went wrong inside Marquee. Try again, and restart the app if it keeps happening.",
  };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toAppError(e);
  }
}

/** The store's catalog. */
export function catalogList(): Promise<Title[]> {
  return call<Title[]>("catalog_list");
}

/** The wallet balance on the store account. */
export function walletGet(): Promise<Wallet> {
  return call<Wallet>("wallet_get");
}

/** Everything rented, bought or taken for free on this device. */
export function libraryList(): Promise<LibraryEntry[]> {
  return call<LibraryEntry[]>("library_list");
}

/**
 * Rents, buys or takes a free title. `clientOrderId` identifies one user intent: pass the
 * same id when retrying so the store charges only once (see `store/order.ts`).
 */
export function titleAcquire(titleId: string, clientOrderId: string): Promise<AcquireResult> {
  return call<AcquireResult>("title_acquire", { titleId, clientOrderId });
}

/** Opens a title on the local playback server; playable while it downloads. */
export function playbackOpen(titleId: string): Promise<PlaybackSource> {
  return call<PlaybackSource>("playback_open", { titleId });
}

/**
 * Reports the playback position. `firstFrame` is true exactly once, when the first frame is
 * on screen: a rental's 48-hour window starts there.
 */
export function playbackReport(titleId: string, positionS: number, firstFrame: boolean): Promise<void> {
  return call<void>("playback_report", { titleId, positionS, firstFrame });
}

/**
 * Subscribes to download progress; the backend pushes the whole list about twice a second.
 * Call once at start-up.
 */
export function downloadsWatch(onProgress: (list: DownloadProgress[]) => void): Promise<void> {
  const channel = new Channel<DownloadProgress[]>();
  channel.onmessage = onProgress;
  return call<void>("downloads_watch", { onProgress: channel });
}
