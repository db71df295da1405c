/**
 * The one door to the backend. Components call `commands.<name>(..)`: the functions generated
 * in `bindings.ts` from the Rust side's command table (`cargo xtask bindings`), so command
 * names, argument names and types, results and event names cannot drift from it, each wrapped
 * once here so that whatever a call rejects with is an `AppError`. Components never call
 * `invoke` themselves.
 *
 * What is written by hand below is only what is not a pass-through: commands that stream to
 * the page take a callback instead of a `Channel`, and the events.
 */
import { Channel } from "@tauri-apps/api/core";
import type { UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { commands as generated, events, ERROR_KINDS } from "./bindings";
import type {
  AppError,
  BroadcastStatus,
  Connection,
  DataFolderProgress,
  DownloadProgress,
  DroppedFile,
  LiveBroadcast,
  LiveSession,
  LiveStatus,
  PublishDraft,
  PublishProgress,
} from "./bindings";

export type * from "./bindings";

/** True for a value shaped like the backend's `{kind, message, params}` error (`params` may be
 * missing: `toAppError` adds it). */
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
 * `{kind, message, params}`; Tauri itself may reject with a bare string (for example a missing
 * permission), and a bug may throw an `Error`.
 */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value.params ? value : { ...value, params: {} };
  // What Tauri or a bug says is shown as it came (`errors.text.internal_shell`).
  const said = (text: string): AppError => ({ kind: "internal", message: text, params: { detail: text, variant: "shell" } });
  if (typeof value === "string" && value.trim() !== "") return said(value);
  if (value instanceof Error && value.message) return said(value.message);
  // No values: the window says only that something went wrong (`errors.unexplained`).
  return {
    kind: "internal",
    message: "Something went wrong inside Marquee. Try again, and restart the app if it keeps happening.",
    params: {},
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

/** The commands that take a `Channel`: the page calls them through the callback functions below. */
const STREAMING = [
  "downloadsWatch",
  "connectionWatch",
  "publishPrepare",
  "liveWatch",
  "liveGoLive",
  "settingsDataFolderMove",
] as const;
type Streaming = (typeof STREAMING)[number];

type Generated = typeof generated;

/** A generated command as the page calls it: `null` (Rust's `()`) reads as nothing. */
type Wrapped<F> = F extends (...args: infer A) => Promise<infer T>
  ? (...args: A) => Promise<[T] extends [null] ? void : T>
  : never;

/**
 * Every command the page calls directly, typed from the bindings, rejecting with an
 * `AppError` whatever went wrong.
 */
export const commands = Object.fromEntries(
  Object.entries(generated)
    .filter(([name]) => !(STREAMING as readonly string[]).includes(name))
    .map(([name, command]) => [
      name,
      (...args: unknown[]) => call((command as (...a: unknown[]) => Promise<unknown>)(...args)),
    ]),
) as { [K in Exclude<keyof Generated, Streaming>]: Wrapped<Generated[K]> };

/**
 * Subscribes to download progress; the backend pushes the whole list about twice a second.
 * Call once at start-up.
 */
export function downloadsWatch(onProgress: (list: DownloadProgress[]) => void): Promise<void> {
  const channel = new Channel<DownloadProgress[]>();
  channel.onmessage = onProgress;
  return run(generated.downloadsWatch(channel));
}

/**
 * Subscribes to whether the store answers: the backend pushes the state at once and again at
 * every change. Call once at start-up.
 */
export function connectionWatch(onChange: (connection: Connection) => void): Promise<void> {
  const channel = new Channel<Connection>();
  channel.onmessage = onChange;
  return run(generated.connectionWatch(channel));
}

/**
 * Subscribes to files dropped on the window (the shell's `files-dropped` event; paths stay in
 * Rust); resolves to the function that unsubscribes.
 */
export function onFilesDropped(handler: (files: DroppedFile[]) => void): Promise<UnlistenFn> {
  return events.filesDropped.listen((event) => handler(event.payload));
}

/**
 * Subscribes to `magnet:` links opened with the app (a browser, the desktop, a second launch);
 * resolves to the function that unsubscribes.
 */
export function onLinksOpened(handler: (links: string[]) => void): Promise<UnlistenFn> {
  return events.linksOpened.listen((event) => handler(event.payload));
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
 * Checks a dropped video, copies it into the app's data folder, makes its torrent and starts
 * seeding it. Progress: `copying` with bytes, then `hashing`. Rejects with `cancelled` after
 * `publishCancel`, `publish_refused` for a file that cannot be published.
 */
export function publishPrepare(dropId: string, onProgress: (p: PublishProgress) => void): Promise<PublishDraft> {
  const channel = new Channel<PublishProgress>();
  channel.onmessage = onProgress;
  return call(generated.publishPrepare(dropId, channel));
}


/**
 * Moves Marquee's data folder to `to` (a `Marquee` folder inside it when it holds files) and
 * restarts there; `onProgress` hears the bytes copied. Resolves only when it did not happen:
 * it rejects with `settings_refused` (inside the data folder, not writable, no room) with
 * nothing changed, or `internal` when the copy failed and Marquee went on from the old folder.
 */
export function settingsDataFolderMove(to: string, onProgress: (p: DataFolderProgress) => void): Promise<void> {
  const channel = new Channel<DataFolderProgress>();
  channel.onmessage = onProgress;
  return run(generated.settingsDataFolderMove(to, channel));
}

/**
 * Starts watching a live channel (leaving any other): the core joins its relay and answers
 * where the player reads the verified stream from; `onStatus` hears where this viewer stands
 * once a second until `liveLeave`. Rejects with `live_ended` for a channel no longer on the
 * air, `live_unavailable` when it cannot be watched here.
 */
export function liveWatch(channel: string, onStatus: (s: LiveStatus) => void): Promise<LiveSession> {
  const channelOut = new Channel<LiveStatus>();
  channelOut.onmessage = onStatus;
  return call(generated.liveWatch(channel, channelOut));
}

/**
 * Goes live with a checked video (`livePrepare`), looped, under `title`, with `poster` (a JPEG
 * `data:` URL) as its picture: the core starts a broadcaster node and lists the channel in the
 * store's directory. `onStatus` hears its viewers
 * and this computer's upload once a second until `liveBroadcastStop`.
 */
export function liveGoLive(
  dropId: string,
  title: string,
  poster: string | null,
  onStatus: (s: BroadcastStatus) => void,
): Promise<LiveBroadcast> {
  const channel = new Channel<BroadcastStatus>();
  channel.onmessage = onStatus;
  return call(generated.liveGoLive(dropId, title, poster, channel));
}
