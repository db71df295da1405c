/** Download progress in words and numbers. */
import { formatSpeed } from "../format";
import { t } from "../i18n/i18n.svelte";
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

function stopped(p: DownloadProgress): string {
  return p.error ? t("library.download.stoppedBecause", { reason: p.error }) : t("library.download.stopped");
}

/**
 * One line under a progress bar: "Downloading 34% · 2.0 MiB/s · 1 peer",
 * "Downloaded · seeding to 2 peers".
 */
export function downloadText(p: DownloadProgress): string {
  const pct = Math.floor(downloadFraction(p) * 100);
  if (p.state === "queued") return t("library.download.queued");
  if (p.state === "paused") return t("library.download.pausedAt", { percent: pct });
  if (p.state === "removed") return t("library.download.removed");
  if (p.state === "done") return t("library.download.done");
  if (p.state === "error") return stopped(p);
  if (p.state === "disk_full") return t("library.download.diskFull");
  // A finished download that has not switched to seeding yet reads as downloaded.
  if (p.state === "downloading" && !isComplete(p)) {
    const speed = formatSpeed(p.down_bytes_per_s);
    return p.peers > 0
      ? t("library.download.downloading", { percent: pct, speed, count: p.peers })
      : t("library.download.downloadingNoPeers", { percent: pct, speed });
  }
  return p.peers > 0 ? t("library.download.seeding", { count: p.peers }) : t("library.download.downloaded");
}

/**
 * What a screen reader is told about a download: its state, and while downloading only each
 * quarter passed ("Downloading, 25%"), so the speed and peer count that change every second are
 * never read out. The line under the bar (`downloadText`) stays silent.
 */
export function downloadAnnouncement(p: DownloadProgress): string {
  if (p.state === "queued") return t("library.download.queued");
  if (p.state === "paused") return t("library.announce.paused");
  if (p.state === "removed") return t("library.announce.removed");
  if (p.state === "error") return stopped(p);
  if (p.state === "disk_full") return t("library.announce.diskFull");
  if (p.state === "downloading" && !isComplete(p)) {
    const quarter = Math.floor(downloadFraction(p) * 4) * 25;
    return t("library.announce.downloading", { percent: quarter });
  }
  return t("library.download.downloaded");
}
