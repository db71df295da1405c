/**
 * Formatting used across the UI, in the window's language (`i18n.current`): numbers, prices and
 * dates through `Intl`, units and phrases through `t`. Nothing here reads the clock or the DOM:
 * time-based helpers take `nowMs` so they can be tested.
 */
import { i18n, t } from "./i18n/i18n.svelte";
import type { LicenceState } from "./ipc/bindings";

/** The `Intl` locale of the window's language. */
function locale(): string {
  return i18n.current;
}

/** A number with exactly `digits` decimals (none by default), in the window's language. */
function number(value: number, digits = 0): string {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

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
  const plain = new Intl.NumberFormat(locale(), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: true,
  });
  try {
    const parts = new Intl.NumberFormat(locale(), {
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

/** Hours, minutes and seconds of `totalSeconds` (rounded, never negative), in the window's digits. */
function parts(totalSeconds: number) {
  const all = Math.max(0, Math.round(totalSeconds));
  const [h, m, s] = [Math.floor(all / 3600), Math.floor((all % 3600) / 60), all % 60];
  return { h, m, s, n: { h: number(h), m: number(m), s: number(s) } };
}

/** Runtime for people: "1 min 32 s", "48 min", "1 h 52 min", "2 h". */
export function formatRuntime(totalSeconds: number): string {
  const { h, m, s, n } = parts(totalSeconds);
  if (h > 0) return m > 0 ? t("format.duration.h_min", n) : t("format.duration.h", n);
  if (m > 0) return s > 0 ? t("format.duration.min_s", n) : t("format.duration.min", n);
  return t("format.duration.s", n);
}

/** A playback position as on a player clock: "0:42", "12:05", "1:02:03". */
export function formatClock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

const BYTE_UNITS = ["b", "kb", "mb", "gb", "tb"] as const;

/** Sizes in decimal units, as disks and download speeds are sold: "1.5 MB", "734 MB". */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const n = unit === 0 ? number(Math.round(value)) : value < 10 ? number(value, 1) : number(Math.round(value));
  return t(`format.bytes.${BYTE_UNITS[unit]}`, { n });
}

const RATE_UNITS = ["b", "kib", "mib", "gib"] as const;

/**
 * A transfer rate in binary units, the unit the speed limits are typed in: "64 KiB/s",
 * "2.0 MiB/s". Sizes stay decimal ("2.3 MB"), as the desktop's file managers write them.
 */
export function formatSpeed(bytesPerSecond: number): string {
  let value = Math.max(0, bytesPerSecond);
  let unit = 0;
  while (value >= 1024 && unit < RATE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const n = unit === 0 ? number(Math.round(value)) : value < 10 ? number(value, 1) : number(Math.round(value));
  return t(`format.rate.${RATE_UNITS[unit]}`, { n });
}

/** "3 March at 21:40" in local time; "3 March 2026 at 21:40" with `year`. */
export function formatDateTime(ms: number, { year = false }: { year?: boolean } = {}): string {
  // British English writes the day before the month, as the store always has.
  return new Intl.DateTimeFormat(locale() === "en" ? "en-GB" : locale(), {
    day: "numeric",
    month: "long",
    year: year ? "numeric" : undefined,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(ms));
}

/** Time left in a running rental: "23 h 12 min", "42 min 10 s", "9 s" (a countdown keeps
 * its second unit even at zero, so it does not jump in length). */
export function formatRemaining(ms: number): string {
  const { h, m, n } = parts(Math.floor(Math.max(0, ms) / 1000));
  if (h > 0) return t("format.duration.h_min", n);
  if (m > 0) return t("format.duration.min_s", n);
  return t("format.duration.s", n);
}

/** What a library entry's licence means right now, in one short line. */
export function licenceText(state: LicenceState, nowMs: number): string {
  switch (state.status) {
    case "owned":
      return t("format.licence.owned");
    case "free":
      return t("format.licence.free");
    case "not_started": {
      if (state.start_by_ms === null) return t("format.licence.not_started");
      const left = state.start_by_ms - nowMs;
      if (left <= 0) return t("format.licence.window_closed");
      const days = Math.floor(left / 86_400_000);
      if (days >= 1) return t("format.licence.start_within_days", { count: days });
      return t("format.licence.start_within", { time: formatRemaining(left) });
    }
    case "running": {
      if (state.ends_at_ms === null) return t("format.licence.running");
      const left = state.ends_at_ms - nowMs;
      if (left <= 0) return t("format.licence.ended_on", { when: formatDateTime(state.ends_at_ms) });
      return t("format.licence.left", { time: formatRemaining(left) });
    }
    case "expired": {
      const end = state.ends_at_ms ?? state.start_by_ms;
      return end === null ? t("format.licence.ended") : t("format.licence.ended_on", { when: formatDateTime(end) });
    }
    case "revoked":
      return t("format.licence.revoked");
    case "other_device":
      return t("format.licence.other_device");
  }
}

/** True when a licence no longer lets the title play at `nowMs`. */
export function licenceEnded(state: LicenceState, nowMs: number): boolean {
  if (state.status === "expired" || state.status === "revoked" || state.status === "other_device") return true;
  if (state.status === "running" && state.ends_at_ms !== null) return state.ends_at_ms <= nowMs;
  if (state.status === "not_started" && state.start_by_ms !== null) return state.start_by_ms <= nowMs;
  return false;
}
