/** Words and numbers of the downloads view. Pure: no clock, no DOM. */
import { formatRemaining } from "../format";
import { i18n } from "../i18n/i18n.svelte";
import { t } from "../i18n/i18n.svelte";
import type { DownloadItem, DownloadState, LimitsSchedule, SpeedsInForce } from "../ipc/bindings";

const DAY_S = 86_400;

/** What each state reads as in the list, in the window's language when read. */
export const STATE_LABEL: Record<DownloadState, string> = {
  get queued() {
    return t("downloads.state.queued");
  },
  get downloading() {
    return t("downloads.state.downloading");
  },
  get seeding() {
    return t("downloads.state.seeding");
  },
  get done() {
    return t("downloads.state.done");
  },
  get shared() {
    return t("downloads.state.shared");
  },
  get paused() {
    return t("downloads.state.paused");
  },
  get disk_full() {
    return t("downloads.state.disk_full");
  },
  get removed() {
    return t("downloads.state.removed");
  },
  get error() {
    return t("downloads.state.error");
  },
};

/** Time left: "9 s left", "4 min 10 s left", "2 h 5 min left", "3 days left"; "" when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds >= 2 * DAY_S) return t("downloads.eta.days", { count: Math.round(seconds / DAY_S) });
  return t("downloads.eta.left", { time: formatRemaining(seconds * 1000) });
}

/** A rate limit in KiB/s for people: "512 KiB/s", "2 MiB/s", "Unlimited". */
export function formatLimit(kibPerSecond: number | null): string {
  if (kibPerSecond === null) return t("downloads.limits.unlimited");
  if (kibPerSecond >= 1024 && kibPerSecond % 1024 === 0) return t("downloads.limits.mib", { value: kibPerSecond / 1024 });
  return t("downloads.limits.kib", { value: kibPerSecond });
}

/**
 * What the person typed in a limit field: `null` (unlimited) for an empty field, a whole
 * number of KiB/s, or an error sentence. The core checks the range again.
 */
export function parseLimit(text: string): { value: number | null } | { error: string } {
  const typed = text.trim();
  if (typed === "") return { value: null };
  if (!/^\d+$/.test(typed)) return { error: t("downloads.limits.notWhole") };
  return { value: Number(typed) };
}

/** How many titles download at once, for people: "3 downloads at once", "all downloads at once". */
export function formatActive(count: number | null): string {
  if (count === null) return t("downloads.limits.allAtOnce");
  return t("downloads.limits.atOnce", { count });
}

/**
 * What the person typed in the "downloads at once" field: `null` (no limit) for an empty field
 * or 0, a whole number, or an error sentence. The core checks the largest again.
 */
export function parseActive(text: string): { value: number | null } | { error: string } {
  const typed = text.trim();
  if (typed === "") return { value: null };
  if (!/^\d+$/.test(typed)) return { error: t("downloads.limits.notCount") };
  const value = Number(typed);
  return { value: value === 0 ? null : value };
}

/**
 * A waiting title's place in line among those waiting, from 1 (the next to start); `null` for a
 * title not waiting. The list comes from the core in queue order, but the place is counted by
 * `queue_position`, so it holds whatever order the list is shown in.
 */
export function placeInLine(items: readonly DownloadItem[], titleId: string): number | null {
  const waiting = (d: DownloadItem) => d.progress.state === "queued" && d.queue_position !== null;
  const item = items.find((d) => d.progress.title_id === titleId);
  if (!item || !waiting(item)) return null;
  return items.filter((d) => waiting(d) && d.queue_position! <= item.queue_position!).length;
}

/** What a row's state reads as: a waiting title says its place in line ("Waiting — 2nd in line"). */
export function stateWords(items: readonly DownloadItem[], item: DownloadItem): string {
  const place = placeInLine(items, item.progress.title_id);
  if (place === null) return STATE_LABEL[item.progress.state];
  return t("downloads.queue.waiting", { count: place, ordinal: true });
}

/**
 * Where a title can move in the download queue: `up` and `down` are the places (from 1) one
 * step either way, `null` at either end; `null` altogether for a title out of the queue, or
 * alone in it, where moving means nothing.
 */
export function queueMoves(
  items: readonly DownloadItem[],
  item: DownloadItem,
): { up: number | null; down: number | null } | null {
  const at = item.queue_position;
  const length = items.filter((d) => d.queue_position !== null).length;
  if (at === null || length < 2) return null;
  return { up: at > 1 ? at - 1 : null, down: at < length ? at + 1 : null };
}

/** Whether a row offers Pause (running) or Resume (stopped by the person or by an error). */
export function canPause(state: DownloadState): boolean {
  return state === "downloading" || state === "seeding" || state === "queued";
}

/** Fraction downloaded, 0..1. */
export function fraction(d: DownloadItem): number {
  const p = d.progress;
  if (p.state === "seeding" || p.state === "done" || p.state === "shared") return 1;
  if (p.total_bytes <= 0) return 0;
  return Math.min(1, Math.max(0, p.downloaded_bytes / p.total_bytes));
}

/** The sentence under a stopped download. */
export function errorSentence(error: string | null): string {
  const why = error?.trim() ? error.trim().replace(/[.\s]+$/, "") : "";
  if (why === "") return t("downloads.error.stopped");
  return t("downloads.error.because", { reason: `${why[0].toUpperCase()}${why.slice(1)}` });
}

/**
 * A time of day the person typed for the limits' schedule: `null` for an empty field, minutes
 * after midnight for "18:30", "18.30", "9:05" or "18" (an hour), or an error sentence.
 */
export function parseTime(text: string): { value: number | null } | { error: string } {
  const typed = text.trim();
  if (typed === "") return { value: null };
  const m = /^(\d{1,2})(?:[:.h](\d{2}))?$/.exec(typed);
  const hours = m ? Number(m[1]) : NaN;
  const minutes = m?.[2] ? Number(m[2]) : 0;
  if (!(hours <= 23 && minutes <= 59)) return { error: t("downloads.limits.notTime") };
  return { value: hours * 60 + minutes };
}

/** A time of day (minutes after midnight) as the window's language writes it: "18:30", "6:30 PM". */
export function formatTime(minute: number): string {
  const at = new Date(Date.UTC(2000, 0, 1, Math.floor(minute / 60), minute % 60));
  return new Intl.DateTimeFormat(i18n.current, { hour: "numeric", minute: "2-digit", timeZone: "UTC" }).format(at);
}

/** A time of day (minutes after midnight) as its field holds it: "18:30", "09:05". */
export function timeField(minute: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(minute / 60))}:${two(minute % 60)}`;
}

/** The schedule from its two fields' minutes: none when both are empty, else both or a refusal. */
export function scheduleOf(from: number | null, until: number | null): { value: LimitsSchedule | null } | { error: string } {
  if (from === null && until === null) return { value: null };
  if (from === null || until === null) return { error: t("downloads.limits.bothTimes") };
  if (from === until) return { error: t("downloads.limits.sameTime") };
  return { value: { from_minute: from, until_minute: until } };
}

/**
 * Whether the speed limits apply now, in words, for a schedule: "The speed limits apply now,
 * until 23:30." or "Speeds are unlimited now; the limits apply from 18:00." Empty without one.
 */
export function scheduleNow(schedule: LimitsSchedule | null, now: SpeedsInForce | null): string {
  if (schedule === null || now === null) return "";
  return now.outside_schedule
    ? t("downloads.limits.offNow", { from: formatTime(schedule.from_minute) })
    : t("downloads.limits.onNow", { until: formatTime(schedule.until_minute) });
}
