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
  /** Opens `title` on the local playback server and shows the player. */
  async open(title: Title): Promise<boolean> {
    opening = title.id;
    try {
      const source = await commands.playbackOpen(title.id);
      session = { title, source };
      return true;
    } catch (e) {
      notice.show(e, () => void player.open(title));
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
