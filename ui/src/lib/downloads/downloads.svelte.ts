/**
 * The downloads view's state: the list, polled once a second while the view is open (it needs
 * names and time left, which the library's pushed progress does not carry), and the limits.
 */
import {
  commands,
  type DownloadItem,
  type DownloadLimits,
  type SpeedsInForce,
} from "../ipc";
import { library } from "../library/library.svelte";
import { notice } from "../notice.svelte";

const POLL_MS = 1000;

let items = $state<DownloadItem[]>([]);
let loaded = $state(false);
let limits = $state<DownloadLimits | null>(null);
/** The speeds in force now: the limits inside their schedule, none outside it. */
let inForce = $state<SpeedsInForce | null>(null);
/** The title a button is working on, so its row shows it and does not take a second click. */
let busy = $state<string | null>(null);

async function refresh(): Promise<void> {
  try {
    items = await commands.downloadsList();
    // Only a schedule changes the speeds in force from one minute to the next.
    if (limits?.schedule) inForce = await commands.downloadsSpeedsInForce();
    loaded = true;
  } catch (e) {
    notice.show(e, () => void refresh());
  }
}

/** Runs an action on one title, then shows the list (and the library) as it now is. */
async function act(titleId: string, action: () => Promise<void>): Promise<boolean> {
  if (busy !== null) return false;
  busy = titleId;
  try {
    await action();
    return true;
  } catch (e) {
    notice.show(e);
    return false;
  } finally {
    busy = null;
    await refresh();
    void library.refresh();
  }
}

export const downloads = {
  get items(): DownloadItem[] {
    return items;
  },
  get loaded(): boolean {
    return loaded;
  },
  get limits(): DownloadLimits | null {
    return limits;
  },
  get inForce(): SpeedsInForce | null {
    return inForce;
  },
  get busy(): string | null {
    return busy;
  },
  /** Reads the stored limits (the settings page needs only these). */
  loadLimits(): void {
    commands.downloadsLimitsGet()
      .then((l) => (limits = l))
      .catch((e) => notice.show(e));
  },
  /** Polls while the view is open; returns the function that stops. */
  start(): () => void {
    void refresh();
    downloads.loadLimits();
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  },
  pause(titleId: string): Promise<boolean> {
    return act(titleId, () => commands.downloadPause(titleId));
  },
  resume(titleId: string): Promise<boolean> {
    return act(titleId, () => commands.downloadResume(titleId));
  },
  remove(titleId: string, deleteFiles: boolean): Promise<boolean> {
    return act(titleId, () => commands.downloadRemove(titleId, deleteFiles));
  },
  /** Moves a title to place `toPosition` (from 1) in the download queue. */
  move(titleId: string, toPosition: number): Promise<boolean> {
    return act(titleId, () => commands.downloadMove(titleId, toPosition));
  },
  /** Stores new limits; rejects with the core's sentence when one is out of range. */
  async setLimits(next: DownloadLimits): Promise<void> {
    limits = await commands.downloadsLimitsSet(next);
    inForce = await commands.downloadsSpeedsInForce();
  },
};
