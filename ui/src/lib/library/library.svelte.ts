/**
 * The local library and live download progress. Entries come from `library_list` and from
 * each acquire; progress pushed by `downloads_watch` replaces each entry's download state.
 */
import { commands, downloadsWatch, type DownloadProgress, type LibraryEntry } from "../ipc";
import { notice } from "../notice.svelte";

let entries = $state<LibraryEntry[]>([]);
let loaded = $state(false);
let progress = $state<Record<string, DownloadProgress>>({});
let refreshing: Promise<void> | null = null;
/** Ids that made us refresh once already, so a torrent outside the library cannot loop. */
const refreshedFor = new Set<string>();

export const library = {
  get entries(): LibraryEntry[] {
    return entries;
  },
  get loaded(): boolean {
    return loaded;
  },
  entry(titleId: string): LibraryEntry | undefined {
    return entries.find((e) => e.title.id === titleId);
  },
  /** Latest progress for a title: pushed progress first, else what the library listed. */
  download(titleId: string): DownloadProgress | undefined {
    return progress[titleId] ?? library.entry(titleId)?.download;
  },
  upsert(entry: LibraryEntry): void {
    const i = entries.findIndex((e) => e.title.id === entry.title.id);
    if (i >= 0) entries[i] = entry;
    else entries = [entry, ...entries];
  },
  refresh(): Promise<void> {
    refreshing ??= commands.libraryList()
      .then((list) => {
        entries = [...list].sort((a, b) => b.acquired_at_ms - a.acquired_at_ms);
        loaded = true;
      })
      .catch((e) => notice.show(e, () => void library.refresh()))
      .finally(() => (refreshing = null));
    return refreshing;
  },
  /** Subscribes to download progress for the life of the app. */
  async watch(): Promise<void> {
    try {
      await downloadsWatch((list) => {
        const next: Record<string, DownloadProgress> = {};
        let unknown = false;
        for (const p of list) {
          next[p.title_id] = p;
          // A game installs once its download completes: list again to learn where.
          const entry = entries.find((e) => e.title.id === p.title_id);
          if (entry?.title.kind === "game" && entry.local_path === null && (p.state === "seeding" || p.state === "done")) {
            unknown = true;
          }
          if (loaded && !refreshedFor.has(p.title_id) && !entries.some((e) => e.title.id === p.title_id)) {
            refreshedFor.add(p.title_id);
            unknown = true;
          }
        }
        progress = next;
        if (unknown) void library.refresh();
      });
    } catch (e) {
      notice.show(e);
    }
  },
};
