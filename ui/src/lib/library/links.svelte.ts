/**
 * `magnet:` links from outside the window (a browser, the desktop, a second launch of Marquee):
 * each is added like a link pasted in the Library, and the Library is shown.
 */
import { commands, onLinksOpened } from "../ipc";
import { nav } from "../nav.svelte";
import { notice } from "../notice.svelte";
import { alreadyInLibraryText, importedText } from "../publish/labels";
import { toast } from "../toast.svelte";
import { library } from "./library.svelte";

/** Adds one magnet link to the library; `false` after saying why it could not. */
export async function openMagnet(link: string): Promise<boolean> {
  try {
    const known = new Set(library.entries.map((e) => e.title.id));
    const entry = await commands.magnetOpen(link.trim());
    library.upsert(entry);
    // A store title (or one added before) comes back as it is: say so, not "added".
    const fresh = entry.title.origin === "external" && !known.has(entry.title.id);
    toast.show(fresh ? importedText(entry.title.name) : alreadyInLibraryText(entry.title.name));
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
