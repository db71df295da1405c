/** Labels for what a title costs and what its main button does. */
import { formatClock, formatMoney, licenceEnded } from "../format";
import type { LibraryEntry, Offer, RentalTerms, Title, Wallet } from "../ipc/bindings";

/** The price chip on a card: "Rent $4.00", "Buy $2.00", "Free". */
export function priceChip(offer: Offer): string {
  switch (offer.kind) {
    case "free":
      return "Free";
    case "rent":
      return `Rent ${formatMoney(offer.price_cents, offer.currency)}`;
    case "buy":
      return `Buy ${formatMoney(offer.price_cents, offer.currency)}`;
  }
}

/** "Owned" / "Rented" / "Free" badge for a card whose title is in the library. */
export function libraryBadge(entry: LibraryEntry | undefined, nowMs: number): string | null {
  if (!entry) return null;
  switch (entry.licence.status) {
    case "owned":
      return "Owned";
    case "free":
      return "In library";
    case "not_started":
    case "running":
      return licenceEnded(entry.licence, nowMs) ? null : "Rented";
    case "expired":
    case "revoked":
    case "other_device":
      return null;
  }
}

export function isVideo(title: Title): boolean {
  return title.kind !== "game";
}

/** What pressing the detail sheet's main button will do. */
export type PrimaryAction =
  /** `free`: nothing is charged (another quality of the work is held), so nothing to confirm. */
  | { kind: "acquire"; label: string; free?: boolean }
  | { kind: "watch"; label: string }
  | { kind: "none"; label: string };

/**
 * The detail sheet's main button. A title already licensed on this device never goes
 * through an order again: it plays straight away. `variantHeld`: what the person holds of the
 * work's other quality (SD for HD), which opens this one without a charge while it plays here.
 */
export function primaryAction(
  title: Title,
  entry: LibraryEntry | undefined,
  nowMs: number,
  variantHeld?: LibraryEntry,
): PrimaryAction {
  const price = formatMoney(title.offer.price_cents, title.offer.currency);
  if (entry?.licence.status === "other_device" && title.offer.kind === "buy") {
    // A purchase made on another computer moves here from the Library, without a new charge.
    return { kind: "none", label: "Licensed to another computer" };
  }
  const usable = entry !== undefined && !licenceEnded(entry.licence, nowMs);
  if (usable) {
    if (!isVideo(title)) return { kind: "none", label: "In your library" };
    const pos = entry.position_s;
    return { kind: "watch", label: pos >= 1 ? `Resume from ${formatClock(pos)}` : "Watch" };
  }
  if (!title.for_sale) return { kind: "none", label: "Coming soon" };
  if (variantHeld && holdsHere(variantHeld, nowMs) && title.offer.kind !== "free") {
    return { kind: "acquire", label: `Watch in ${qualityBadge(title.height)}`, free: true };
  }
  if (!isVideo(title)) {
    return title.offer.kind === "free"
      ? { kind: "acquire", label: "Download free" }
      : { kind: "acquire", label: `Buy & download · ${price}` };
  }
  switch (title.offer.kind) {
    case "free":
      return { kind: "acquire", label: "Watch free" };
    case "rent":
      return { kind: "acquire", label: entry ? `Rent again · ${price}` : `Rent & watch · ${price}` };
    case "buy":
      return { kind: "acquire", label: `Buy & watch · ${price}` };
  }
}

/** A paid licence that plays on this computer now (not ended, not moved to another). */
function holdsHere(entry: LibraryEntry, nowMs: number): boolean {
  const status = entry.licence.status;
  return (status === "owned" || status === "running" || status === "not_started") && !licenceEnded(entry.licence, nowMs);
}

/** "HD" from 720 lines up, else "SD". */
export function qualityBadge(height: number): "HD" | "SD" {
  return height >= 720 ? "HD" : "SD";
}

/** "S1 · E1" for episodes, null otherwise. */
export function episodeLabel(title: Title): string | null {
  return title.series ? `S${title.series.season} · E${title.series.episode}` : null;
}

/** "Film", "Episode", "Music video", "Game", "Community". */
export function kindLabel(title: Title): string {
  switch (title.kind) {
    case "film":
      return "Film";
    case "episode":
      return "Episode";
    case "music_video":
      return "Music video";
    case "game":
      return "Game";
    case "community_video":
      return "Community";
  }
}

/** The licence a free title is shared under, as a badge: "DRM-free · CC BY 4.0". */
export function shareBadge(title: Title): string | null {
  if (title.offer.kind !== "free") return null;
  return title.licence_to_share ? `DRM-free · ${title.licence_to_share}` : "DRM-free";
}

/** "Community · Free" for a free community title, "Community" for another one, else null. */
export function communityBadge(title: Title): string | null {
  if (title.kind !== "community_video") return null;
  return title.offer.kind === "free" ? "Community · Free" : "Community";
}

/** Where a library title came from, when it is not the store: a badge, else null. */
export function originBadge(title: Title): string | null {
  switch (title.origin) {
    case "published":
      return "Published by you";
    case "external":
      return "Not from the store";
    case "store":
      return null;
  }
}

/** Free titles can be shared outside the store: magnet link, `.torrent`, the file itself. */
export function isShareable(title: Title): boolean {
  return title.offer.kind === "free";
}

/** A span of seconds as a rental states it: "30 days", "48 hours", "90 minutes". */
export function termSpan(seconds: number): string {
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  if (seconds >= 86_400 && seconds % 86_400 === 0 && seconds / 86_400 !== 2) return unit(seconds / 86_400, "day");
  if (seconds >= 3_600 && seconds % 3_600 === 0) return unit(seconds / 3_600, "hour");
  return unit(Math.max(1, Math.round(seconds / 60)), "minute");
}

/** What the confirmation before a charge says: what is bought, its price, its terms, and the
 * wallet before and after. Null for what charges nothing (free titles, watching again). */
export interface OrderTerms {
  /** "Rent", "Buy". */
  verb: string;
  /** "$4.00". */
  price: string;
  /** What the person gets, in sentences. */
  terms: string;
  /** "$20.00 → $16.00", or null when the wallet is not known yet. */
  wallet: string | null;
  /** Set when the wallet cannot pay: what to do. */
  short: string | null;
}

/** The store's default rental terms, for a feed that states none (older stores). */
const DEFAULT_RENTAL: RentalTerms = { start_within_s: 30 * 86_400, play_window_s: 48 * 3_600 };

/** The rental line under a title's description, from the terms the feed states. */
export function rentalSummary(title: Title): string {
  const r = title.rental ?? DEFAULT_RENTAL;
  return `Rentals: ${termSpan(r.start_within_s)} to start, ${termSpan(r.play_window_s)} once you start watching.`;
}

export function orderTerms(title: Title, wallet: Wallet | null): OrderTerms | null {
  const offer = title.offer;
  if (offer.kind === "free" || offer.price_cents <= 0) return null;
  let terms: string;
  if (offer.kind === "rent") {
    const r = title.rental ?? DEFAULT_RENTAL;
    terms =
      `You have ${termSpan(r.start_within_s)} to start watching, then ${termSpan(r.play_window_s)} to finish. ` +
      "It plays on this computer.";
  } else if (!isVideo(title)) {
    terms = "Yours to keep: it downloads and installs on this computer.";
  } else {
    terms = "Yours to keep. It plays on one of your computers at a time; your Library can move it to another.";
  }
  return charge(offer.kind === "rent" ? "Rent" : "Buy", offer.price_cents, offer.currency, terms, wallet);
}

/**
 * What the confirmation before buying a season says: `count` episodes for `totalCents`
 * together. Null when there is nothing to pay for.
 */
export function seasonTerms(count: number, totalCents: number, currency: string, wallet: Wallet | null): OrderTerms | null {
  if (count === 0 || totalCents <= 0) return null;
  const each = count === 1 ? "The episode is" : `All ${count} episodes are`;
  const terms =
    `${each} yours to keep, each one a purchase of its own on your receipts. ` +
    "They play on one of your computers at a time; your Library can move them to another.";
  return charge("Buy", totalCents, currency, terms, wallet);
}

/** The price and the wallet before and after, for a charge of `cents`. */
function charge(verb: string, cents: number, currency: string, terms: string, wallet: Wallet | null): OrderTerms {
  const sameCurrency = wallet !== null && wallet.currency === currency;
  const after = sameCurrency ? wallet.balance_cents - cents : null;
  return {
    verb,
    price: formatMoney(cents, currency),
    terms,
    wallet:
      sameCurrency && after !== null && after >= 0
        ? `${formatMoney(wallet.balance_cents, wallet.currency)} → ${formatMoney(after, wallet.currency)}`
        : null,
    short:
      after !== null && after < 0
        ? `Your wallet holds ${formatMoney(wallet!.balance_cents, wallet!.currency)}: add a voucher on your account page first.`
        : null,
  };
}
