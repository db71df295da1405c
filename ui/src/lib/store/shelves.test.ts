import { describe, expect, it } from "vitest";
import { fixture as title } from "./fixtures.test-support";
import { buildShelves, defaultVariant, groupByWork, groupSeries, onePerWork, pickHero, seriesRow } from "./shelves";


const ep = (id: string, series: string, season: number, episode: number) =>
  title(id, { kind: "episode", series: { series, season, episode } });

describe("pickHero", () => {
  it("prefers the first new-release film", () => {
    const titles = [
      title("old"),
      title("new-ep", { kind: "episode", new_release: true }),
      title("new-film", { new_release: true }),
    ];
    expect(pickHero(titles)?.id).toBe("new-film");
  });
  it("falls back to the first film, then anything", () => {
    expect(pickHero([title("g", { kind: "game" }), title("f")])?.id).toBe("f");
    expect(pickHero([title("g", { kind: "game" })])?.id).toBe("g");
    expect(pickHero([])).toBeNull();
  });
  it("features only what can be bought or played", () => {
    const titles = [title("soon", { new_release: true, for_sale: false }), title("sold")];
    expect(pickHero(titles)?.id).toBe("sold");
    expect(pickHero([title("soon", { for_sale: false })])?.id).toBe("soon");
  });
});

describe("groupSeries", () => {
  it("groups episodes by series in season and episode order", () => {
    const groups = groupSeries([ep("b2", "B", 1, 2), ep("a1", "A", 2, 1), ep("b1", "B", 1, 1), ep("a0", "A", 1, 3)]);
    expect(groups.map((g) => [g.series, g.episodes.map((e) => e.id)])).toEqual([
      ["B", ["b1", "b2"]],
      ["A", ["a0", "a1"]],
    ]);
  });
});

describe("buildShelves", () => {
  it("builds the storefront shelves and drops empty ones", () => {
    const titles = [
      title("f1", { new_release: true }),
      title("f2"),
      ep("e1", "Harbour", 1, 1),
      title("mv", { kind: "music_video" }),
      title("free", { offer: { kind: "free", price_cents: 0, currency: "EUR" }, kind: "community_video" }),
    ];
    const shelves = buildShelves(titles);
    expect(shelves.map((s) => s.label)).toEqual(["New releases", "Films", "TV", "Music videos", "From the community"]);
    const ids = (label: string) => {
      const s = shelves.find((x) => x.label === label)!;
      return s.layout === "posters" ? s.titles.map((t) => t.id) : s.groups.flatMap((g) => g.episodes.map((e) => e.id));
    };
    expect(ids("New releases")).toEqual(["f1"]);
    expect(ids("Films")).toEqual(["f1", "f2"]);
    expect(ids("TV")).toEqual(["e1"]);
    expect(ids("From the community")).toEqual(["free"]);
  });

  it("puts free community titles on the community shelf only", () => {
    const free = { kind: "free" as const, price_cents: 0, currency: "EUR" };
    const titles = [
      title("studio-free", { offer: free }),
      title("c-free", { kind: "community_video", offer: free, origin: "published", publisher: "ana" }),
      title("c-paid", { kind: "community_video", offer: { kind: "buy", price_cents: 200, currency: "EUR" } }),
    ];
    const shelves = buildShelves(titles);
    const ids = (id: string) => {
      const s = shelves.find((x) => x.id === id);
      return s && s.layout === "posters" ? s.titles.map((t) => t.id) : null;
    };
    expect(ids("community")).toEqual(["c-free", "c-paid"]);
    expect(ids("free")).toEqual(["studio-free"]);
  });

  it("leaves out the free shelf when only community titles are free", () => {
    const free = { kind: "free" as const, price_cents: 0, currency: "EUR" };
    const shelves = buildShelves([title("c", { kind: "community_video", offer: free })]);
    expect(shelves.map((s) => s.id)).toEqual(["community"]);
  });
});

describe("seriesRow", () => {
  it("puts each series' label before its episodes, with keys unique across the row", () => {
    const row = seriesRow(groupSeries([ep("a2", "A", 1, 2), ep("b1", "B", 1, 1), ep("a1", "A", 1, 1)]));
    expect(row.map((i) => i.key)).toEqual(["series:A", "a1", "a2", "series:B", "b1"]);
    expect(row.filter((i) => i.kind === "series").map((i) => i.kind === "series" && i.first)).toEqual([true, false]);
    expect(new Set(row.map((i) => i.key)).size).toBe(row.length);
  });
});

describe("works", () => {
  const sd = title("w-sd", { work: "w", variant: "sd", height: 480 });
  const hd = title("w-hd", { work: "w", variant: "hd", height: 1080 });
  it("shows one card per work, the HD variant standing for it, in catalog order", () => {
    expect(onePerWork([sd, title("x"), hd]).map((t) => t.id)).toEqual(["w-hd", "x"]);
    expect(groupByWork([hd, sd]).get("w")?.map((t) => t.id)).toEqual(["w-sd", "w-hd"]);
  });
  it("offers what the person holds, else what the screen suits", () => {
    expect(defaultVariant([sd, hd], () => false, 1920).id).toBe("w-hd");
    expect(defaultVariant([sd, hd], () => false, 1024).id).toBe("w-sd");
    expect(defaultVariant([sd, hd], (id) => id === "w-sd", 2560).id).toBe("w-sd");
  });
});
