/**
 * The give-back card's numbers and words: what the chart draws (bars mirrored about a baseline,
 * given above, received below), where its time axis is labelled and what it says to a screen
 * reader. Pure: no clock, no DOM; the time zone is the computer's unless one is given (tests).
 */
import { formatBytes } from "../format";
import { i18n, t } from "../i18n/i18n.svelte";
import type { GiveBack, GiveBackBytes, GiveBackSlot, GiveBackSpan } from "../ipc/bindings";

/** The spans the card offers, shortest first. */
export const SPANS: readonly GiveBackSpan[] = ["hour", "day", "month"];

/** The chart's drawing box (the SVG's viewBox; it is stretched to the card's width). */
export const CHART_WIDTH = 1000;
export const CHART_HEIGHT = 160;
/** The share of a slot's width its bars fill; the rest is the gap between slots. */
const BAR_SHARE = 0.68;
/** The least height a bar that moved any byte is drawn at, so a small slot still shows. */
const MIN_BAR = 1.5;

/** Nothing at all. */
export const NO_BYTES: GiveBackBytes = { from_viewers: 0, from_store: 0, given: 0 };

/** One slot's bars, in viewBox units: `x` from the chart's start (the oldest side). */
export type SlotBars = {
  index: number;
  slot: GiveBackSlot;
  x: number;
  width: number;
  /** The given bar, above the baseline: `null` when nothing was given. */
  given: { y: number; height: number } | null;
  /** Received from other viewers, just below the baseline. */
  fromViewers: { y: number; height: number } | null;
  /** Received from the store, below that. */
  fromStore: { y: number; height: number } | null;
};

/** Where the baseline runs: halfway down, given above it and received below, on one scale. */
export const BASELINE = CHART_HEIGHT / 2;

/** The sum of the three figures over `slots`. */
export function sumSlots(slots: readonly GiveBackSlot[]): GiveBackBytes {
  return slots.reduce(
    (s, { bytes: b }) => ({
      from_viewers: s.from_viewers + b.from_viewers,
      from_store: s.from_store + b.from_store,
      given: s.given + b.given,
    }),
    { ...NO_BYTES },
  );
}

/** Whether nothing moved at all. */
export function isEmpty(bytes: GiveBackBytes): boolean {
  return bytes.given <= 0 && bytes.from_viewers <= 0 && bytes.from_store <= 0;
}

/**
 * The largest a bar gets on either side of the baseline: the most given in one slot or the most
 * received (from viewers and the store together) in one, whichever is more. One scale for both
 * sides, so a taller bar always means more bytes.
 */
export function chartMax(slots: readonly GiveBackSlot[]): number {
  let max = 0;
  for (const { bytes: b } of slots) {
    max = Math.max(max, b.given, b.from_viewers + b.from_store);
  }
  return max;
}

/** A bar's height for `bytes` on a scale whose largest is `max`: 0 for nothing, never a sliver. */
export function barHeight(bytes: number, max: number, room = BASELINE): number {
  if (bytes <= 0 || max <= 0) return 0;
  return Math.max(MIN_BAR, (Math.min(bytes, max) / max) * room);
}

/**
 * The bars of every slot that moved anything, oldest first from the chart's start; slots where
 * nothing moved draw nothing. Received bars stack downwards from the baseline: from other viewers
 * first, from the store under it.
 */
export function chartBars(slots: readonly GiveBackSlot[]): SlotBars[] {
  const n = slots.length;
  if (n === 0) return [];
  const max = chartMax(slots);
  const step = CHART_WIDTH / n;
  const width = step * BAR_SHARE;
  const out: SlotBars[] = [];
  slots.forEach((slot, index) => {
    const b = slot.bytes;
    if (isEmpty(b)) return;
    const given = barHeight(b.given, max);
    const received = barHeight(b.from_viewers + b.from_store, max);
    // The received bar's height is split between its two sources in proportion.
    const total = b.from_viewers + b.from_store;
    const viewers = total > 0 ? (received * b.from_viewers) / total : 0;
    const store = received - viewers;
    out.push({
      index,
      slot,
      x: index * step + (step - width) / 2,
      width,
      given: given > 0 ? { y: BASELINE - given, height: given } : null,
      fromViewers: viewers > 0 ? { y: BASELINE, height: viewers } : null,
      fromStore: store > 0 ? { y: BASELINE + viewers, height: store } : null,
    });
  });
  return out;
}

/** A label on the time axis: `at` is its place along the axis, 0 (oldest) to 1 (now). */
export type Tick = {
  at: number;
  label: string;
  /** Which of its edges sits on `at`: the middle, or an end, so the chart's ends clip nothing. */
  anchor: "start" | "middle" | "end";
};

/** How far apart the time axis is labelled, in minutes of the day, for the shorter spans. */
const TICK_EVERY_MIN: Record<Exclude<GiveBackSpan, "month">, number> = { hour: 15, day: 6 * 60 };
/** The 30-day span is labelled once a week, counting back from today. */
const TICK_EVERY_DAYS = 7;
/** Near either end of the axis a label is aligned to that end instead of centred. */
const EDGE = 0.07;

function intlLocale(): string {
  // British English writes the day before the month, as the rest of the window does.
  return i18n.current === "en" ? "en-GB" : i18n.current;
}

function anchorAt(at: number): Tick["anchor"] {
  return at < EDGE ? "start" : at > 1 - EDGE ? "end" : "middle";
}

/** Minutes since midnight of `ms` in `timeZone` (the computer's when undefined). */
function minuteOfDay(ms: number, timeZone: string | undefined): number {
  const parts = new Intl.DateTimeFormat("en-GB", { hour: "numeric", minute: "numeric", hourCycle: "h23", timeZone })
    .formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

/**
 * Where the chart's time axis is labelled, in the window's language: local clock times on the
 * hour and day spans ("14:00", every quarter hour and every six hours), dates a week apart on the
 * 30-day span ("8 Dec"; its slots are UTC days, so they are named as such).
 */
export function ticks(giveBack: Pick<GiveBack, "span" | "slot_ms" | "slots">, timeZone?: string): Tick[] {
  const { span, slots, slot_ms } = giveBack;
  const n = slots.length;
  if (n === 0 || slot_ms <= 0) return [];
  if (span === "month") {
    const format = new Intl.DateTimeFormat(intlLocale(), { day: "numeric", month: "short", timeZone: "UTC" });
    const out: Tick[] = [];
    for (let i = n - 1; i >= 0; i -= TICK_EVERY_DAYS) {
      const at = (i + 0.5) / n;
      out.unshift({ at, label: format.format(new Date(slots[i].start_ms)), anchor: anchorAt(at) });
    }
    return out;
  }
  const every = TICK_EVERY_MIN[span];
  const slotMin = slot_ms / 60_000;
  const format = new Intl.DateTimeFormat(intlLocale(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone });
  const out: Tick[] = [];
  slots.forEach((slot, i) => {
    // The first multiple of `every` at or after the slot's start, if the slot reaches it.
    const start = minuteOfDay(slot.start_ms, timeZone);
    const into = (every - (start % every)) % every;
    if (into >= slotMin) return;
    const at = (i + into / slotMin) / n;
    out.push({ at, label: format.format(new Date(slot.start_ms + into * 60_000)), anchor: anchorAt(at) });
  });
  return out;
}

/** The chart's words for a screen reader: what the span gave and received, in sizes. */
export function chartSummary(span: GiveBackSpan, slots: readonly GiveBackSlot[]): string {
  const sum = sumSlots(slots);
  if (isEmpty(sum)) return t(`downloads.giveBack.quiet.${span}`);
  return t(`downloads.giveBack.summary.${span}`, {
    given: formatBytes(sum.given),
    fromViewers: formatBytes(sum.from_viewers),
    fromStore: formatBytes(sum.from_store),
  });
}

/** One slot's words, for the tooltip over its bars: when it was and what moved in it. */
export function slotWords(span: GiveBackSpan, slot: GiveBackSlot, timeZone?: string): string {
  const when =
    span === "month"
      ? new Intl.DateTimeFormat(intlLocale(), { day: "numeric", month: "long", timeZone: "UTC" })
      : new Intl.DateTimeFormat(intlLocale(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone });
  return t("downloads.giveBack.slot", {
    time: when.format(new Date(slot.start_ms)),
    given: formatBytes(slot.bytes.given),
    fromViewers: formatBytes(slot.bytes.from_viewers),
    fromStore: formatBytes(slot.bytes.from_store),
  });
}

/** A title's figure in the downloads list, in words: "Given to other viewers: 12 MB; …". */
export function titleGiveBackWords(bytes: GiveBackBytes): string {
  return t("downloads.row.gaveLabel", {
    given: formatBytes(bytes.given),
    fromViewers: formatBytes(bytes.from_viewers),
    fromStore: formatBytes(bytes.from_store),
  });
}

/**
 * The short figure on a title's row: "gave 2.3 MB · 1.0×", the ratio being what it gave over its
 * size (what the sharing policy's ratio counts); without the ratio while the size is unknown.
 */
export function titleGaveFigure(given: number, totalBytes: number): string {
  const size = formatBytes(given);
  if (totalBytes <= 0) return t("downloads.row.gave", { size });
  const ratio = new Intl.NumberFormat(i18n.current, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
    given / totalBytes,
  );
  return t("downloads.row.gaveRatio", { size, ratio });
}
