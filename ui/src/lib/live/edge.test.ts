import { describe, expect, it } from "vitest";
import { CATCH_UP_RATE, lagSeconds, scheduled, SLOW_DOWN_RATE, startAt, steer } from "./edge";

describe("the schedule", () => {
  it("puts the playhead at the media captured the relay's delay ago", () => {
    // Segment at pts 600 s was captured at t = 1,000,000 ms; now is 2.6 s later, delay 1.6 s.
    expect(scheduled(1_002_600, 1600, 600_000, 1_000_000)).toBeCloseTo(601.0);
  });
  it("measures now minus the capture time of the frame shown", () => {
    expect(lagSeconds(1_002_500, 600.5, 600_000, 1_000_000)).toBeCloseTo(2.0);
  });
});

describe("steer", () => {
  const held = [{ start: 600, end: 603 }];
  it("plays at normal speed on schedule, with what arrived early held in the buffer", () => {
    expect(steer(held, 601, 601.1)).toEqual({ rate: 1, seekTo: null });
  });
  it("plays a little faster when behind, a little slower when ahead, and jumps when far behind", () => {
    expect(steer(held, 601, 601.5)).toEqual({ rate: CATCH_UP_RATE, seekTo: null });
    expect(steer(held, 601.5, 601)).toEqual({ rate: SLOW_DOWN_RATE, seekTo: null });
    expect(steer([{ start: 600, end: 610 }], 601, 606)).toEqual({ rate: 1, seekTo: 606 });
    // Never past what is held.
    expect(steer([{ start: 600, end: 604 }], 600.5, 606).seekTo).toBeCloseTo(603.9);
  });
  it("steps over a hole left by skipped chunks", () => {
    const ranges = [
      { start: 600, end: 602 },
      { start: 604, end: 606 },
    ];
    expect(steer(ranges, 602, 604.5)).toEqual({ rate: 1, seekTo: 604.5 });
    expect(steer(ranges, 602, null)).toEqual({ rate: 1, seekTo: 604 });
  });
  it("waits when nothing is held ahead", () => {
    expect(steer([], 3, 4)).toEqual({ rate: 1, seekTo: null });
    expect(steer([{ start: 1, end: 2 }], 2, 3)).toEqual({ rate: 1, seekTo: null });
  });
});

describe("startAt", () => {
  it("starts on the schedule when it is held, else as near as is held", () => {
    expect(startAt([{ start: 600, end: 603 }], 601)).toBe(601);
    expect(startAt([{ start: 600, end: 600.5 }], 601)).toBeCloseTo(600.4);
    expect(startAt([{ start: 600, end: 603 }], 590)).toBe(600);
    expect(startAt([{ start: 600, end: 603 }], null)).toBe(600);
    expect(startAt([], 600)).toBeNull();
  });
});
