/** How a channel's tile reads: its colours (stable per channel) and how long it has been live. */
import { i18n, t } from "../i18n/i18n.svelte";
import { codecNames, containerName } from "./mse";

/** Two colours for a channel without a poster, from its id: the same channel always looks the same. */
export function tileColours(channel: string): [string, string] {
  let h = 0;
  for (let i = 0; i < channel.length; i++) h = (h * 31 + channel.charCodeAt(i)) >>> 0;
  const hue = h % 360;
  return [`hsl(${hue} 70% 42%)`, `hsl(${(hue + 48) % 360} 75% 28%)`];
}

/** "3 min", "1 h 05 min": how long since `startedAtS` (unix seconds), at `nowMs`. */
export function liveFor(startedAtS: number, nowMs: number): string {
  const minutes = Math.max(0, Math.floor((nowMs / 1000 - startedAtS) / 60));
  if (minutes < 1) return t("live.duration.underMinute");
  if (minutes < 60) return t("live.duration.minutes", { minutes });
  const h = Math.floor(minutes / 60);
  return t("live.duration.hoursMinutes", { hours: h, minutes: String(minutes % 60).padStart(2, "0") });
}

/** `value` with `digits` decimals, in the window's language: "1.2", "1,2" in Italian. */
export function decimal(value: number, digits = 1): string {
  return new Intl.NumberFormat(i18n.current, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
}

/** "1.2 Mbit/s", "850 kbit/s": a stream's bitrate for people. */
export function formatBitrate(bps: number): string {
  if (bps >= 1_000_000) return t("live.bitrate.mbps", { value: decimal(bps / 1_000_000) });
  return t("live.bitrate.kbps", { value: decimal(Math.round(bps / 1000), 0) });
}

/** "VP9 · Opus" (as the publish sheet says it) from `video/webm; codecs="vp9,opus"`; the container ("WebM") when the type names no codec. */
export function codecsOf(mime: string): string {
  const names = codecNames(mime);
  return names.length > 0 ? names.join(" · ") : containerName(mime);
}
