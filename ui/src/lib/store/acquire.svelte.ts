/**
 * The detail sheet's main button: play what is already licensed, or place an order (one
 * order id per intent, see `orders.ts`) and then play or download.
 */
import { clock } from "../clock.svelte";
import { t } from "../i18n/i18n.svelte";
import { commands, toAppError, type Title } from "../ipc";
import { library } from "../library/library.svelte";
import { notice } from "../notice.svelte";
import { player } from "../player/player.svelte";
import { walletState } from "../wallet/wallet.svelte";
import { catalog } from "./catalog.svelte";
import { toast } from "../toast.svelte";
import { isVideo, primaryAction, qualityBadge } from "./offer";
import { OrderBook } from "./orders";

const orders = new OrderBook();
let busy = $state<string | null>(null);

/** What the person holds of `title`'s work in another quality (its SD for its HD), if anything. */
export function variantHeld(title: Title) {
  return catalog
    .variants(title.work)
    .filter((v) => v.id !== title.id)
    .map((v) => library.entry(v.id))
    .find(Boolean);
}

/** True while the main action for `titleId` is running. */
export function isBusy(titleId: string): boolean {
  return busy === titleId || player.opening === titleId;
}

/** Runs the main action for `title`. Resolves true when the player opened. */
export async function runPrimary(title: Title): Promise<boolean> {
  if (busy !== null) return false;
  const action = primaryAction(title, library.entry(title.id), clock.now, variantHeld(title));
  if (action.kind === "none") return false;
  if (action.kind === "watch") return player.open(title);

  busy = title.id;
  try {
    const result = await orders.place(title.id, commands.titleAcquire);
    library.upsert(result.entry);
    walletState.set(result.wallet);
    void walletState.refresh();
    if (!isVideo(title)) return false;
    return await player.open(title);
  } catch (e) {
    // A purchase playing on another computer: the banner's action moves it here.
    const move = toAppError(e).kind === "licensed_elsewhere";
    notice.show(e, move ? () => void moveHere(title) : () => void runPrimary(title));
    return false;
  } finally {
    busy = null;
  }
}

/** "Move it here": the store licenses the purchase to this computer and revokes the other's. */
async function moveHere(title: Title): Promise<void> {
  busy = title.id;
  try {
    library.upsert(await commands.licenceMove(title.id));
    if (isVideo(title)) await player.open(title);
  } catch (e) {
    notice.show(e);
  } finally {
    busy = null;
  }
}

/**
 * Switches the player to `to`, another quality of the work playing, at `at` seconds: its
 * licence comes from the store without a charge (the work is held here), then it plays from
 * the same moment. Anything that would charge is refused: switching never buys.
 */
export async function switchQuality(to: Title, at: number): Promise<boolean> {
  const action = primaryAction(to, library.entry(to.id), clock.now, variantHeld(to));
  if (action.kind === "acquire" && !action.free) {
    // What plays here no longer covers the other quality (a rental that ended meanwhile):
    // that is a new order, made from the title's sheet with its price shown, never from here.
    toast.show(t("store.acquire.not_included", { quality: qualityBadge(to.height), name: to.name }));
    return false;
  }
  if (action.kind === "acquire") {
    busy = to.id;
    try {
      const result = await orders.place(to.id, commands.titleAcquire);
      library.upsert(result.entry);
      walletState.set(result.wallet);
    } catch (e) {
      notice.show(e, () => void switchQuality(to, at));
      return false;
    } finally {
      busy = null;
    }
  }
  return player.open(to, at);
}

/** A season being bought: which (`key`), and how many of its episodes are done. */
let season = $state<{ key: string; done: number; of: number } | null>(null);

/** The season being bought now, if any. */
export function seasonProgress(): { key: string; done: number; of: number } | null {
  return season;
}

/**
 * Buys a season (`key` names it) once the person confirmed its total: one order per episode,
 * in order, each with its own order id in the same book as single purchases, so pressing
 * "Buy the season" again after a failure retries what may have reached the store and never
 * pays twice for an episode. Stops at the first refusal. Resolves how many were bought.
 */
export async function buySeason(key: string, episodes: readonly Title[]): Promise<number> {
  if (busy !== null || season !== null) return 0;
  season = { key, done: 0, of: episodes.length };
  try {
    for (const title of episodes) {
      const result = await orders.place(title.id, commands.titleAcquire);
      library.upsert(result.entry);
      walletState.set(result.wallet);
      season = { key, done: season.done + 1, of: episodes.length };
    }
    return episodes.length;
  } catch (e) {
    const done = season?.done ?? 0;
    notice.show(e, () => void buySeason(key, episodes.filter((t) => library.entry(t.id) === undefined)));
    return done;
  } finally {
    season = null;
    void walletState.refresh();
  }
}
