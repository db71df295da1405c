/** Which screen is showing. One window: a tab (Store or Library), a detail sheet, the player. */
export type Tab = "store" | "library";

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
};
