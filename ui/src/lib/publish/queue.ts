/**
 * What to do with dropped or picked files: videos wait in line for the publish sheet (one
 * sheet at a time), `.torrent` files are added straight away. The same drop can arrive twice
 * (the `files-dropped` event and `drops_pending` at start-up), so files are kept by `drop_id`.
 */
import type { DroppedFile } from "../ipc/bindings";

export class DropQueue {
  #waiting: DroppedFile[] = [];
  #seen = new Set<string>();

  /** Takes new files; returns the torrents to import now. Videos join the line. */
  add(files: readonly DroppedFile[]): DroppedFile[] {
    const torrents: DroppedFile[] = [];
    for (const f of files) {
      if (this.#seen.has(f.drop_id)) continue;
      this.#seen.add(f.drop_id);
      if (f.kind === "video") this.#waiting.push(f);
      else torrents.push(f);
    }
    return torrents;
  }

  /** The video whose sheet is open, if any. */
  get current(): DroppedFile | null {
    return this.#waiting[0] ?? null;
  }

  /** How many videos wait behind the current one. */
  get waiting(): number {
    return Math.max(0, this.#waiting.length - 1);
  }

  /** Done with the current video (published, discarded, cancelled or refused): the next one. */
  next(): DroppedFile | null {
    this.#waiting.shift();
    return this.current;
  }
}
