/** The wallet balance shown in the top bar. */
import { walletGet, type Wallet } from "../ipc";
import { notice } from "../notice.svelte";

let wallet = $state<Wallet | null>(null);

export const walletState = {
  get value(): Wallet | null {
    return wallet;
  },
  set(value: Wallet): void {
    wallet = value;
  },
  async refresh(): Promise<void> {
    try {
      wallet = await walletGet();
    } catch (e) {
      notice.show(e);
    }
  },
};
