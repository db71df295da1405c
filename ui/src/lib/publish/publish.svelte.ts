/**
 * Files handed to Marquee (dropped on the window, picked, or opened with it), one sheet after
 * another: videos open the publish sheet (unless the "Go live" sheet is waiting for one),
 * `.torrent` files the sheet that shows what they hold and adds them to the library once the
 * person agrees.
 */
import { commands, onFilesDropped, type DroppedFile, type LibraryEntry } from "../ipc";
import { broadcast } from "../live/broadcast.svelte";
import { library } from "../library/library.svelte";
import { nav } from "../nav.svelte";
import { notice } from "../notice.svelte";
import { catalog } from "../store/catalog.svelte";
import { toast } from "../toast.svelte";
import { importedText, publishedText } from "./labels";
import { DropQueue } from "./queue";

const queue = new DropQueue();
let current = $state<DroppedFile | null>(null);
let waiting = $state(0);
let picking = $state(false);

function sync(): void {
  current = queue.current;
  waiting = queue.waiting;
}

export const publishing = {
  /** The file whose sheet is open: a video to publish or a torrent to look at. */
  get current(): DroppedFile | null {
    return current;
  },
  /** Files waiting for their sheet. */
  get waiting(): number {
    return waiting;
  },
  /** True while the system file dialog is open. */
  get picking(): boolean {
    return picking;
  },
  receive(files: DroppedFile[]): void {
    // A video dropped while the "Go live" sheet waits for one goes live instead.
    queue.add(broadcast.take(files));
    sync();
  },
  /** Listens for dropped files, then takes those that came before. Returns a stop function. */
  async start(): Promise<() => void> {
    try {
      const stop = await onFilesDropped((files) => publishing.receive(files));
      publishing.receive(await commands.dropsPending());
      return stop;
    } catch (e) {
      notice.show(e);
      return () => {};
    }
  },
  /** The "Publish" button: the system file dialog, then the same path as a drop. */
  async pick(): Promise<void> {
    if (picking) return;
    picking = true;
    try {
      publishing.receive(await commands.publishPick());
    } catch (e) {
      notice.show(e);
    } finally {
      picking = false;
    }
  },
  /** The current sheet is done (discarded, cancelled or refused): on to the next file. */
  done(): void {
    queue.next();
    sync();
  },
  /** A torrent was added after its sheet: it is in the library, not from the store. */
  imported(entry: LibraryEntry): void {
    library.upsert(entry);
    publishing.done();
    toast.show(importedText(entry.title.name));
  },
  /** A video was published: show it on the community shelf. */
  async published(entry: LibraryEntry): Promise<void> {
    library.upsert(entry);
    publishing.done();
    toast.show(publishedText(entry.title.name));
    await Promise.all([catalog.load(), library.refresh()]);
    await nav.revealShelf("community");
  },
};
