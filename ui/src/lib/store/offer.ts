/** Labels for what a title costs and what its main button does. */
import { formatClock, formatPrice, licenceEnded } from "../format";
import type { LibraryEntry, Offer, Title } from "../ipc/bindings";

/** The price chip on a card: "Rent 4.00", "Buy 2.00", "Free". */
export function priceChip(offer: Offer): string {
  switch (offer.kind) {
    case "free":
      return "Free";
    case "rent":
      return `Rent ${formatPrice(offer.price_cents, offer.currency)}`;
    case "buy":
      return `Buy ${formatPrice(offer.price_cents, offer.currency)}`;
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
  | { kind: "acquire"; label: string }
  | { kind: "watch"; label: string }
  | { kind: "none"; label: string };

/**
 * The detail sheet's main button. A title already licensed on this device never goes
 * through an order again: it plays straight away.
 */
export function primaryAction(title: Title, entry: LibraryEntry | undefined, nowMs: number): PrimaryAction {
  const price = formatPrice(title.offer.price_cents, title.offer.currency);
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
