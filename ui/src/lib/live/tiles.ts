/** How a channel's tile reads: its colours (stable per channel) and how long it has been live. */

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
