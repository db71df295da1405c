/**
 * The one door to the backend. Every Tauri command the UI uses has a typed wrapper here;
 * components never call `invoke` themselves. The wrappers call the functions generated in
 * `bindings.ts` from the Rust side (`cargo xtask bindings`), so command names, argument names
 * and types, results and event names cannot drift from it; here they only turn rejections into
 * `AppError`s and callbacks into channels.
 */
import { Channel } from "@tauri-apps/api/core";
import type { UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { commands, events, ERROR_KINDS } from "./bindings";
import type {
  AccountInfo,
  AccountOverview,
  AcquireResult,
  AppError,
  Connection,
  DownloadItem,
  DownloadLimits,
  DownloadProgress,
  DroppedFile,
  LibraryEntry,
  PlaybackSource,
  PublishDraft,
  PublishForm,
  PublishProgress,
  RestoreResult,
  ShareLinks,
  Title,
  TorrentPreview,
  UpdateInfo,
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

/** Runs a generated command, rejecting with an `AppError` whatever went wrong. */
async function call<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (e) {
    throw toAppError(e);
  }
}

/** `call` for a command that returns nothing (Rust's `()`, `null` on the wire). */
async function run(command: Promise<null>): Promise<void> {
  await call(command);
}

/** The store's catalog. */
export function catalogList(): Promise<Title[]> {
  return call(commands.catalogList());
}

/** The wallet balance on the store account. */
export function walletGet(): Promise<Wallet> {
  return call(commands.walletGet());
}

/** Everything rented, bought or taken for free on this device. */
export function libraryList(): Promise<LibraryEntry[]> {
  return call(commands.libraryList());
}

/**
 * Rents, buys or takes a free title. `clientOrderId` identifies one user intent: pass the
 * same id when retrying so the store charges only once (see `store/order.ts`).
 */
export function titleAcquire(titleId: string, clientOrderId: string): Promise<AcquireResult> {
  return call(commands.titleAcquire(titleId, clientOrderId));
}

/** Opens a title on the local playback server; playable while it downloads. */
export function playbackOpen(titleId: string): Promise<PlaybackSource> {
  return call(commands.playbackOpen(titleId));
}

/**
 * Reports the playback position. `firstFrame` is true exactly once, when the first frame is
 * on screen: a rental's 48-hour window starts there.
 */
export function playbackReport(titleId: string, positionS: number, firstFrame: boolean): Promise<void> {
  return run(commands.playbackReport(titleId, positionS, firstFrame));
}

/**
 * Subscribes to download progress; the backend pushes the whole list about twice a second.
 * Call once at start-up.
 */
export function downloadsWatch(onProgress: (list: DownloadProgress[]) => void): Promise<void> {
  const channel = new Channel<DownloadProgress[]>();
  channel.onmessage = onProgress;
  return run(commands.downloadsWatch(channel));
}

/**
 * Subscribes to whether the store answers: the backend pushes the state at once and again at
 * every change. Call once at start-up.
 */
export function connectionWatch(onChange: (connection: Connection) => void): Promise<void> {
  const channel = new Channel<Connection>();
  channel.onmessage = onChange;
  return run(commands.connectionWatch(channel));
}

/** Every download and seed with its state, progress, speeds, peers and time left. */
export function downloadsList(): Promise<DownloadItem[]> {
  return call(commands.downloadsList());
}

/** Pauses a title's download or seeding; it stays paused after a restart. */
export function downloadPause(titleId: string): Promise<void> {
  return run(commands.downloadPause(titleId));
}

/** Resumes a paused title, or downloads a removed one again. */
export function downloadResume(titleId: string): Promise<void> {
  return run(commands.downloadResume(titleId));
}

/**
 * Removes a title from the downloads. `deleteFiles` deletes its folder; the library entry and
 * its licence stay. Refused while the title is playing.
 */
export function downloadRemove(titleId: string, deleteFiles: boolean): Promise<void> {
  return run(commands.downloadRemove(titleId, deleteFiles));
}

/** The global download and upload limits (KiB/s; `null` is unlimited). */
export function downloadsLimitsGet(): Promise<DownloadLimits> {
  return call(commands.downloadsLimitsGet());
}

/** Sets and keeps the global limits; resolves to what was stored. */
export function downloadsLimitsSet(limits: DownloadLimits): Promise<DownloadLimits> {
  return call(commands.downloadsLimitsSet(limits));
}

/**
 * Subscribes to files dropped on the window (the shell's `files-dropped` event; paths stay in
 * Rust); resolves to the function that unsubscribes.
 */
export function onFilesDropped(handler: (files: DroppedFile[]) => void): Promise<UnlistenFn> {
  return events.filesDropped.listen((event) => handler(event.payload));
}

/** A newer Marquee, if one is published and this build has an update channel. */
export function updateCheck(): Promise<UpdateInfo | null> {
  return call(commands.updateCheck());
}

/** Installs the published update and restarts into it; rejects with `update_refused`. */
export async function updateInstall(): Promise<void> {
  await call(commands.updateInstall());
}

/**
 * Subscribes to `magnet:` links opened with the app (a browser, the desktop, a second launch);
 * resolves to the function that unsubscribes.
 */
export function onLinksOpened(handler: (links: string[]) => void): Promise<UnlistenFn> {
  return events.linksOpened.listen((event) => handler(event.payload));
}

/** Links opened before the page listened. Call once at start-up, after `onLinksOpened`. */
export function linksPending(): Promise<string[]> {
  return call(commands.linksPending());
}

/**
 * Tells whether files are being dragged over the window, for the drop overlay only: the
 * paths in Tauri's drag-and-drop event are ignored; dropped files arrive by `onFilesDropped`.
 */
export function onDragHover(handler: (over: boolean) => void): Promise<UnlistenFn> {
  return getCurrentWebview().onDragDropEvent((event) => {
    const type = event.payload.type;
    handler(type === "enter" || type === "over");
  });
}

/**
 * Files dropped or opened ("Open with Marquee") before the page listened. Call once at
 * start-up, after `onFilesDropped`; the same file may arrive both ways (dedupe by `drop_id`).
 */
export function dropsPending(): Promise<DroppedFile[]> {
  return call(commands.dropsPending());
}

/** Opens the system file dialog for videos and `.torrent` files; empty when cancelled. */
export function publishPick(): Promise<DroppedFile[]> {
  return call(commands.publishPick());
}

/**
 * Checks a dropped video, copies it into the app's data folder, makes its torrent and starts
 * seeding it. Progress: `copying` with bytes, then `hashing`. Rejects with `cancelled` after
 * `publishCancel`, `publish_refused` for a file that cannot be published.
 */
export function publishPrepare(dropId: string, onProgress: (p: PublishProgress) => void): Promise<PublishDraft> {
  const channel = new Channel<PublishProgress>();
  channel.onmessage = onProgress;
  return call(commands.publishPrepare(dropId, channel));
}

/** Stops preparing a dropped video (effective while copying). */
export function publishCancel(dropId: string): Promise<void> {
  return run(commands.publishCancel(dropId));
}

/** Throws a draft away: stops seeding it and deletes the copy (never the original). */
export function publishDiscard(draftId: string): Promise<void> {
  return run(commands.publishDiscard(draftId));
}

/** Publishes a draft to the community shelf; the title lands in the library, seeding. */
export function publishSubmit(draftId: string, form: PublishForm): Promise<LibraryEntry> {
  return call(commands.publishSubmit(draftId, form));
}

/** A magnet link for a free title in the library. */
export function titleShare(titleId: string): Promise<ShareLinks> {
  return call(commands.titleShare(titleId));
}

/** Asks where to save a free title's `.torrent`; the saved path, or null if cancelled. */
export function titleSaveTorrent(titleId: string): Promise<string | null> {
  return call(commands.titleSaveTorrent(titleId));
}

/** Asks where to export a free title's file; the saved path, or null if cancelled. */
export function titleExport(titleId: string): Promise<string | null> {
  return call(commands.titleExport(titleId));
}

/** Adds a magnet link as a free title not from the store. */
export function magnetOpen(link: string): Promise<LibraryEntry> {
  return call(commands.magnetOpen(link));
}

/**
 * What a dropped `.torrent` file holds (name, files, size, trackers, info hash), or why it
 * cannot be added (`refusal`); adds nothing. Show it before `torrentImport`.
 */
export function torrentPreview(dropId: string): Promise<TorrentPreview> {
  return call(commands.torrentPreview(dropId));
}

/** Adds a dropped `.torrent` file as a free title not from the store. */
export function torrentImport(dropId: string): Promise<LibraryEntry> {
  return call(commands.torrentImport(dropId));
}

/** Moves a purchase licensed to another computer of the account to this one. */
export function licenceMove(titleId: string): Promise<LibraryEntry> {
  return call(commands.licenceMove(titleId));
}

/** Registers this computer as a new device when the profile was made on another one. */
export function deviceReactivate(): Promise<void> {
  return run(commands.deviceReactivate());
}

/** Full-text search of the catalog, best matches first. */
export function catalogSearch(query: string): Promise<Title[]> {
  return call(commands.catalogSearch(query));
}

/** Who is signed in, on which store, and where the session is kept. */
export function accountGet(): Promise<AccountInfo> {
  return call(commands.accountGet());
}

/** Signs in; the password is not kept, only the session. */
export function accountSignIn(email: string, password: string): Promise<AccountInfo> {
  return call(commands.accountSignIn(email, password));
}

/** Creates an account on the store and signs in to it. */
export function accountSignUp(email: string, password: string): Promise<AccountInfo> {
  return call(commands.accountSignUp(email, password));
}

/** Signs out: the store ends the session, this computer forgets it. */
export function accountSignOut(): Promise<AccountInfo> {
  return call(commands.accountSignOut());
}

/** The account page: wallet, receipts, computers. */
export function accountOverview(): Promise<AccountOverview> {
  return call(commands.accountOverview());
}

/** Tops the wallet up with a voucher code. */
export function voucherRedeem(code: string): Promise<Wallet> {
  return call(commands.voucherRedeem(code));
}

/** Deactivates one of the account's computers (its licences are revoked). */
export function deviceDeactivate(deviceId: string): Promise<AccountInfo> {
  return call(commands.deviceDeactivate(deviceId));
}

/** Puts back what the account holds on this computer, without a charge. */
export function libraryRestore(): Promise<RestoreResult> {
  return call(commands.libraryRestore());
}
