/** Labels for what a title costs and what its main button does. */
import { formatClock, formatMoney, licenceEnded } from "../format";
import { t } from "../i18n/i18n.svelte";
import type { LibraryEntry, Offer, RentalTerms, Title, Wallet } from "../ipc/bindings";

/** The price chip on a card: "Rent $4.00", "Buy $2.00", "Free". */
export function priceChip(offer: Offer): string {
  switch (offer.kind) {
    case "free":
      return t("store.offer.chip.free");
    case "rent":
      return t("store.offer.chip.rent", { price: formatMoney(offer.price_cents, offer.currency) });
    case "buy":
      return t("store.offer.chip.buy", { price: formatMoney(offer.price_cents, offer.currency) });
  }
}

/** "Owned" / "Rented" / "Free" badge for a card whose title is in the library. */
export function libraryBadge(entry: LibraryEntry | undefined, nowMs: number): string | null {
  if (!entry) return null;
  switch (entry.licence.status) {
    case "owned":
      return t("store.offer.badge.owned");
    case "free":
      return t("store.offer.badge.in_library");
    case "not_started":
    case "running":
      return licenceEnded(entry.licence, nowMs) ? null : t("store.offer.badge.rented");
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
    return { kind: "none", label: t("store.offer.action.other_computer") };
  }
  const usable = entry !== undefined && !licenceEnded(entry.licence, nowMs);
  if (usable) {
    if (!isVideo(title)) return { kind: "none", label: t("store.offer.action.in_library") };
    const pos = entry.position_s;
    return { kind: "watch", label: pos >= 1 ? t("store.offer.action.resume", { time: formatClock(pos) }) : t("store.offer.action.watch") };
  }
  if (!title.for_sale) return { kind: "none", label: t("store.offer.action.coming_soon") };
  if (variantHeld && holdsHere(variantHeld, nowMs) && title.offer.kind !== "free") {
    return { kind: "acquire", label: t("store.offer.action.watch_in", { quality: qualityBadge(title.height) }), free: true };
  }
  if (!isVideo(title)) {
    return title.offer.kind === "free"
      ? { kind: "acquire", label: t("store.offer.action.download_free") }
      : { kind: "acquire", label: t("store.offer.action.buy_download", { price }) };
  }
  switch (title.offer.kind) {
    case "free":
      return { kind: "acquire", label: t("store.offer.action.watch_free") };
    case "rent":
      return { kind: "acquire", label: entry ? t("store.offer.action.rent_again", { price }) : t("store.offer.action.rent_watch", { price }) };
    case "buy":
      return { kind: "acquire", label: t("store.offer.action.buy_watch", { price }) };
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
  return title.series ? t("store.offer.episode", { season: title.series.season, episode: title.series.episode }) : null;
}

/** "Film", "Episode", "Music video", "Game", "Community". */
export function kindLabel(title: Title): string {
  switch (title.kind) {
    case "film":
      return t("store.offer.kind.film");
    case "episode":
      return t("store.offer.kind.episode");
    case "music_video":
      return t("store.offer.kind.music_video");
    case "game":
      return t("store.offer.kind.game");
    case "community_video":
      return t("store.offer.kind.community_video");
  }
}

/** The licence a free title is shared under, as a badge: "DRM-free · CC BY 4.0". */
export function shareBadge(title: Title): string | null {
  if (title.offer.kind !== "free") return null;
  return title.licence_to_share
    ? t("store.offer.share_under", { licence: title.licence_to_share })
    : t("store.offer.share");
}

/** "Community · Free" for a free community title, "Community" for another one, else null. */
export function communityBadge(title: Title): string | null {
  if (title.kind !== "community_video") return null;
  return title.offer.kind === "free" ? t("store.offer.community_free") : t("store.offer.community");
}

/** Where a library title came from, when it is not the store: a badge, else null. */
export function originBadge(title: Title): string | null {
  switch (title.origin) {
    case "published":
      return t("store.offer.origin.published");
    case "external":
      return t("store.offer.origin.external");
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
  if (seconds >= 86_400 && seconds % 86_400 === 0 && seconds / 86_400 !== 2) {
    return t("store.offer.span.days", { count: seconds / 86_400 });
  }
  if (seconds >= 3_600 && seconds % 3_600 === 0) return t("store.offer.span.hours", { count: seconds / 3_600 });
  return t("store.offer.span.minutes", { count: Math.max(1, Math.round(seconds / 60)) });
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
  return t("store.offer.rental_summary", { start: termSpan(r.start_within_s), window: termSpan(r.play_window_s) });
}

export function orderTerms(title: Title, wallet: Wallet | null): OrderTerms | null {
  const offer = title.offer;
  if (offer.kind === "free" || offer.price_cents <= 0) return null;
  let terms: string;
  if (offer.kind === "rent") {
    const r = title.rental ?? DEFAULT_RENTAL;
    terms = t("store.offer.terms.rent", { start: termSpan(r.start_within_s), window: termSpan(r.play_window_s) });
  } else if (!isVideo(title)) {
    terms = t("store.offer.terms.game");
  } else {
    terms = t("store.offer.terms.video");
  }
  const verb = offer.kind === "rent" ? t("store.offer.verb.rent") : t("store.offer.verb.buy");
  return charge(verb, offer.price_cents, offer.currency, terms, wallet);
}

/**
 * What the confirmation before buying a season says: `count` episodes for `totalCents`
 * together. Null when there is nothing to pay for.
 */
export function seasonTerms(count: number, totalCents: number, currency: string, wallet: Wallet | null): OrderTerms | null {
  if (count === 0 || totalCents <= 0) return null;
  const terms = t("store.offer.terms.season", { count });
  return charge(t("store.offer.verb.buy"), totalCents, currency, terms, wallet);
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
        ? t("store.offer.wallet_change", {
            before: formatMoney(wallet.balance_cents, wallet.currency),
            after: formatMoney(after, wallet.currency),
          })
        : null,
    short:
      after !== null && after < 0
        ? t("store.offer.short", { balance: formatMoney(wallet!.balance_cents, wallet!.currency) })
        : null,
  };
}
