/**
 * Browsing like a store: the sections (Films, TV, Music videos, Games, Community), their
 * filters and sort, a series with its seasons, the pages of an artist or a studio, and "more
 * like this". Plain functions over the catalog, so they are tested without a window.
 */
import { t } from "../i18n/i18n.svelte";
import type { Title, TitleKind } from "../ipc/bindings";
import { groupByWork, onePerWork } from "./shelves";

/** A section of the store: one kind of title. */
export type Section = "films" | "tv" | "music" | "games" | "community";

/** The sections in the order the store shows them. */
export const SECTIONS: readonly { id: Section; kind: TitleKind }[] = [
  { id: "films", kind: "film" },
  { id: "tv", kind: "episode" },
  { id: "music", kind: "music_video" },
  { id: "games", kind: "game" },
  { id: "community", kind: "community_video" },
];

/** A section's name, as its pill and its page show it: "Films", "TV", "Music videos"… */
export function sectionLabel(section: Section): string {
  return t(`store.sections.${section}`);
}

export type Quality = "sd" | "hd";

/** What a section is narrowed to; null is "any". */
export interface Filters {
  genre: string | null;
  /** The first year of a decade: 2020 is 2020–2029. */
  decade: number | null;
  quality: Quality | null;
  /** The most a person will pay, in the store's minor units; 0 is "free only". */
  maxPriceCents: number | null;
}

export const NO_FILTERS: Filters = { genre: null, decade: null, quality: null, maxPriceCents: null };

export type Sort = "featured" | "newest" | "oldest" | "name" | "price_low" | "price_high";

export const SORTS: readonly Sort[] = ["featured", "newest", "oldest", "name", "price_low", "price_high"];

/** A sort's name in the Sort menu: "Featured", "A–Z", "Price: low to high"… */
export function sortLabel(sort: Sort): string {
  return t(`store.sorts.${sort}`);
}

/** A series as the TV section shows it: one card, its episodes one per work. */
export interface SeriesSummary {
  name: string;
  studio: string;
  genre: string;
  /** The year of its first episode. */
  year: number;
  /** The last year it aired. */
  lastYear: number;
  seasons: number[];
  /** One title per episode (the HD variant where there is one), by season then episode. */
  episodes: Title[];
  /** The first episode, whose poster stands for the series. */
  first: Title;
}

/** One thing a section lists, with what its filters and sort read. */
export interface Entry<T> {
  item: T;
  key: string;
  name: string;
  genre: string;
  year: number;
  qualities: ReadonlySet<Quality>;
  /** The lowest price of anything in it, minor units (0: free). */
  priceCents: number;
  /** New releases first in "Featured", then the store's own order. */
  newRelease: boolean;
  order: number;
}

export type SectionItem = { kind: "title"; title: Title } | { kind: "series"; series: SeriesSummary };

const qualityOf = (t: Title): Quality => (t.height >= 720 ? "hd" : "sd");
const priceOf = (t: Title) => (t.offer.kind === "free" ? 0 : t.offer.price_cents);

/** The section a kind of title belongs to. */
export function sectionOf(kind: TitleKind): Section {
  return SECTIONS.find((s) => s.kind === kind)?.id ?? "films";
}

/** The series of the catalog, each with its episodes (one per work), in catalog order. */
export function seriesSummaries(titles: readonly Title[]): SeriesSummary[] {
  const episodes = onePerWork(titles.filter((t) => t.kind === "episode" && t.series));
  const by = new Map<string, Title[]>();
  for (const t of episodes) {
    const name = t.series!.series;
    const list = by.get(name);
    if (list) list.push(t);
    else by.set(name, [t]);
  }
  return [...by].map(([name, list]) => {
    list.sort((a, b) => a.series!.season - b.series!.season || a.series!.episode - b.series!.episode);
    const years = list.map((t) => t.year);
    return {
      name,
      studio: list[0].studio,
      genre: list[0].genre,
      year: Math.min(...years),
      lastYear: Math.max(...years),
      seasons: [...new Set(list.map((t) => t.series!.season))].sort((a, b) => a - b),
      episodes: list,
      first: list[0],
    };
  });
}

/** What section `section` lists, each with the facts its filters read. */
export function sectionEntries(titles: readonly Title[], section: Section): Entry<SectionItem>[] {
  const kind = SECTIONS.find((s) => s.id === section)!.kind;
  const works = groupByWork(titles.filter((t) => t.kind === kind));
  const qualitiesOf = (list: readonly Title[]) => new Set(list.flatMap((t) => (works.get(t.work) ?? [t]).map(qualityOf)));
  if (section === "tv") {
    return seriesSummaries(titles).map((series, order) => ({
      item: { kind: "series", series },
      key: `series:${series.name}`,
      name: series.name,
      genre: series.genre,
      year: series.year,
      qualities: qualitiesOf(series.episodes),
      priceCents: Math.min(...series.episodes.map(priceOf)),
      newRelease: series.episodes.some((t) => t.new_release),
      order,
    }));
  }
  return onePerWork(titles.filter((t) => t.kind === kind)).map((title, order) => ({
    item: { kind: "title", title },
    key: title.id,
    name: title.name,
    genre: title.genre,
    year: title.year,
    qualities: qualitiesOf([title]),
    priceCents: priceOf(title),
    newRelease: title.new_release,
    order,
  }));
}

/** The choices each filter offers for these entries: only values that find something. */
export interface Facets {
  genres: string[];
  decades: number[];
  qualities: Quality[];
  /** Distinct paid prices, lowest first. */
  prices: number[];
  anyFree: boolean;
}

export function facets<T>(entries: readonly Entry<T>[]): Facets {
  const genres = new Set<string>();
  const decades = new Set<number>();
  const qualities = new Set<Quality>();
  const prices = new Set<number>();
  let anyFree = false;
  for (const e of entries) {
    if (e.genre) genres.add(e.genre);
    if (e.year > 0) decades.add(Math.floor(e.year / 10) * 10);
    for (const q of e.qualities) qualities.add(q);
    if (e.priceCents === 0) anyFree = true;
    else prices.add(e.priceCents);
  }
  return {
    genres: [...genres].sort((a, b) => a.localeCompare(b)),
    decades: [...decades].sort((a, b) => b - a),
    qualities: (["hd", "sd"] as const).filter((q) => qualities.has(q)),
    prices: [...prices].sort((a, b) => a - b),
    anyFree,
  };
}

/** The entries that pass every filter that is set. */
export function applyFilters<T>(entries: readonly Entry<T>[], f: Filters): Entry<T>[] {
  return entries.filter(
    (e) =>
      (f.genre === null || e.genre === f.genre) &&
      (f.decade === null || (e.year >= f.decade && e.year < f.decade + 10)) &&
      (f.quality === null || e.qualities.has(f.quality)) &&
      (f.maxPriceCents === null || e.priceCents <= f.maxPriceCents),
  );
}

/** The entries in `sort`'s order; ties keep the store's order, so the result is stable. */
export function sortEntries<T>(entries: readonly Entry<T>[], sort: Sort): Entry<T>[] {
  const by: Record<Sort, (a: Entry<T>, b: Entry<T>) => number> = {
    featured: (a, b) => Number(b.newRelease) - Number(a.newRelease),
    newest: (a, b) => b.year - a.year,
    oldest: (a, b) => a.year - b.year,
    name: (a, b) => a.name.localeCompare(b.name),
    price_low: (a, b) => a.priceCents - b.priceCents,
    price_high: (a, b) => b.priceCents - a.priceCents,
  };
  const cmp = by[sort];
  return [...entries].sort((a, b) => cmp(a, b) || a.order - b.order);
}

/** The number of filters set, for the "Clear filters" button. */
export function filterCount(f: Filters): number {
  return [f.genre, f.decade, f.quality, f.maxPriceCents].filter((v) => v !== null).length;
}

/** A series' episodes in one season, one per work. */
export function seasonEpisodes(series: SeriesSummary, season: number): Title[] {
  return series.episodes.filter((t) => t.series!.season === season);
}

/**
 * What "Buy the season" orders: the season's episodes that are for sale, cost something and
 * are not held yet, each in the quality asked for where the work has it.
 */
export function seasonOrder(
  episodes: readonly Title[],
  variants: (work: string) => Title[],
  quality: Quality,
  held: (work: string) => boolean,
): { titles: Title[]; totalCents: number; currency: string | null } {
  const titles = episodes
    .filter((t) => !held(t.work))
    .map((t) => variants(t.work).find((v) => qualityOf(v) === quality) ?? t)
    .filter((t) => t.for_sale && t.offer.kind === "buy" && t.offer.price_cents > 0);
  const currencies = new Set(titles.map((t) => t.offer.currency));
  return {
    titles,
    totalCents: titles.reduce((sum, t) => sum + t.offer.price_cents, 0),
    // Mixed currencies cannot be totalled: the season is bought episode by episode then.
    currency: currencies.size === 1 ? [...currencies][0] : null,
  };
}

/** Whose page: an artist's or a studio's. */
export type Credit = { kind: "artist" | "studio"; name: string };

/** The titles credited to an artist or a studio, one per work, newest first. */
export function creditTitles(titles: readonly Title[], credit: Credit): Title[] {
  const mine = titles.filter((t) => (credit.kind === "artist" ? t.artist === credit.name : t.studio === credit.name));
  return onePerWork(mine).sort((a, b) => b.year - a.year);
}

/**
 * "More like this": titles of the same genre first, then of the same kind (from the same
 * studio or artist before others), nearer years before farther ones; never the same work, nor another episode of the
 * same series; what can be bought before what cannot.
 */
export function moreLikeThis(titles: readonly Title[], of: Title, limit = 12): Title[] {
  const series = of.series?.series;
  const scored: { t: Title; score: number; order: number }[] = [];
  onePerWork(titles).forEach((t, order) => {
    if (t.work === of.work || (series !== undefined && t.series?.series === series)) return;
    let score = 0;
    if (t.genre === of.genre) score += 4;
    if (t.kind === of.kind) score += 2;
    if (t.studio === of.studio) score += 1;
    if (of.artist && t.artist === of.artist) score += 3;
    // Sharing only a studio or an artist is not likeness enough.
    if (score < 2) return;
    if (t.for_sale) score += 1;
    score -= Math.min(2, Math.abs(t.year - of.year) / 10);
    scored.push({ t, score, order });
  });
  // Episodes of one other series count once: the first one found stands for its series.
  const seen = new Set<string>();
  return scored
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .filter(({ t }) => {
      const key = t.series ? `series:${t.series.series}` : t.work;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, limit)
    .map(({ t }) => t);
}
