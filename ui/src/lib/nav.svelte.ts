/**
 * Which screen is showing. One window: a tab (Store, Live, Library, Downloads, Account or
 * Settings), the
 * Store's page (its home, a section, a series, an artist or a studio), a detail sheet, the player.
 */
import { tick } from "svelte";
import { BackStack } from "./history";
import type { Section } from "./store/browse";

export type Tab = "store" | "live" | "library" | "downloads" | "account" | "settings";

/** A page of the Store. */
export type StoreView =
  | { page: "home" }
  | { page: "section"; section: Section }
  | { page: "series"; name: string }
  | { page: "artist"; name: string }
  | { page: "studio"; name: string };

const HOME: StoreView = { page: "home" };

/** The view as one string, for the back stack: "home", "section:films", "series:Orbital". */
function keyOf(view: StoreView): string {
  switch (view.page) {
    case "home":
      return "home";
    case "section":
      return `section:${view.section}`;
    default:
      return `${view.page}:${view.name}`;
  }
}

function viewOf(key: string | undefined): StoreView {
  if (!key || key === "home") return HOME;
  const at = key.indexOf(":");
  const page = key.slice(0, at);
  const rest = key.slice(at + 1);
  if (page === "section") return { page, section: rest as Section };
  if (page === "series" || page === "artist" || page === "studio") return { page, name: rest };
  return HOME;
}

let tab = $state<Tab>("store");
let detailId = $state<string | null>(null);
let view = $state.raw<StoreView>(HOME);
const history = new BackStack<Tab>();

/** Leaves the current place for `to` (its page `next`, `detail` open), remembering it for Back. */
function go(to: Tab, detail: string | null, next: StoreView = view): void {
  const changedPage = keyOf(next) !== keyOf(view);
  if (to === tab && detail === detailId && !changedPage) return;
  history.leave({ tab, detailId, view: keyOf(view) });
  tab = to;
  detailId = detail;
  view = next;
  // A new page starts at its top, as a web page does.
  if (changedPage) window.scrollTo({ top: 0 });
}

export const nav = {
  get tab(): Tab {
    return tab;
  },
  /** Another tab keeps the Store's page; the Store's tab pressed on the Store goes home. */
  set tab(value: Tab) {
    go(value, detailId, value === "store" && tab === "store" ? HOME : view);
  },
  get detailId(): string | null {
    return detailId;
  },
  /** The Store's page. */
  get view(): StoreView {
    return view;
  },
  /** Shows a page of the Store (its sheet, if one is open, closes). */
  show(next: StoreView): void {
    go("store", null, next);
  },
  openDetail(titleId: string): void {
    go(tab, titleId);
  },
  closeDetail(): void {
    detailId = null;
  },
  /** Goes back to the place before (Alt+Left, the mouse's back button); false when there is none. */
  back(): boolean {
    const place = history.back({ tab, detailId, view: keyOf(view) });
    if (!place) return false;
    const changedPage = (place.view ?? "home") !== keyOf(view);
    tab = place.tab;
    detailId = place.detailId;
    view = viewOf(place.view);
    if (changedPage) window.scrollTo({ top: 0 });
    return true;
  },
  /** Shows the Store's home and scrolls a shelf (`shelf-{id}`) into view once it is on screen. */
  async revealShelf(id: string): Promise<void> {
    go("store", null, HOME);
    await tick();
    document.querySelector(`[data-testid="shelf-${CSS.escape(id)}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
  },
};
