/** How a channel's tile reads: its colours (stable per channel) and how long it has been live. */
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
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  return `${h} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** "1.2 Mbit/s", "850 kbit/s": a stream's bitrate for people. */
export function formatBitrate(bps: number): string {
  if (bps >= 1_000_000) return `${(bps / 1_000_000).toFixed(1)} Mbit/s`;
  return `${Math.round(bps / 1000)} kbit/s`;
}

/** "VP9 · Opus" (as the publish sheet says it) from `video/webm; codecs="vp9,opus"`; the container ("WebM") when the type names no codec. */
export function codecsOf(mime: string): string {
  const names = codecNames(mime);
  return names.length > 0 ? names.join(" · ") : containerName(mime);
}
