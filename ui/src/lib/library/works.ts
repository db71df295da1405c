/** The library by work: a film held in SD and HD (quality switched while watching) is one film. */
import type { LibraryEntry } from "../ipc/bindings";

export interface HeldWork {
  /** The variant shown: the best quality held. */
  entry: LibraryEntry;
  /** Every variant held, `entry` among them, in library order. */
  held: LibraryEntry[];
}

/** One item per work (`workOf` names an entry's work), in the order of each work's first entry. */
export function byWork(entries: readonly LibraryEntry[], workOf: (titleId: string) => string): HeldWork[] {
  const by = new Map<string, LibraryEntry[]>();
  for (const e of entries) {
    const work = workOf(e.title.id);
    const list = by.get(work);
    if (list) list.push(e);
    else by.set(work, [e]);
  }
  return [...by.values()].map((held) => ({
    entry: held.reduce((best, e) => (e.title.height > best.title.height ? e : best)),
    held,
  }));
}
