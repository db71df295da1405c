/** The store's catalog, loaded once at start-up (and again on "Try again"). */
import { commands, type Title } from "../ipc";
import { notice } from "../notice.svelte";

let titles = $state<Title[] | null>(null);
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
  async load(): Promise<void> {
    loading = true;
    failed = false;
    try {
      titles = await commands.catalogList();
    } catch (e) {
      failed = true;
      notice.show(e, () => void catalog.load());
    } finally {
      loading = false;
    }
  },
};
