/**
 * Pure formatting used across the UI. Nothing here reads the clock or the DOM: time-based
 * helpers take `nowMs` so they can be tested.
 */
import type { LicenceState } from "./ipc/bindings";

const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

/** Minor-unit digits of a currency (2 for EUR/USD, 0 for JPY); 2 when unknown. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * Money, written one way everywhere (cards, buttons, the confirmation, the wallet, receipts):
 * the currency's narrow symbol and its own minor digits, "$4.00", "€4.00", "¥500"; the code
 * after the amount for a currency without a symbol ("4.00 CHF").
 */
export function formatMoney(cents: number, currency: string): string {
  const digits = currencyDigits(currency);
  const value = cents / 10 ** digits;
  const plain = new Intl.NumberFormat("en", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: true,
  });
  try {
    const parts = new Intl.NumberFormat("en", {
      style: "currency",
      currency,
      currencyDisplay: "narrowSymbol",
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).formatToParts(value);
    const symbol = parts.find((p) => p.type === "currency")?.value;
    if (symbol === undefined || symbol === currency) return `${plain.format(value)} ${currency}`;
    return parts.map((p) => p.value).join("");
  } catch {
    return `${plain.format(value)} ${currency}`;
  }
}

/** Runtime for people: "1 min 32 s", "48 min", "1 h 52 min", "2 h". */
export function formatRuntime(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return sec > 0 ? `${m} min ${sec} s` : `${m} min`;
  return `${sec} s`;
}

/** A playback position as on a player clock: "0:42", "12:05", "1:02:03". */
export function formatClock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Sizes in decimal units, as disks and download speeds are sold: "1.5 MB", "734 MB". */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const rounded = value < 10 ? value.toFixed(1) : String(Math.round(value));
  return `${rounded} ${BYTE_UNITS[unit]}`;
}

/** A transfer rate: "2.1 MB/s". */
export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** "3 March at 21:40" in local time. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  return `${d.getDate()} ${MONTHS[d.getMonth()]} at ${hh}:${mm}`;
}

/** Time left in a running rental: "23 h 12 min", "42 min 10 s", "9 s". */
export function formatRemaining(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${sec} s`;
  return `${sec} s`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What a library entry's licence means right now, in one short line. */
export function licenceText(state: LicenceState, nowMs: number): string {
  switch (state.status) {
    case "owned":
      return "Owned";
    case "free":
      return "Free · DRM-free";
    case "not_started": {
      if (state.start_by_ms === null) return "Not started yet";
      const left = state.start_by_ms - nowMs;
      if (left <= 0) return "Rental window closed";
      const days = Math.floor(left / 86_400_000);
      if (days >= 1) return `Start within ${plural(days, "day")}`;
      return `Start within ${formatRemaining(left)}`;
    }
    case "running": {
      if (state.ends_at_ms === null) return "Rental running";
      const left = state.ends_at_ms - nowMs;
      if (left <= 0) return `Rental ended on ${formatDateTime(state.ends_at_ms)}`;
      return `${formatRemaining(left)} left`;
    }
    case "expired": {
      const end = state.ends_at_ms ?? state.start_by_ms;
      return end === null ? "Rental ended" : `Rental ended on ${formatDateTime(end)}`;
    }
    case "revoked":
      return "Withdrawn by the store";
    case "other_device":
      return "Licensed to another computer";
  }
}

/** True when a licence no longer lets the title play at `nowMs`. */
export function licenceEnded(state: LicenceState, nowMs: number): boolean {
  if (state.status === "expired" || state.status === "revoked" || state.status === "other_device") return true;
  if (state.status === "running" && state.ends_at_ms !== null) return state.ends_at_ms <= nowMs;
  if (state.status === "not_started" && state.start_by_ms !== null) return state.start_by_ms <= nowMs;
  return false;
}
