/**
 * The detail sheet's main button: play what is already licensed, or place an order (one
 * order id per intent, see `orders.ts`) and then play or download.
 */
import { clock } from "../clock.svelte";
import { commands, toAppError, type Title } from "../ipc";
import { library } from "../library/library.svelte";
import { notice } from "../notice.svelte";
import { player } from "../player/player.svelte";
import { walletState } from "../wallet/wallet.svelte";
import { isVideo, primaryAction } from "./offer";
import { OrderBook } from "./orders";

const orders = new OrderBook();
let busy = $state<string | null>(null);

/** True while the main action for `titleId` is running. */
export function isBusy(titleId: string): boolean {
  return busy === titleId || player.opening === titleId;
}

/** Runs the main action for `title`. Resolves true when the player opened. */
export async function runPrimary(title: Title): Promise<boolean> {
  if (busy !== null) return false;
  const action = primaryAction(title, library.entry(title.id), clock.now);
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
