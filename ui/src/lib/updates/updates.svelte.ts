/**
 * Updates: checked once at start; a newer Marquee is offered with what is new, and installed
 * (then restarted into) only when the person agrees. A refusal keeps the running version.
 */
import { commands, type UpdateInfo } from "../ipc";
import { notice } from "../notice.svelte";

let offer = $state<UpdateInfo | null>(null);
let installing = $state(false);
let dismissed = $state(false);

export const updates = {
  /** The update on offer, unless the person said "Later". */
  get offer(): UpdateInfo | null {
    return dismissed ? null : offer;
  },
  get installing(): boolean {
    return installing;
  },
  /** Asks once; a failed check is said once and changes nothing. */
  async check(): Promise<void> {
    try {
      offer = await commands.updateCheck();
    } catch (e) {
      notice.show(e);
    }
  },
  /** Installs and restarts; on a refusal the offer goes and the reason is shown. */
  async install(): Promise<void> {
    if (installing) return;
    installing = true;
    try {
      await commands.updateInstall();
    } catch (e) {
      offer = null;
      notice.show(e);
    } finally {
      installing = false;
    }
  },
  later(): void {
    dismissed = true;
  },
};
