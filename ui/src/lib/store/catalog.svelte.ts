/** The store's catalog, loaded once at start-up (and again on "Try again"). */
import { commands, type Title } from "../ipc";
import { notice } from "../notice.svelte";
import { groupByWork } from "./shelves";

// Raw: thousands of titles, replaced whole on each load, never changed in place.
let titles = $state.raw<Title[] | null>(null);
// Each work's variants, made once per load on first use.
let works: { of: Title[]; by: Map<string, Title[]> } | null = null;
let loading = $state(false);
let failed = $state(false);

export const catalog = {
  get titles(): Title[] | null {
    return titles;
  },
  get loading(): boolean {
    return loading;
  },
  get failed(): boolean {
    return failed;
  },
  byId(id: string): Title | undefined {
    return titles?.find((t) => t.id === id);
  },
  /** The variants of the work `work` (SD before HD); just the one title for most works. */
  variants(work: string): Title[] {
    if (!titles) return [];
    if (works?.of !== titles) works = { of: titles, by: groupByWork(titles) };
    return works.by.get(work) ?? [];
  },
  async load(): Promise<void> {
    loading = true;
    failed = false;
    try {
      // Where a start's time goes (the storefront window test reads the first of each).
      performance.mark("marquee:catalog-asked");
      const listed = await commands.catalogList();
      performance.mark("marquee:catalog-answered");
      titles = listed;
    } catch (e) {
      failed = true;
      notice.show(e, () => void catalog.load());
    } finally {
      loading = false;
    }
  },
};
