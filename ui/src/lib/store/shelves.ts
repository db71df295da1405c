/** How the storefront groups the catalog into a hero and shelves. */
import { t } from "../i18n/i18n.svelte";
import type { Title } from "../ipc/bindings";

export type SeriesGroup = { series: string; episodes: Title[] };

/** One item of the TV shelf's row: a series' label, or one of its episodes. */
export type SeriesRowItem =
  | { kind: "series"; key: string; group: SeriesGroup; first: boolean }
  | { kind: "episode"; key: string; title: Title };

export type Shelf =
  | { id: string; label: string; layout: "posters"; titles: Title[] }
  | { id: "tv"; label: string; layout: "series"; groups: SeriesGroup[] };

/**
 * The hero: the first new-release film, else the first film, else the first title, among what
 * can be bought or played now (never a "Coming soon" one while anything else is for sale).
 */
export function pickHero(titles: Title[]): Title | null {
  const sold = titles.filter((t) => t.for_sale);
  const from = sold.length > 0 ? sold : titles;
  return (
    from.find((t) => t.kind === "film" && t.new_release) ??
    from.find((t) => t.kind === "film") ??
    from[0] ??
    null
  );
}

/** Episodes grouped by series (in catalog order of first appearance), sorted by season and episode. */
export function groupSeries(titles: Title[]): SeriesGroup[] {
  const groups = new Map<string, Title[]>();
  for (const t of titles) {
    if (t.kind !== "episode") continue;
    const name = t.series?.series ?? t.name;
    const list = groups.get(name) ?? [];
    list.push(t);
    groups.set(name, list);
  }
  return [...groups].map(([series, episodes]) => ({
    series,
    episodes: [...episodes].sort(
      (a, b) =>
        (a.series?.season ?? 0) - (b.series?.season ?? 0) ||
        (a.series?.episode ?? 0) - (b.series?.episode ?? 0),
    ),
  }));
}

/**
 * One title per work: a work offered in SD and HD shows as one card, its HD variant standing
 * for it (the detail sheet offers the choice). Catalog order is kept.
 */
export function onePerWork(titles: readonly Title[]): Title[] {
  const at = new Map<string, number>();
  const out: Title[] = [];
  for (const t of titles) {
    const i = at.get(t.work);
    if (i === undefined) {
      at.set(t.work, out.length);
      out.push(t);
    } else if (t.variant === "hd" && out[i].variant !== "hd") {
      out[i] = t;
    }
  }
  return out;
}

/** Each work's variants, SD before HD (a work without variants: its one title). */
export function groupByWork(titles: readonly Title[]): Map<string, Title[]> {
  const works = new Map<string, Title[]>();
  for (const t of titles) {
    const list = works.get(t.work);
    if (list) list.push(t);
    else works.set(t.work, [t]);
  }
  for (const list of works.values()) list.sort((a, b) => a.height - b.height);
  return works;
}

/**
 * The variant to offer first: the one the person already holds, else HD when the screen has
 * the pixels for it (`screenWidthPx`, physical), else SD.
 */
export function defaultVariant(variants: Title[], held: (id: string) => boolean, screenWidthPx: number): Title {
  const owned = variants.find((v) => held(v.id));
  if (owned) return owned;
  const hd = variants.find((v) => v.variant === "hd");
  const sd = variants.find((v) => v.variant === "sd");
  return (screenWidthPx >= 1280 ? hd : sd) ?? variants[variants.length - 1];
}

/** The TV shelf as one row of items (each series' label, then its episodes), to virtualise. */
export function seriesRow(groups: SeriesGroup[]): SeriesRowItem[] {
  return groups.flatMap((group, i) => [
    { kind: "series" as const, key: `series:${group.series}`, group, first: i === 0 },
    ...group.episodes.map((title) => ({ kind: "episode" as const, key: title.id, title })),
  ]);
}

/** The shelves in storefront order; empty shelves are left out. */
export function buildShelves(titles: Title[]): Shelf[] {
  const of = (kind: Title["kind"]) => titles.filter((t) => t.kind === kind);
  const shelves: Shelf[] = [
    { id: "new", label: t("store.shelves.new"), layout: "posters", titles: titles.filter((t) => t.new_release) },
    { id: "films", label: t("store.shelves.films"), layout: "posters", titles: of("film") },
    { id: "tv", label: t("store.shelves.tv"), layout: "series", groups: groupSeries(titles) },
    { id: "music", label: t("store.shelves.music"), layout: "posters", titles: of("music_video") },
    { id: "games", label: t("store.shelves.games"), layout: "posters", titles: of("game") },
    // Community titles belong on their own shelf even when free (they usually are), and are
    // not repeated on "Free to share", which is for the store's own free titles.
    { id: "community", label: t("store.shelves.community"), layout: "posters", titles: of("community_video") },
    {
      id: "free",
      label: t("store.shelves.free"),
      layout: "posters",
      titles: titles.filter((t) => t.offer.kind === "free" && t.kind !== "community_video"),
    },
  ];
  return shelves.filter((s) => (s.layout === "series" ? s.groups.length > 0 : s.titles.length > 0));
}
