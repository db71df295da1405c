/**
 * Whether the store answers, as the backend pushes it (`connection_watch`). Offline the app runs
 * on what this computer holds; when the store is back, `onBack` refreshes what the store alone
 * knows (the catalog, the account, the wallet).
 */
import { connectionWatch, type Connection } from "../ipc";

let current = $state<Connection | null>(null);

export const connection = {
  get current(): Connection | null {
    return current;
  },
  /** True once the backend said the store does not answer, until it says it does again. */
  get offline(): boolean {
    return current !== null && !current.online;
  },
  /** Starts listening; `onBack` runs each time the store answers again after being away. */
  async start(onBack: () => void): Promise<void> {
    try {
      await connectionWatch((next) => {
        const wasOffline = current !== null && !current.online;
        current = next;
        if (wasOffline && next.online) onBack();
      });
    } catch {
      // The core did not open: the error banner already says why.
    }
  },
};
