import { describe, expect, it } from "vitest";
import type { DownloadItem, DownloadProgress } from "../ipc/bindings";
import { canPause, errorSentence, formatEta, formatLimit, fraction, parseLimit, STATE_LABEL } from "./format";

function item(p: Partial<DownloadProgress>): DownloadItem {
  return {
    name: "Neon Harbor",
    kind: "film",
    origin: "store",
    height: 480,
    eta_s: null,
    files_deletable: true,
    progress: {
      title_id: "neon-harbor",
      state: "downloading",
      downloaded_bytes: 0,
      total_bytes: 1000,
      down_bytes_per_s: 0,
      up_bytes_per_s: 0,
      peers: 0,
      error: null,
      ...p,
    },
  };
}

describe("formatEta", () => {
  it("says how long is left, in the units people read", () => {
    expect(formatEta(9)).toBe("9 s left");
    expect(formatEta(250)).toBe("4 min 10 s left");
    expect(formatEta(2 * 3600 + 5 * 60 + 7)).toBe("2 h 5 min left");
    expect(formatEta(3 * 86_400 + 100)).toBe("3 days left");
  });
  it("says nothing when there is nothing to promise", () => {
    expect(formatEta(null)).toBe("");
    expect(formatEta(0)).toBe("");
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe("");
  });
});

describe("limits", () => {
  it("read as rates", () => {
    expect(formatLimit(null)).toBe("Unlimited");
    expect(formatLimit(512)).toBe("512 KiB/s");
    expect(formatLimit(2048)).toBe("2 MiB/s");
    expect(formatLimit(1500)).toBe("1500 KiB/s");
  });
  it("parse from a field: empty is unlimited, anything but digits is explained", () => {
    expect(parseLimit("")).toEqual({ value: null });
    expect(parseLimit("  ")).toEqual({ value: null });
    expect(parseLimit(" 640 ")).toEqual({ value: 640 });
    for (const bad of ["-5", "1.5", "fast", "10k"]) expect(parseLimit(bad)).toHaveProperty("error");
  });
});

describe("rows", () => {
  it("have a label for every state", () => {
    for (const label of Object.values(STATE_LABEL)) expect(label).toMatch(/\S/);
  });
  it("offer pause while running, resume when stopped", () => {
    expect(canPause("downloading")).toBe(true);
    expect(canPause("seeding")).toBe(true);
    expect(canPause("paused")).toBe(false);
    expect(canPause("done")).toBe(false);
    expect(canPause("error")).toBe(false);
  });
  it("fill the bar by verified bytes, whole once complete", () => {
    expect(fraction(item({ downloaded_bytes: 250 }))).toBe(0.25);
    expect(fraction(item({ state: "done", downloaded_bytes: 0 }))).toBe(1);
    expect(fraction(item({ total_bytes: 0 }))).toBe(0);
  });
  it("explain a stopped download in a sentence with the next step", () => {
    expect(errorSentence("no space left on device")).toBe(
      "No space left on device. Resume to try again, or remove it.",
    );
    expect(errorSentence(null)).toBe("The download stopped. Resume to try again, or remove it.");
  });
});
