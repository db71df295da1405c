import { describe, expect, it } from "vitest";
import type { LibraryEntry, LicenceState, Offer, Title, Wallet } from "../ipc/bindings";
import {
  communityBadge,
  episodeLabel,
  isShareable,
  libraryBadge,
  originBadge,
  orderTerms,
  seasonTerms,
  priceChip,
  primaryAction,
  qualityBadge,
  rentalSummary,
  shareBadge,
  termSpan,
} from "./offer";

const NOW = 1_700_000_000_000;

function title(over: Partial<Title> = {}): Title {
  return {
    id: "t1",
    kind: "film",
    name: "Night Train",
    synopsis: "",
    year: 2024,
    runtime_s: 92,
    genre: "Drama",
    studio: "Studio",
    artist: null,
    new_release: true,
    poster_url: "",
    backdrop_url: null,
    series: null,
    offer: { kind: "rent", price_cents: 400, currency: "EUR" },
    width: 1280,
    height: 720,
    size_bytes: 1,
    licence_to_share: null,
    origin: "store",
    publisher: null,
    for_sale: true,
    rental: { start_within_s: 30 * 86_400, play_window_s: 48 * 3_600 },
    variant: null,
    work: "t1",
    ...over,
  };
}

function entry(t: Title, licence: Partial<LicenceState>, position_s = 0): LibraryEntry {
  return {
    title: t,
    acquired_at_ms: NOW,
    licence: { kind: t.offer.kind, status: "owned", start_by_ms: null, ends_at_ms: null, ...licence },
    download: {
      title_id: t.id,
      state: "downloading",
      downloaded_bytes: 0,
      total_bytes: 1,
      down_bytes_per_s: 0,
      up_bytes_per_s: 0,
      peers: 0,
      error: null,
    },
    position_s,
    local_path: null,
  };
}

const offer = (kind: Offer["kind"], price_cents: number): Offer => ({ kind, price_cents, currency: "EUR" });

describe("priceChip", () => {
  it("labels each offer", () => {
    expect(priceChip(offer("rent", 400))).toBe("Rent €4.00");
    expect(priceChip(offer("buy", 200))).toBe("Buy €2.00");
    expect(priceChip(offer("free", 0))).toBe("Free");
  });
});

describe("primaryAction", () => {
  it("offers to rent, buy or watch free", () => {
    expect(primaryAction(title(), undefined, NOW)).toEqual({ kind: "acquire", label: "Rent & watch · €4.00" });
    expect(primaryAction(title({ kind: "episode", offer: offer("buy", 200) }), undefined, NOW)).toEqual({
      kind: "acquire",
      label: "Buy & watch · €2.00",
    });
    expect(primaryAction(title({ kind: "game", offer: offer("buy", 500) }), undefined, NOW)).toEqual({
      kind: "acquire",
      label: "Buy & download · €5.00",
    });
    expect(primaryAction(title({ offer: offer("free", 0) }), undefined, NOW)).toEqual({
      kind: "acquire",
      label: "Watch free",
    });
  });

  it("plays what is already licensed without a new order", () => {
    const t = title();
    expect(primaryAction(t, entry(t, { status: "owned" }), NOW)).toEqual({ kind: "watch", label: "Watch" });
    expect(primaryAction(t, entry(t, { status: "running", ends_at_ms: NOW + 1000 }, 42.6), NOW)).toEqual({
      kind: "watch",
      label: "Resume from 0:42",
    });
    expect(primaryAction(t, entry(t, { status: "not_started", start_by_ms: NOW + 1000 }), NOW).kind).toBe("watch");
  });

  it("opens another quality of a work held here without a charge, and only while it plays here", () => {
    const sd = title({ id: "film-sd", height: 480 });
    const hd = title({ id: "film", height: 1080 });
    const rented = entry(sd, { status: "running", ends_at_ms: NOW + 1000 });
    expect(primaryAction(hd, undefined, NOW, rented)).toEqual({ kind: "acquire", label: "Watch in HD", free: true });
    const ended = entry(sd, { status: "expired", ends_at_ms: NOW - 1 });
    expect(primaryAction(hd, undefined, NOW, ended)).toEqual({ kind: "acquire", label: "Rent & watch · €4.00" });
    const elsewhere = entry(sd, { status: "other_device" });
    expect(primaryAction(hd, undefined, NOW, elsewhere).label).toBe("Rent & watch · €4.00");
  });

  it("offers a new rental once the old one ended", () => {
    const t = title();
    expect(primaryAction(t, entry(t, { status: "expired", ends_at_ms: NOW - 1 }), NOW)).toEqual({
      kind: "acquire",
      label: "Rent again · €4.00",
    });
    expect(primaryAction(t, entry(t, { status: "running", ends_at_ms: NOW - 1 }), NOW).kind).toBe("acquire");
  });

  it("has nothing to play for an owned game", () => {
    const g = title({ kind: "game", offer: offer("buy", 500) });
    expect(primaryAction(g, entry(g, { status: "owned" }), NOW)).toEqual({ kind: "none", label: "In your library" });
  });
});

describe("badges", () => {
  it("marks owned and rented cards", () => {
    const t = title();
    expect(libraryBadge(undefined, NOW)).toBeNull();
    expect(libraryBadge(entry(t, { status: "owned" }), NOW)).toBe("Owned");
    expect(libraryBadge(entry(t, { status: "running", ends_at_ms: NOW + 1 }), NOW)).toBe("Rented");
    expect(libraryBadge(entry(t, { status: "expired" }), NOW)).toBeNull();
  });
  it("derives HD from the height", () => {
    expect(qualityBadge(720)).toBe("HD");
    expect(qualityBadge(1080)).toBe("HD");
    expect(qualityBadge(480)).toBe("SD");
  });
  it("labels episodes and shareable titles", () => {
    expect(episodeLabel(title({ series: { series: "Harbour", season: 1, episode: 2 } }))).toBe("S1 · E2");
    expect(episodeLabel(title())).toBeNull();
    expect(shareBadge(title({ offer: offer("free", 0), licence_to_share: "CC BY 4.0" }))).toBe("DRM-free · CC BY 4.0");
    expect(shareBadge(title())).toBeNull();
  });
});

describe("community and origin labels", () => {
  const free: Offer = { kind: "free", price_cents: 0, currency: "EUR" };
  it("marks community titles, free ones as such", () => {
    expect(communityBadge(title({ kind: "community_video", offer: free }))).toBe("Community · Free");
    expect(communityBadge(title({ kind: "community_video" }))).toBe("Community");
    expect(communityBadge(title({ offer: free }))).toBeNull();
  });
  it("names where a library title came from", () => {
    expect(originBadge(title({ origin: "published" }))).toBe("Published by you");
    expect(originBadge(title({ origin: "external" }))).toBe("Not from the store");
    expect(originBadge(title({ origin: "store" }))).toBeNull();
  });
  it("shares free titles only", () => {
    expect(isShareable(title({ offer: free }))).toBe(true);
    expect(isShareable(title())).toBe(false);
  });
});

describe("titles not for sale", () => {
  it("are listed without an order button", () => {
    const t = { ...title({ offer: offer("rent", 400) }), for_sale: false };
    expect(primaryAction(t, undefined, NOW)).toEqual({ kind: "none", label: "Coming soon" });
  });
});

describe("the confirmation before a charge", () => {
  const wallet = (balance_cents: number, currency = "EUR"): Wallet => ({ balance_cents, currency });

  it("states the price, the rental terms from the feed and the wallet after", () => {
    expect(orderTerms(title(), wallet(2000))).toEqual({
      verb: "Rent",
      price: "€4.00",
      terms: "You have 30 days to start watching, then 48 hours to finish. It plays on this computer.",
      wallet: "€20.00 → €16.00",
      short: null,
    });
    const short = title({ rental: { start_within_s: 7 * 86_400, play_window_s: 90 * 60 } });
    expect(orderTerms(short, wallet(2000))?.terms).toBe(
      "You have 7 days to start watching, then 90 minutes to finish. It plays on this computer.",
    );
    expect(rentalSummary(short)).toBe("Rentals: 7 days to start, 90 minutes once you start watching.");
  });
  it("says what a purchase is, for a video and for a game", () => {
    const episode = orderTerms(title({ kind: "episode", offer: offer("buy", 200) }), wallet(2000));
    expect(episode?.verb).toBe("Buy");
    expect(episode?.terms).toMatch(/^Yours to keep\. It plays on one of your computers at a time/);
    const game = orderTerms(title({ kind: "game", offer: offer("buy", 1500) }), wallet(2000));
    expect(game?.terms).toBe("Yours to keep: it downloads and installs on this computer.");
  });
  it("stops a charge the wallet cannot pay, and says what to do", () => {
    const terms = orderTerms(title(), wallet(100));
    expect(terms?.wallet).toBeNull();
    expect(terms?.short).toBe("Your wallet holds €1.00: add a voucher on your account page first.");
  });
  it("asks nothing for what is free, and leaves out a wallet it does not know", () => {
    expect(orderTerms(title({ offer: offer("free", 0) }), wallet(2000))).toBeNull();
    expect(orderTerms(title(), null)?.wallet).toBeNull();
    expect(orderTerms(title(), wallet(2000, "USD"))?.wallet).toBeNull();
  });
  it("words spans as a rental states them", () => {
    expect(termSpan(30 * 86_400)).toBe("30 days");
    expect(termSpan(2 * 86_400)).toBe("48 hours");
    expect(termSpan(3_600)).toBe("1 hour");
    expect(termSpan(90 * 60)).toBe("90 minutes");
  });
  it("totals a season and says each episode is a purchase of its own", () => {
    const terms = seasonTerms(3, 600, "EUR", wallet(2000));
    expect(terms?.price).toBe("€6.00");
    expect(terms?.verb).toBe("Buy");
    expect(terms?.wallet).toBe("€20.00 → €14.00");
    expect(terms?.terms).toMatch(/^All 3 episodes are yours to keep/);
    expect(seasonTerms(3, 600, "EUR", wallet(500))?.short).toBe("Your wallet holds €5.00: add a voucher on your account page first.");
    expect(seasonTerms(0, 0, "EUR", wallet(500))).toBeNull();
  });
});
