/**
 * Going live from this computer: the "Go live" sheet (a WebM video, checked before anything
 * starts, and a title) and the broadcast once it runs, with what the core says about it once a
 * second (viewers, this computer's upload). One broadcast at a time; it keeps running with the
 * window closed, as seeding does, until Stop or Quit.
 */
import {
  commands,
  liveGoLive,
  toAppError,
  type AppError,
  type BroadcastStatus,
  type DroppedFile,
  type LiveBroadcast,
  type LiveDraft,
  type LivePreview,
} from "../ipc";

let sheetOpen = $state(false);
let file = $state<DroppedFile | null>(null);
let draft = $state<LiveDraft | null>(null);
/** The first seconds of the checked video, for the preview and its poster frame. */
let preview = $state<LivePreview | null>(null);
let problem = $state<AppError | null>(null);
let busy = $state<"pick" | "check" | "start" | "stop" | null>(null);
let current = $state<LiveBroadcast | null>(null);
let status = $state<BroadcastStatus | null>(null);

async function check(f: DroppedFile): Promise<void> {
  file = f;
  draft = null;
  preview = null;
  problem = null;
  busy = "check";
  try {
    const checked = await commands.livePrepare(f.drop_id);
    preview = await commands.livePreview(checked.drop_id);
    draft = checked;
  } catch (e) {
    problem = toAppError(e);
  } finally {
    busy = null;
  }
}

export const broadcast = {
  get sheetOpen(): boolean {
    return sheetOpen;
  },
  get file(): DroppedFile | null {
    return file;
  },
  get draft(): LiveDraft | null {
    return draft;
  },
  get preview(): LivePreview | null {
    return preview;
  },
  get problem(): AppError | null {
    return problem;
  },
  get busy(): string | null {
    return busy;
  },
  /** The broadcast running from this computer, if any. */
  get current(): LiveBroadcast | null {
    return current;
  },
  get status(): BroadcastStatus | null {
    return status;
  },
  /** Opens the "Go live" sheet, waiting for a video. */
  open(): void {
    sheetOpen = true;
    file = null;
    draft = null;
    problem = null;
  },
  close(): void {
    sheetOpen = false;
    file = null;
    draft = null;
    preview = null;
    problem = null;
  },
  /**
   * Takes a video dropped (or opened with the app) while the sheet waits for one; answers the
   * files it left for the publish sheet.
   */
  take(files: DroppedFile[]): DroppedFile[] {
    if (!sheetOpen || busy !== null || draft !== null) return files;
    const video = files.find((f) => f.kind === "video");
    if (!video) return files;
    void check(video);
    return files.filter((f) => f !== video);
  },
  /** "Choose a video…": the system's file dialog. */
  async pick(): Promise<void> {
    if (busy !== null) return;
    busy = "pick";
    let picked: DroppedFile | null = null;
    try {
      picked = await commands.livePick();
    } catch (e) {
      problem = toAppError(e);
    } finally {
      busy = null;
    }
    if (picked) await check(picked);
  },
  /**
   * Starts broadcasting the checked video under `title`, with `poster` (a JPEG `data:` URL) as
   * its picture; the sheet closes once it is live.
   */
  async start(title: string, poster: string | null): Promise<void> {
    if (!draft || busy !== null) return;
    busy = "start";
    problem = null;
    try {
      status = null;
      current = await liveGoLive(draft.drop_id, title, poster, (s) => {
        status = s;
        if (s.state === "ended") current = null;
      });
      broadcast.close();
    } catch (e) {
      problem = toAppError(e);
    } finally {
      busy = null;
    }
  },
  /** Ends the broadcast: the directory stops listing it and viewers are told it ended. */
  async stop(): Promise<void> {
    if (busy !== null) return;
    busy = "stop";
    try {
      await commands.liveBroadcastStop();
      current = null;
      status = null;
    } catch (e) {
      problem = toAppError(e);
    } finally {
      busy = null;
    }
  },
};
