/** The title being played, if any. */
import { commands, type PlaybackSource, type Title } from "../ipc";
import { library } from "../library/library.svelte";
import { notice } from "../notice.svelte";

export type PlayerSession = { title: Title; source: PlaybackSource };

let session = $state<PlayerSession | null>(null);
let opening = $state<string | null>(null);

export const player = {
  get session(): PlayerSession | null {
    return session;
  },
  /** The title id being opened, for spinners. */
  get opening(): string | null {
    return opening;
  },
  /**
   * Opens `title` on the local playback server and shows the player, from where the person
   * left it or from `at` seconds (another quality of what was playing, switched to).
   */
  async open(title: Title, at?: number): Promise<boolean> {
    opening = title.id;
    try {
      const source = await commands.playbackOpen(title.id);
      session = { title, source: at === undefined ? source : { ...source, position_s: at } };
      return true;
    } catch (e) {
      notice.show(e, () => void player.open(title, at));
      return false;
    } finally {
      opening = null;
    }
  },
  close(): void {
    session = null;
    // The saved position and a rental's clock changed while playing.
    void library.refresh();
  },
};
