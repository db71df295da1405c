/**
 * `magnet:` links from outside the window (a browser, the desktop, a second launch of Marquee):
 * each is opened like a link pasted in the Library, and the Library is shown.
 */
import { commands, onLinksOpened } from "../ipc";
import { nav } from "../nav.svelte";
import { notice } from "../notice.svelte";
import { alreadyInLibraryText } from "../publish/labels";
import { publishing } from "../publish/publish.svelte";
import { toast } from "../toast.svelte";
import { library } from "./library.svelte";

/**
 * Opens one magnet link: a title already in the library is shown as it is; any other link gets
 * the torrent sheet, which asks peers for the link's details and shows them before anything is
 * added (a link names only a hash: what it holds is whatever its peers say). `false` after
 * saying why it could not.
 */
export async function openMagnet(link: string): Promise<boolean> {
  try {
    const opened = await commands.magnetOpen(link.trim());
    if (opened.kind === "in_library") {
      library.upsert(opened.entry);
      toast.show(alreadyInLibraryText(opened.entry.title.name));
    } else {
      publishing.receive([opened.file]);
    }
    return true;
  } catch (e) {
    notice.show(e);
    return false;
  }
}

async function receive(links: string[]): Promise<void> {
  if (links.length === 0) return;
  nav.closeDetail();
  nav.tab = "library";
  for (const link of links) await openMagnet(link);
}

export const links = {
  /** Listens for opened links, then takes those that came before. Returns a stop function. */
  async start(): Promise<() => void> {
    try {
      const stop = await onLinksOpened((list) => void receive(list));
      await receive(await commands.linksPending());
      return stop;
    } catch (e) {
      notice.show(e);
      return () => {};
    }
  },
};
