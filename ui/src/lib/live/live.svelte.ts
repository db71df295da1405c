/**
 * Live channels: the directory's listing (refreshed while the Live section is open) and the
 * channel being watched, with where this viewer stands (pushed by the core once a second).
 */
import { commands, liveWatch, toAppError, type AppError, type LiveChannel, type LiveSession, type LiveStatus } from "../ipc";
import { notice } from "../notice.svelte";

/** How often the listing is asked for again while the section shows. */
const REFRESH_MS = 5000;

let channels = $state<LiveChannel[]>([]);
let loaded = $state(false);
/** Why the listing could not be shown (a store without a directory, offline), if so. */
let listError = $state<AppError | null>(null);
let session = $state<LiveSession | null>(null);
let status = $state<LiveStatus | null>(null);
/** The channel being joined, for its card's spinner. */
let joining = $state<string | null>(null);
/** When the person asked to watch (performance.now()), for the time to the first frame. */
let clickedAt = 0;
/** Click to the core's answer (the relay joined through the directory), ms. */
let joinMs = $state<number | null>(null);
/** Counts watch calls: a status heard by an earlier call's channel is not this one's. */
let watches = 0;

async function refresh(): Promise<void> {
  try {
    channels = await commands.liveChannels();
    listError = null;
  } catch (e) {
    listError = toAppError(e);
  } finally {
    loaded = true;
  }
}

export const live = {
  get channels(): LiveChannel[] {
    return channels;
  },
  get loaded(): boolean {
    return loaded;
  },
  get listError(): AppError | null {
    return listError;
  },
  /** The store has no directory of live channels: nothing to watch, nowhere to go live. */
  get notOffered(): boolean {
    return listError?.kind === "live_not_offered";
  },
  get session(): LiveSession | null {
    return session;
  },
  get status(): LiveStatus | null {
    return status;
  },
  get joining(): string | null {
    return joining;
  },
  get clickedAt(): number {
    return clickedAt;
  },
  get joinMs(): number | null {
    return joinMs;
  },
  refresh,
  /** Refreshes the listing now and every few seconds; returns the function that stops. */
  start(): () => void {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  },
  /** Joins `channel`'s relay and opens the live player. */
  async watch(channel: LiveChannel): Promise<void> {
    if (joining !== null) return;
    joining = channel.channel;
    clickedAt = performance.now();
    joinMs = null;
    status = null;
    try {
      const mine = ++watches;
      session = await liveWatch(channel.channel, (s) => {
        if (mine !== watches) return;
        // Watching stopped on the Rust side (the window closed): the player closes.
        if (s.state === "stopped") {
          session = null;
          status = null;
        } else status = s;
      });
      joinMs = Math.round(performance.now() - clickedAt);
    } catch (e) {
      notice.show(e, () => void live.watch(channel));
      void refresh();
    } finally {
      joining = null;
    }
  },
  /** Leaves the channel: the relay stops and the player closes. */
  async leave(): Promise<void> {
    watches++;
    session = null;
    status = null;
    try {
      await commands.liveLeave();
    } catch (e) {
      notice.show(e);
    }
    void refresh();
  },
};
