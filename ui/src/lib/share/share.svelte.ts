/**
 * Sharing a free title outside the store: its magnet link, its `.torrent`, the file itself.
 * Magnet links are fetched ahead (`prefetch`) so "Copy" can write to the clipboard while the
 * click still counts as a user gesture (WebKit refuses clipboard writes after an await).
 */
import { t } from "../i18n/i18n.svelte";
import { commands } from "../ipc";
import { notice } from "../notice.svelte";
import { toast } from "../toast.svelte";

export type ShareAction = "magnet" | "torrent" | "export";

const magnets = new Map<string, string>();
let busy = $state<Record<string, ShareAction | undefined>>({});

async function magnetFor(titleId: string): Promise<string> {
  const known = magnets.get(titleId);
  if (known) return known;
  const { magnet } = await commands.titleShare(titleId);
  magnets.set(titleId, magnet);
  return magnet;
}

/** Copies with the async clipboard API, else with the older selection-based command. */
async function writeClipboard(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) throw new Error(t("share.noClipboard", { link: text }));
  }
}

async function run(titleId: string, action: ShareAction, work: () => Promise<void>): Promise<void> {
  if (busy[titleId]) return;
  busy[titleId] = action;
  try {
    await work();
  } catch (e) {
    notice.show(e);
  } finally {
    busy[titleId] = undefined;
  }
}

function fileName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

export const share = {
  /** Which share action is running for a title. */
  busy(titleId: string): ShareAction | undefined {
    return busy[titleId];
  },
  /** Fetches a title's magnet link ahead of a click; failures wait for the click. */
  prefetch(titleId: string): void {
    magnetFor(titleId).catch(() => {});
  },
  copyMagnet(titleId: string): Promise<void> {
    return run(titleId, "magnet", async () => {
      await writeClipboard(await magnetFor(titleId));
      toast.show(t("share.copied"));
    });
  },
  saveTorrent(titleId: string): Promise<void> {
    return run(titleId, "torrent", async () => {
      const path = await commands.titleSaveTorrent(titleId);
      if (path !== null) toast.show(t("share.saved", { file: fileName(path) }));
    });
  },
  exportFile(titleId: string): Promise<void> {
    return run(titleId, "export", async () => {
      const path = await commands.titleExport(titleId);
      if (path !== null) toast.show(t("share.exported", { file: fileName(path) }));
    });
  },
};
