import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatClock,
  formatDateTime,
  formatMoney,
  formatRemaining,
  formatRuntime,
  formatSpeed,
  licenceEnded,
  licenceText,
} from "./format";
import type { LicenceState } from "./ipc/bindings";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("formatMoney", () => {
  it("writes the symbol and the currency's decimals", () => {
    expect(formatMoney(400, "USD")).toBe("$4.00");
    expect(formatMoney(400, "EUR")).toBe("€4.00");
    expect(formatMoney(5, "EUR")).toBe("€0.05");
    expect(formatMoney(0, "USD")).toBe("$0.00");
    expect(formatMoney(123456, "USD")).toBe("$1,234.56");
  });
  it("knows currencies without minor units", () => {
    expect(formatMoney(500, "JPY")).toBe("¥500");
  });
  it("puts the code after the amount when there is no symbol", () => {
    expect(formatMoney(400, "CHF")).toBe("4.00 CHF");
    expect(formatMoney(199, "not-a-code")).toBe("1.99 not-a-code");
  });
});

describe("formatRuntime", () => {
  it("formats short demo files with seconds", () => {
    expect(formatRuntime(92)).toBe("1 min 32 s");
    expect(formatRuntime(45)).toBe("45 s");
    expect(formatRuntime(60)).toBe("1 min");
  });
  it("formats features in hours and minutes", () => {
    expect(formatRuntime(6720)).toBe("1 h 52 min");
    expect(formatRuntime(7200)).toBe("2 h");
    expect(formatRuntime(3659)).toBe("1 h");
  });
  it("never goes negative", () => {
    expect(formatRuntime(-5)).toBe("0 s");
  });
});

describe("formatClock", () => {
  it("prints player positions", () => {
    expect(formatClock(42)).toBe("0:42");
    expect(formatClock(42.9)).toBe("0:42");
    expect(formatClock(725)).toBe("12:05");
    expect(formatClock(3723)).toBe("1:02:03");
  });
});

describe("formatBytes / formatSpeed", () => {
  it("uses decimal units with one decimal below ten", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 KB");
    expect(formatBytes(34_000_000)).toBe("34 MB");
    expect(formatBytes(1_230_000_000)).toBe("1.2 GB");
  });
  it("gives speeds in the binary units the limits are typed in", () => {
    expect(formatSpeed(0)).toBe("0 B/s");
    expect(formatSpeed(1023)).toBe("1,023 B/s");
    expect(formatSpeed(64 * 1024)).toBe("64 KiB/s");
    expect(formatSpeed(2_100_000)).toBe("2.0 MiB/s");
    expect(formatSpeed(3.5 * 1024 ** 3)).toBe("3.5 GiB/s");
  });
});

describe("formatDateTime / formatRemaining", () => {
  it("prints a local date and time", () => {
    expect(formatDateTime(new Date(2025, 2, 3, 21, 40).getTime())).toBe("3 March at 21:40");
    expect(formatDateTime(new Date(2025, 11, 25, 7, 5).getTime())).toBe("25 December at 07:05");
  });
  it("prints what is left", () => {
    expect(formatRemaining(23 * HOUR + 12 * 60_000 + 59_000)).toBe("23 h 12 min");
    expect(formatRemaining(42 * 60_000 + 10_000)).toBe("42 min 10 s");
    expect(formatRemaining(9_500)).toBe("9 s");
  });
});

describe("licenceText", () => {
  const now = new Date(2025, 2, 1, 12, 0).getTime();
  const rent = (s: Partial<LicenceState>): LicenceState => ({
    kind: "rent",
    status: "not_started",
    start_by_ms: null,
    ends_at_ms: null,
    ...s,
  });

  it("counts the days left to start a rental", () => {
    expect(licenceText(rent({ start_by_ms: now + 30 * DAY - 1000 }), now)).toBe("Start within 29 days");
    expect(licenceText(rent({ start_by_ms: now + DAY + 1000 }), now)).toBe("Start within 1 day");
    expect(licenceText(rent({ start_by_ms: now + 5 * HOUR }), now)).toBe("Start within 5 h 0 min");
  });
  it("counts down a running rental", () => {
    const ends = now + 23 * HOUR + 12 * 60_000 + 30_000;
    expect(licenceText(rent({ status: "running", ends_at_ms: ends }), now)).toBe("23 h 12 min left");
    expect(licenceText(rent({ status: "running", ends_at_ms: ends }), ends - 61_000)).toBe("1 min 1 s left");
  });
  it("says when a rental ended", () => {
    const ended = new Date(2025, 2, 3, 21, 40).getTime();
    expect(licenceText(rent({ status: "expired", ends_at_ms: ended }), ended + DAY)).toBe(
      "Rental ended on 3 March at 21:40",
    );
    expect(licenceText(rent({ status: "running", ends_at_ms: ended }), ended + 1)).toBe(
      "Rental ended on 3 March at 21:40",
    );
    expect(licenceText(rent({ status: "expired" }), now)).toBe("Rental ended");
  });
  it("labels owned and free titles", () => {
    expect(licenceText({ kind: "buy", status: "owned", start_by_ms: null, ends_at_ms: null }, now)).toBe("Owned");
    expect(licenceText({ kind: "free", status: "free", start_by_ms: null, ends_at_ms: null }, now)).toBe(
      "Free · DRM-free",
    );
  });
  it("knows when a licence has ended", () => {
    expect(licenceEnded(rent({ status: "running", ends_at_ms: now - 1 }), now)).toBe(true);
    expect(licenceEnded(rent({ status: "running", ends_at_ms: now + 1 }), now)).toBe(false);
    expect(licenceEnded(rent({ status: "expired" }), now)).toBe(true);
    expect(licenceEnded({ kind: "buy", status: "owned", start_by_ms: null, ends_at_ms: null }, now)).toBe(false);
  });
});
