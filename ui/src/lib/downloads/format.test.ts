import { describe, expect, it } from "vitest";
import type { DownloadItem, DownloadProgress } from "../ipc/bindings";
import { i18n } from "../i18n/i18n.svelte";
import {
  canPause,
  errorSentence,
  formatActive,
  formatEta,
  formatLimit,
  fraction,
  parseActive,
  parseLimit,
  parseTime,
  placeInLine,
  queueMoves,
  scheduleNow,
  scheduleOf,
  timeField,
  STATE_LABEL,
  stateWords,
} from "./format";

function item(p: Partial<DownloadProgress>): DownloadItem {
  return {
    name: "Neon Harbor",
    kind: "film",
    origin: "store",
    height: 480,
    eta_s: null,
    files_deletable: true,
    queue_position: null,
    give_back: { from_viewers: 0, from_store: 0, given: 0 },
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

/** A row of the queue: `id` in `state` at `position` (null: out of the queue). */
function queued(id: string, state: DownloadProgress["state"], position: number | null): DownloadItem {
  return { ...item({ title_id: id, state }), queue_position: position };
}

describe("the queue", () => {
  // As the core lists it: downloading first, then waiting, both in queue order, then the rest.
  const list = [
    queued("a", "downloading", 1),
    queued("d", "downloading", 4),
    queued("b", "queued", 2),
    queued("c", "queued", 3),
    queued("e", "queued", 5),
    queued("s", "seeding", null),
    queued("p", "paused", null),
  ];
  const find = (id: string) => list.find((d) => d.progress.title_id === id)!;

  it("counts a waiting title's place among those waiting, whatever the order shown", () => {
    expect(["b", "c", "e"].map((id) => placeInLine(list, id))).toEqual([1, 2, 3]);
    expect(["b", "c", "e"].map((id) => placeInLine([...list].reverse(), id))).toEqual([1, 2, 3]);
    for (const id of ["a", "d", "s", "p", "nobody"]) expect(placeInLine(list, id)).toBeNull();
  });

  it("says a waiting title's place with the ordinal of each language", () => {
    i18n.use("en");
    const many = Array.from({ length: 23 }, (_, i) => queued(`q${i + 1}`, "queued", i + 1));
    const words = (n: number) => stateWords(many, many[n - 1]);
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23].map(words)).toEqual(
      ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd"].map((o) => `Waiting — ${o} in line`),
    );
    expect(stateWords(list, find("a"))).toBe("Downloading");
    expect(stateWords(list, find("p"))).toBe("Paused");
    i18n.use("it");
    expect(words(2)).toBe("In attesa — 2º in coda");
    expect(words(8)).toBe("In attesa — 8º in coda");
    i18n.use("ar");
    expect(words(2)).toBe("في الانتظار — رقم 2 في الدور");
    expect(words(11)).toBe("في الانتظار — رقم 11 في الدور");
    i18n.use("en");
  });

  it("offers moving up and down within the queue only, and not past either end", () => {
    expect(queueMoves(list, find("a"))).toEqual({ up: null, down: 2 });
    expect(queueMoves(list, find("c"))).toEqual({ up: 2, down: 4 });
    expect(queueMoves(list, find("e"))).toEqual({ up: 4, down: null });
    expect(queueMoves(list, find("s"))).toBeNull();
    expect(queueMoves(list, find("p"))).toBeNull();
    // Alone in the queue: nowhere to go.
    const alone = [queued("a", "downloading", 1), queued("s", "seeding", null)];
    expect(queueMoves(alone, alone[0])).toBeNull();
  });

  it("reads the number at once from its field: empty or 0 is no limit", () => {
    expect(parseActive("")).toEqual({ value: null });
    expect(parseActive(" 0 ")).toEqual({ value: null });
    expect(parseActive("3")).toEqual({ value: 3 });
    for (const bad of ["-1", "2.5", "two"]) expect(parseActive(bad)).toHaveProperty("error");
    expect(formatActive(1)).toBe("1 download at once");
    expect(formatActive(3)).toBe("3 downloads at once");
    expect(formatActive(null)).toBe("all downloads at once");
  });
});

describe("the limits' schedule", () => {
  it("reads times of day as people type them", () => {
    i18n.use("en");
    expect(parseTime("")).toEqual({ value: null });
    expect(parseTime("18:30")).toEqual({ value: 18 * 60 + 30 });
    expect(parseTime("9:05")).toEqual({ value: 9 * 60 + 5 });
    expect(parseTime("18.30")).toEqual({ value: 18 * 60 + 30 });
    expect(parseTime("7")).toEqual({ value: 7 * 60 });
    expect(parseTime("00:00")).toEqual({ value: 0 });
    for (const bad of ["24:00", "12:60", "noon", "1:5", "-1", "12:30:00"]) {
      const parsed = parseTime(bad);
      expect("error" in parsed && parsed.error, bad).toContain("18:30");
    }
    expect(timeField(9 * 60 + 5)).toBe("09:05");
    expect(parseTime(timeField(23 * 60 + 59))).toEqual({ value: 23 * 60 + 59 });
  });

  it("takes both times or neither, and not the same one twice", () => {
    i18n.use("en");
    expect(scheduleOf(null, null)).toEqual({ value: null });
    expect(scheduleOf(1320, 360)).toEqual({ value: { from_minute: 1320, until_minute: 360 } });
    const one = scheduleOf(1320, null);
    expect("error" in one && one.error).toContain("both");
    const same = scheduleOf(600, 600);
    expect("error" in same && same.error).toContain("same minute");
  });

  it("says whether the limits apply now, with the time that changes it", () => {
    const schedule = { from_minute: 18 * 60, until_minute: 23 * 60 + 30 };
    const on = { download_kib_s: 64, upload_kib_s: null, outside_schedule: false };
    i18n.use("it");
    expect(scheduleNow(schedule, on)).toBe("I limiti di velocità valgono ora, fino alle 23:30.");
    expect(scheduleNow(schedule, { ...on, download_kib_s: null, outside_schedule: true })).toBe(
      "Ora le velocità non hanno limiti; i limiti valgono dalle 18:00.",
    );
    i18n.use("en");
    expect(scheduleNow(null, on)).toBe("");
  });
});
