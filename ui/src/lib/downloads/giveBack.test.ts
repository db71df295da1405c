import { afterEach, describe, expect, it } from "vitest";
import { i18n } from "../i18n/i18n.svelte";
import type { GiveBack, GiveBackBytes, GiveBackSlot, GiveBackSpan } from "../ipc/bindings";
import {
  BASELINE,
  barHeight,
  CHART_WIDTH,
  chartBars,
  chartMax,
  chartSummary,
  isEmpty,
  NO_BYTES,
  slotWords,
  sumSlots,
  ticks,
  titleGaveFigure,
  titleGiveBackWords,
} from "./giveBack";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const MB = 1_000_000;

const SLOT_MS: Record<GiveBackSpan, number> = { hour: MIN, day: 30 * MIN, month: DAY };
const COUNT: Record<GiveBackSpan, number> = { hour: 60, day: 48, month: 30 };

/** A span's slots ending with the one that holds `nowMs`, all empty but those in `moved`. */
function span(
  kind: GiveBackSpan,
  nowMs: number,
  moved: Record<number, Partial<GiveBackBytes>> = {},
): GiveBack {
  const slotMs = SLOT_MS[kind];
  const last = Math.floor(nowMs / slotMs) * slotMs;
  const n = COUNT[kind];
  const slots: GiveBackSlot[] = Array.from({ length: n }, (_, i) => ({
    start_ms: last - (n - 1 - i) * slotMs,
    bytes: { ...NO_BYTES, ...moved[i] },
  }));
  return { total: sumSlots(slots), span: kind, slot_ms: slotMs, slots };
}

// Tuesday 8 December 2026, 14:37:20 UTC.
const NOW = Date.UTC(2026, 11, 8, 14, 37, 20);

afterEach(() => i18n.use("en"));

describe("the chart's bars", () => {
  it("scale to the largest slot, given or received, on one scale", () => {
    const g = span("hour", NOW, { 10: { given: 40 * MB }, 20: { from_viewers: 60 * MB, from_store: 20 * MB }, 30: { given: 20 * MB } });
    expect(chartMax(g.slots)).toBe(80 * MB);
    const bars = chartBars(g.slots);
    expect(bars.map((b) => b.index)).toEqual([10, 20, 30]);
    const [a, b, c] = bars;
    // The received slot is the largest: its stack fills the room below the baseline.
    expect(b.fromViewers!.height + b.fromStore!.height).toBeCloseTo(BASELINE);
    expect(b.fromViewers).toEqual({ y: BASELINE, height: expect.closeTo(BASELINE * 0.75) });
    expect(b.fromStore!.y).toBeCloseTo(BASELINE + BASELINE * 0.75);
    expect(b.given).toBeNull();
    // Given bars stand on the baseline, half and a quarter as tall.
    expect(a.given).toEqual({ y: expect.closeTo(BASELINE / 2), height: expect.closeTo(BASELINE / 2) });
    expect(c.given!.height).toBeCloseTo(BASELINE / 4);
    expect(a.fromViewers).toBeNull();
    expect(a.fromStore).toBeNull();
  });

  it("sit in their slot, oldest at the start, and leave a gap between slots", () => {
    const g = span("month", NOW, { 0: { given: 1 }, 29: { given: 1 } });
    const [first, last] = chartBars(g.slots);
    const step = CHART_WIDTH / 30;
    expect(first.x).toBeGreaterThan(0);
    expect(first.x + first.width).toBeLessThan(step);
    expect(last.x).toBeGreaterThan(29 * step);
    expect(last.x + last.width).toBeLessThan(CHART_WIDTH);
  });

  it("draw nothing for slots where nothing moved", () => {
    expect(chartBars(span("day", NOW).slots)).toEqual([]);
    expect(chartBars([])).toEqual([]);
    expect(barHeight(0, 100)).toBe(0);
    expect(barHeight(5, 0)).toBe(0);
  });

  it("show a slot that moved a little, however large the largest", () => {
    const g = span("hour", NOW, { 1: { given: 1 }, 2: { given: 10_000 * MB } });
    const [small] = chartBars(g.slots);
    expect(small.given!.height).toBeGreaterThan(0);
    expect(small.given!.height).toBeLessThan(BASELINE / 20);
  });
});

describe("the sums", () => {
  it("add every slot's figures, and know when nothing moved", () => {
    const g = span("day", NOW, { 3: { given: 5, from_store: 2 }, 40: { given: 1, from_viewers: 7 } });
    expect(sumSlots(g.slots)).toEqual({ given: 6, from_viewers: 7, from_store: 2 });
    expect(isEmpty(NO_BYTES)).toBe(true);
    expect(isEmpty({ ...NO_BYTES, from_store: 1 })).toBe(false);
  });
});

describe("the time axis", () => {
  it("labels the last hour every quarter hour, on the minute it names", () => {
    const got = ticks(span("hour", NOW), "UTC");
    // 13:38 … 14:37: the quarters in it are 13:45, 14:00, 14:15 and 14:30.
    expect(got.map((t) => t.label)).toEqual(["13:45", "14:00", "14:15", "14:30"]);
    expect(got[1].at).toBeCloseTo(22 / 60);
    expect(got.every((t) => t.anchor === "middle")).toBe(true);
  });

  it("labels the last day every six hours, in local time", () => {
    expect(ticks(span("day", NOW), "UTC").map((t) => t.label)).toEqual(["18:00", "00:00", "06:00", "12:00"]);
    // Rome is an hour ahead in December: its six-hour marks fall an hour earlier in UTC.
    const rome = ticks(span("day", NOW), "Europe/Rome");
    expect(rome.map((t) => t.label)).toEqual(["18:00", "00:00", "06:00", "12:00"]);
    expect(rome[0].at).toBeLessThan(ticks(span("day", NOW), "UTC")[0].at);
  });

  it("marks a boundary inside a slot where the zone is a quarter hour off", () => {
    // Nepal is UTC+5:45 (20:22 there now): its midnight falls a quarter hour into a half-hour slot.
    const got = ticks(span("day", NOW), "Asia/Kathmandu");
    expect(got.map((t) => t.label)).toEqual(["00:00", "06:00", "12:00", "18:00"]);
    const index = got[0].at * 48;
    expect(index - Math.floor(index)).toBeCloseTo(0.5);
  });

  it("labels the 30 days a week apart, today at the end", () => {
    const got = ticks(span("month", NOW));
    expect(got.map((t) => t.label)).toEqual(["10 Nov", "17 Nov", "24 Nov", "1 Dec", "8 Dec"]);
    expect(got.map((t) => t.anchor)).toEqual(["start", "middle", "middle", "middle", "end"]);
  });

  it("speaks the window's language", () => {
    i18n.use("ar");
    const day = ticks(span("day", NOW), "UTC").map((t) => t.label);
    expect(day).toHaveLength(4);
    expect(day[3]).toMatch(/^(12|١٢):(00|٠٠)$/);
    expect(ticks(span("month", NOW)).at(-1)!.label).toMatch(/ديسمبر/);
    i18n.use("it");
    expect(ticks(span("month", NOW)).at(-1)!.label).toBe("8 dic");
  });

  it("has nothing to label without slots", () => {
    expect(ticks({ span: "hour", slot_ms: MIN, slots: [] })).toEqual([]);
  });
});

describe("the words", () => {
  it("sum up the span for a screen reader", () => {
    const g = span("day", NOW, { 3: { given: 12 * MB }, 9: { from_viewers: 3 * MB, from_store: 1_500_000 } });
    expect(chartSummary("day", g.slots)).toBe(
      "In the last day, this computer gave 12 MB to other viewers, and received 3.0 MB from other viewers and 1.5 MB from the store.",
    );
    expect(chartSummary("month", span("month", NOW).slots)).toBe("Nothing given or received in the last 30 days.");
    i18n.use("it");
    expect(chartSummary("hour", g.slots)).toBe(
      "Nell'ultima ora questo computer ha dato 12 MB ad altri spettatori e ha ricevuto 3,0 MB da altri spettatori e 1,5 MB dal negozio.",
    );
    i18n.use("ar");
    expect(chartSummary("month", g.slots)).toMatch(/^في آخر 30 يومًا، قدّم هذا الحاسوب /);
  });

  it("say what a slot and a title moved", () => {
    const slot: GiveBackSlot = { start_ms: Date.UTC(2026, 11, 8, 14, 0), bytes: { given: 2 * MB, from_viewers: 0, from_store: 0 } };
    expect(slotWords("day", slot, "UTC")).toBe("14:00: gave 2.0 MB; received 0 B from viewers and 0 B from the store");
    expect(slotWords("month", slot)).toBe("8 December: gave 2.0 MB; received 0 B from viewers and 0 B from the store");
    expect(titleGiveBackWords({ given: 12 * MB, from_viewers: 3 * MB, from_store: MB })).toBe(
      "Given to other viewers: 12 MB; received from other viewers 3.0 MB, from the store 1.0 MB",
    );
  });
});

describe("a title's row", () => {
  it("says what it gave and how many times its size", () => {
    i18n.use("en");
    expect(titleGaveFigure(2_337_143, 2_337_143)).toBe("gave 2.3 MB · 1.0×");
    expect(titleGaveFigure(500_000, 0)).toBe("gave 500 KB");
    i18n.use("it");
    expect(titleGaveFigure(3_500_000, 2_000_000)).toBe("dato 3,5 MB · 1,8×");
    i18n.use("en");
  });
});
