/** The seeding policy as stored, read when the Downloads page opens and changed by its form. */
import { commands, type SeedingPolicy } from "../ipc";
import { notice } from "../notice.svelte";

let policy = $state<SeedingPolicy | null>(null);

export const sharing = {
  get policy(): SeedingPolicy | null {
    return policy;
  },
  /** Reads the stored policy. */
  load(): void {
    commands
      .downloadsSeedingGet()
      .then((p) => (policy = p))
      .catch((e) => notice.show(e));
  },
  /** Stores a new policy; rejects with the core's sentence when it is out of range. */
  async set(next: SeedingPolicy): Promise<void> {
    policy = await commands.downloadsSeedingSet(next);
  },
};
