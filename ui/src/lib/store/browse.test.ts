import { describe, expect, it } from "vitest";
import type { Title } from "../ipc/bindings";
import {
  applyFilters,
  creditTitles,
  facets,
  filterCount,
  moreLikeThis,
  NO_FILTERS,
  seasonEpisodes,
  seasonOrder,
  sectionEntries,
  seriesSummaries,
  sortEntries,
} from "./browse";
import { fixture } from "./fixtures.test-support";
import { groupByWork } from "./shelves";

function title(id: string, over: Partial<Title> = {}): Title {
  return fixture(id, { genre: "Drama", studio: "Halcyon", width: 1920, height: 1080, ...over });
}

const buy = { kind: "buy" as const, price_cents: 200, currency: "EUR" };
const ep = (id: string, series: string, season: number, episode: number, over: Partial<Title> = {}) =>
  title(id, { kind: "episode", offer: buy, series: { series, season, episode }, ...over });
const sd = { width: 854, height: 480 };

const catalog: Title[] = [
  title("a", { name: "Neon Harbor", genre: "Thriller", year: 2026, new_release: true, offer: { kind: "rent", price_cents: 400, currency: "EUR" }, variant: "hd" }),
  title("a-sd", { name: "Neon Harbor", genre: "Thriller", year: 2026, new_release: true, offer: { kind: "rent", price_cents: 400, currency: "EUR" }, variant: "sd", work: "a", ...sd }),
  title("b", { name: "Quiet Orchard", genre: "Drama", year: 2019, ...sd }),
  title("c", { name: "Open Skies", genre: "Short", year: 1998, offer: { kind: "free", price_cents: 0, currency: "EUR" } }),
  ep("o2", "Orbital", 1, 2),
  ep("o1", "Orbital", 1, 1, { variant: "hd" }),
  ep("o1-sd", "Orbital", 1, 1, { variant: "sd", work: "o1", ...sd }),
  ep("o3", "Orbital", 2, 1, { year: 2026 }),
  ep("x1", "Cold Case", 1, 1, { genre: "Mystery", year: 2010 }),
  title("m", { kind: "music_video", artist: "Lumen Drive", studio: "Nightglass", offer: buy }),
];

describe("sectionEntries", () => {
  it("lists one entry per work, with every quality the work comes in", () => {
    const films = sectionEntries(catalog, "films");
    expect(films.map((e) => e.key)).toEqual(["a", "b", "c"]);
    expect([...films[0].qualities].sort()).toEqual(["hd", "sd"]);
    expect([...films[1].qualities]).toEqual(["sd"]);
    expect(films[2].priceCents).toBe(0);
  });

  it("lists series, not episodes, in TV", () => {
    const tv = sectionEntries(catalog, "tv");
    expect(tv.map((e) => e.name)).toEqual(["Orbital", "Cold Case"]);
    const orbital = tv[0].item;
    if (orbital.kind !== "series") throw new Error("a series");
    expect(orbital.series.seasons).toEqual([1, 2]);
    expect(orbital.series.episodes.map((t) => t.id)).toEqual(["o1", "o2", "o3"]);
    expect([orbital.series.year, orbital.series.lastYear]).toEqual([2024, 2026]);
    expect(tv[0].priceCents).toBe(200);
  });
});

describe("filters and sort", () => {
  const films = sectionEntries(catalog, "films");

  it("offers only choices that find something", () => {
    const f = facets(films);
    expect(f.genres).toEqual(["Drama", "Short", "Thriller"]);
    expect(f.decades).toEqual([2020, 2010, 1990]);
    expect(f.qualities).toEqual(["hd", "sd"]);
    expect(f.prices).toEqual([300, 400]);
    expect(f.anyFree).toBe(true);
  });

  it("narrows by genre, decade, quality and price", () => {
    const keys = (f: Partial<typeof NO_FILTERS>) => applyFilters(films, { ...NO_FILTERS, ...f }).map((e) => e.key);
    expect(keys({})).toEqual(["a", "b", "c"]);
    expect(keys({ genre: "Thriller" })).toEqual(["a"]);
    expect(keys({ decade: 2010 })).toEqual(["b"]);
    expect(keys({ quality: "hd" })).toEqual(["a", "c"]);
    expect(keys({ quality: "sd" })).toEqual(["a", "b"]);
    expect(keys({ maxPriceCents: 0 })).toEqual(["c"]);
    expect(keys({ maxPriceCents: 300 })).toEqual(["b", "c"]);
    expect(keys({ genre: "Drama", quality: "hd" })).toEqual([]);
    expect(filterCount({ ...NO_FILTERS, genre: "Drama", maxPriceCents: 0 })).toBe(2);
  });

  it("sorts, keeping the store's order for ties", () => {
    const keys = (s: Parameters<typeof sortEntries>[1]) => sortEntries(films, s).map((e) => e.key);
    expect(keys("featured")).toEqual(["a", "b", "c"]);
    expect(keys("newest")).toEqual(["a", "b", "c"]);
    expect(keys("oldest")).toEqual(["c", "b", "a"]);
    expect(keys("name")).toEqual(["a", "c", "b"]);
    expect(keys("price_low")).toEqual(["c", "b", "a"]);
    expect(keys("price_high")).toEqual(["a", "b", "c"]);
  });
});

describe("a season", () => {
  const orbital = seriesSummaries(catalog)[0];
  const works = groupByWork(catalog);
  const variants = (work: string) => works.get(work) ?? [];

  it("lists its episodes in order", () => {
    expect(seasonEpisodes(orbital, 1).map((t) => t.id)).toEqual(["o1", "o2"]);
    expect(seasonEpisodes(orbital, 2).map((t) => t.id)).toEqual(["o3"]);
  });

  it("orders what is not held yet, in the quality asked for, and totals it", () => {
    const none = () => false;
    const hd = seasonOrder(seasonEpisodes(orbital, 1), variants, "hd", none);
    expect(hd.titles.map((t) => t.id)).toEqual(["o1", "o2"]);
    expect([hd.totalCents, hd.currency]).toEqual([400, "EUR"]);
    // SD where the work has it; an episode only in HD is bought as it is.
    const sdOrder = seasonOrder(seasonEpisodes(orbital, 1), variants, "sd", none);
    expect(sdOrder.titles.map((t) => t.id)).toEqual(["o1-sd", "o2"]);
    const held = seasonOrder(seasonEpisodes(orbital, 1), variants, "hd", (w) => w === "o1");
    expect(held.titles.map((t) => t.id)).toEqual(["o2"]);
    expect(held.totalCents).toBe(200);
  });

  it("leaves out what is not for sale", () => {
    const soon = [ep("s1", "Soon", 1, 1, { for_sale: false })];
    expect(seasonOrder(soon, () => [], "hd", () => false)).toEqual({ titles: [], totalCents: 0, currency: null });
  });
});

describe("credits and more like this", () => {
  it("lists an artist's or a studio's titles, one per work, newest first", () => {
    expect(creditTitles(catalog, { kind: "artist", name: "Lumen Drive" }).map((t) => t.id)).toEqual(["m"]);
    expect(creditTitles(catalog, { kind: "studio", name: "Halcyon" }).map((t) => t.id)[0]).toBe("a");
    expect(creditTitles(catalog, { kind: "studio", name: "Halcyon" }).some((t) => t.id === "a-sd")).toBe(false);
  });

  it("suggests the same genre, never the same work or series, one card per other series", () => {
    const like = moreLikeThis(catalog, catalog[1]).map((t) => t.id);
    expect(like).not.toContain("a");
    expect(like).not.toContain("a-sd");
    const ofEpisode = moreLikeThis(catalog, catalog[4]).map((t) => t.id);
    expect(ofEpisode.some((id) => id.startsWith("o"))).toBe(false);
    // The drama film and the drama music video, then the other series (same kind, not genre).
    expect(ofEpisode).toEqual(["b", "m", "x1"]);
    const withSeries = moreLikeThis([...catalog, ep("z1", "Zed", 1, 1), ep("z2", "Zed", 1, 2)], catalog[2]);
    expect(withSeries.filter((t) => t.series?.series === "Zed")).toHaveLength(1);
  });
});
