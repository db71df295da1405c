/** The wallet balance shown in the top bar. */
import { commands, toAppError, type Wallet } from "../ipc";
import { notice } from "../notice.svelte";

let wallet = $state<Wallet | null>(null);

export const walletState = {
  get value(): Wallet | null {
    return wallet;
  },
  set(value: Wallet): void {
    wallet = value;
  },
  /** Signed out: no wallet to show. */
  clear(): void {
    wallet = null;
  },
  async refresh(): Promise<void> {
    try {
      wallet = await commands.walletGet();
    } catch (e) {
      // Signed out is not a failure: the top bar offers to sign in instead.
      if (toAppError(e).kind === "signed_out") {
        wallet = null;
        return;
      }
      notice.show(e);
    }
  },
};
