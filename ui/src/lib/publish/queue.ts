/**
 * Dropped or picked files wait in one line, one sheet at a time, in drop order: a video opens
 * the publish sheet, a `.torrent` file the sheet that shows what it holds before it is added
 * (a torrent from a stranger is never added unseen). The same drop can arrive twice (the
 * `files-dropped` event and `drops_pending` at start-up), so files are kept by `drop_id`.
 */
import type { DroppedFile } from "../ipc/bindings";

export class DropQueue {
  #waiting: DroppedFile[] = [];
  #seen = new Set<string>();

  /** Takes new files: they join the line. */
  add(files: readonly DroppedFile[]): void {
    for (const f of files) {
      if (this.#seen.has(f.drop_id)) continue;
      this.#seen.add(f.drop_id);
      this.#waiting.push(f);
    }
  }

  /** The file whose sheet is open, if any. */
  get current(): DroppedFile | null {
    return this.#waiting[0] ?? null;
  }

  /** How many files wait behind the current one. */
  get waiting(): number {
    return Math.max(0, this.#waiting.length - 1);
  }

  /** Done with the current file (published, added, discarded, cancelled or refused): the next. */
  next(): DroppedFile | null {
    this.#waiting.shift();
    return this.current;
  }
}
