/** Words and numbers of the downloads view. Pure: no clock, no DOM. */
import { formatRemaining } from "../format";
import type { DownloadItem, DownloadState } from "../ipc/bindings";

const DAY_S = 86_400;

/** What each state reads as in the list. */
export const STATE_LABEL: Record<DownloadState, string> = {
  queued: "Waiting",
  downloading: "Downloading",
  seeding: "Seeding",
  done: "Done",
  paused: "Paused",
  disk_full: "Waiting for space",
  removed: "Removed",
  error: "Stopped",
};

/** Time left: "9 s left", "4 min 10 s left", "2 h 5 min left", "3 days left"; "" when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds >= 2 * DAY_S) return `${Math.round(seconds / DAY_S)} days left`;
  return `${formatRemaining(seconds * 1000)} left`;
}

/** A rate limit in KiB/s for people: "512 KiB/s", "2 MiB/s", "Unlimited". */
export function formatLimit(kibPerSecond: number | null): string {
  if (kibPerSecond === null) return "Unlimited";
  if (kibPerSecond >= 1024 && kibPerSecond % 1024 === 0) return `${kibPerSecond / 1024} MiB/s`;
  return `${kibPerSecond} KiB/s`;
}

/**
 * What the person typed in a limit field: `null` (unlimited) for an empty field, a whole
 * number of KiB/s, or an error sentence. The core checks the range again.
 */
export function parseLimit(text: string): { value: number | null } | { error: string } {
  const t = text.trim();
  if (t === "") return { value: null };
  if (!/^\d+$/.test(t)) return { error: "Type a whole number of KiB/s, or leave it empty for no limit." };
  return { value: Number(t) };
}

/** Whether a row offers Pause (running) or Resume (stopped by the person or by an error). */
export function canPause(state: DownloadState): boolean {
  return state === "downloading" || state === "seeding" || state === "queued";
}

/** Fraction downloaded, 0..1. */
export function fraction(d: DownloadItem): number {
  const p = d.progress;
  if (p.state === "seeding" || p.state === "done") return 1;
  if (p.total_bytes <= 0) return 0;
  return Math.min(1, Math.max(0, p.downloaded_bytes / p.total_bytes));
}

/** The sentence under a stopped download. */
export function errorSentence(error: string | null): string {
  const why = error?.trim() ? error.trim().replace(/[.\s]+$/, "") : "the download stopped";
  return `${why[0].toUpperCase()}${why.slice(1)}. Resume to try again, or remove it.`;
}
