/** Download progress in words and numbers. */
import { formatSpeed } from "../format";
import type { DownloadProgress } from "../ipc/bindings";

/** Fraction downloaded, 0..1. */
export function downloadFraction(p: DownloadProgress): number {
  if (p.state === "seeding" || p.state === "done") return 1;
  if (p.total_bytes <= 0) return 0;
  return Math.min(1, Math.max(0, p.downloaded_bytes / p.total_bytes));
}

export function isComplete(p: DownloadProgress): boolean {
  return p.state === "seeding" || p.state === "done" || (p.total_bytes > 0 && p.downloaded_bytes >= p.total_bytes);
}

function peers(n: number): string {
  return `${n} peer${n === 1 ? "" : "s"}`;
}

/**
 * One line under a progress bar: "Downloading 34% · 2.1 MB/s · 1 peer",
 * "Downloaded · seeding to 2 peers".
 */
export function downloadText(p: DownloadProgress): string {
  const pct = Math.floor(downloadFraction(p) * 100);
  if (p.state === "queued") return "Waiting to download";
  if (p.state === "paused") return `Paused at ${pct}%`;
  if (p.state === "removed") return "Not downloaded · watching downloads it again";
  if (p.state === "done") return "Downloaded · not seeding (paused)";
  if (p.state === "error") return p.error ? `Download stopped: ${p.error}` : "Download stopped";
  if (p.state === "disk_full") return "Waiting for space on the disk · goes on by itself";
  // A finished download that has not switched to seeding yet reads as downloaded.
  if (p.state === "downloading" && !isComplete(p)) {
    const who = p.peers > 0 ? peers(p.peers) : "looking for peers";
    return [`Downloading ${pct}%`, formatSpeed(p.down_bytes_per_s), who].join(" · ");
  }
  return p.peers > 0 ? `Downloaded · seeding to ${peers(p.peers)}` : "Downloaded";
}

/**
 * What a screen reader is told about a download: its state, and while downloading only each
 * quarter passed ("Downloading, 25%"), so the speed and peer count that change every second are
 * never read out. The line under the bar (`downloadText`) stays silent.
 */
export function downloadAnnouncement(p: DownloadProgress): string {
  if (p.state === "queued") return "Waiting to download";
  if (p.state === "paused") return "Download paused";
  if (p.state === "removed") return "Not downloaded";
  if (p.state === "error") return p.error ? `Download stopped: ${p.error}` : "Download stopped";
  if (p.state === "disk_full") return "Waiting for space on the disk";
  if (p.state === "downloading" && !isComplete(p)) {
    const quarter = Math.floor(downloadFraction(p) * 4) * 25;
    return `Downloading, ${quarter}%`;
  }
  return "Downloaded";
}
