/** Which screen is showing. One window: a tab (Store, Live, Library, Downloads or Account), a detail sheet, the player. */
import { tick } from "svelte";
import { BackStack } from "./history";

export type Tab = "store" | "live" | "library" | "downloads" | "account";

let tab = $state<Tab>("store");
let detailId = $state<string | null>(null);
const history = new BackStack<Tab>();

/** Leaves the current place for `tab` with `detail` open, remembering it for Back. */
function go(to: Tab, detail: string | null): void {
  if (to === tab && detail === detailId) return;
  history.leave({ tab, detailId });
  tab = to;
  detailId = detail;
}

export const nav = {
  get tab(): Tab {
    return tab;
  },
  set tab(value: Tab) {
    go(value, detailId);
  },
  get detailId(): string | null {
    return detailId;
  },
  openDetail(titleId: string): void {
    go(tab, titleId);
  },
  closeDetail(): void {
    detailId = null;
  },
  /** Goes back to the place before (Alt+Left, the mouse's back button); false when there is none. */
  back(): boolean {
    const place = history.back({ tab, detailId });
    if (!place) return false;
    tab = place.tab;
    detailId = place.detailId;
    return true;
  },
  /** Shows the Store and scrolls a shelf (`shelf-{id}`) into view once it is on screen. */
  async revealShelf(id: string): Promise<void> {
    go("store", null);
    await tick();
    document.querySelector(`[data-testid="shelf-${CSS.escape(id)}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
  },
};
