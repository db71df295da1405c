/**
 * The give-back card's state: what this computer received and gave, polled every 5 s while the
 * downloads view is open, over the span the person picked.
 */
import { untrack } from "svelte";
import { commands, type GiveBack, type GiveBackSpan } from "../ipc";
import { notice } from "../notice.svelte";

const POLL_MS = 5000;

let span = $state<GiveBackSpan>("day");
let data = $state<GiveBack | null>(null);

async function refresh(): Promise<void> {
  const asked = span;
  try {
    const got = await commands.downloadsGiveBack(asked);
    // A reply for a span the person has since left is not shown over the new one.
    if (asked === span) data = got;
  } catch (e) {
    notice.show(e, () => void refresh());
  }
}

export const giveBack = {
  /** The span the chart shows. */
  get span(): GiveBackSpan {
    return span;
  },
  /** The last reply for the current span, `null` before the first. */
  get data(): GiveBack | null {
    return data !== null && data.span === span ? data : null;
  },
  /** The last reply, whatever its span: the totals do not depend on it. */
  get last(): GiveBack | null {
    return data;
  },
  /** Shows another span, asking for it at once. */
  choose(next: GiveBackSpan): void {
    if (next === span) return;
    span = next;
    void refresh();
  },
  /**
   * Polls while the view is open; returns the function that stops. The first ask reads the span
   * untracked, so the `$effect` that starts the polling does not restart it on every choice.
   */
  start(): () => void {
    untrack(() => void refresh());
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  },
};
