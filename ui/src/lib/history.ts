/**
 * The back stack of the window's places (a tab and the Store's page, with or without a title's
 * sheet open), for Alt+Left and the mouse's back button. Plain data, so it is tested without a
 * window.
 */
export type Place<Tab extends string> = {
  tab: Tab;
  detailId: string | null;
  /** The Store's page ("section:films", "series:Orbital"…); absent is its home. */
  view?: string;
};

const same = <T extends string>(a: Place<T>, b: Place<T>) =>
  a.tab === b.tab && a.detailId === b.detailId && (a.view ?? "home") === (b.view ?? "home");

export class BackStack<Tab extends string> {
  private places: Place<Tab>[] = [];

  constructor(private readonly limit = 50) {}

  /** Remembers `from`, the place being left for another. */
  leave(from: Place<Tab>): void {
    const last = this.places[this.places.length - 1];
    if (last && same(last, from)) return;
    this.places.push({ ...from });
    if (this.places.length > this.limit) this.places.shift();
  }

  /** The place to go back to from `current` (skipping any that is where the person already is), or null. */
  back(current: Place<Tab>): Place<Tab> | null {
    for (let place = this.places.pop(); place; place = this.places.pop()) {
      if (!same(place, current)) return place;
    }
    return null;
  }

  /** True when there is somewhere to go back to. */
  get canGoBack(): boolean {
    return this.places.length > 0;
  }
}
