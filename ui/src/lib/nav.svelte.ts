/** Which screen is showing. One window: a tab (Store, Live, Library, Downloads or Account), a detail sheet, the player. */
import { tick } from "svelte";

export type Tab = "store" | "live" | "library" | "downloads" | "account";

let tab = $state<Tab>("store");
let detailId = $state<string | null>(null);

export const nav = {
  get tab(): Tab {
    return tab;
  },
  set tab(value: Tab) {
    tab = value;
  },
  get detailId(): string | null {
    return detailId;
  },
  openDetail(titleId: string): void {
    detailId = titleId;
  },
  closeDetail(): void {
    detailId = null;
  },
  /** Shows the Store and scrolls a shelf (`shelf-{id}`) into view once it is on screen. */
  async revealShelf(id: string): Promise<void> {
    detailId = null;
    tab = "store";
    await tick();
    document.querySelector(`[data-testid="shelf-${CSS.escape(id)}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
  },
};
