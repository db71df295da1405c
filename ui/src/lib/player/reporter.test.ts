import { describe, expect, it } from "vitest";
import { PositionReporter } from "./reporter";

function recorder() {
  const calls: [number, boolean][] = [];
  const reporter = new PositionReporter(async (pos, first) => {
    calls.push([pos, first]);
  });
  return { calls, reporter };
}

describe("PositionReporter", () => {
  it("reports the first frame once", () => {
    const { calls, reporter } = recorder();
    reporter.firstFrame(0.04, 1000);
    reporter.firstFrame(0.08, 1010);
    expect(calls).toEqual([[0.04, true]]);
    expect(reporter.firstFrameSent).toBe(true);
  });

  it("says nothing before the first frame", () => {
    const { calls, reporter } = recorder();
    expect(reporter.tick(3, 10_000)).toBeNull();
    expect(reporter.flush(3, 10_000)).toBeNull();
    expect(calls).toEqual([]);
  });

  it("reports every five seconds while playing", () => {
    const { calls, reporter } = recorder();
    reporter.firstFrame(0, 0);
    reporter.tick(1, 1000);
    reporter.tick(4.9, 4900);
    reporter.tick(5, 5000);
    reporter.tick(7, 7000);
    reporter.tick(10.2, 10_200);
    expect(calls).toEqual([
      [0, true],
      [5, false],
      [10.2, false],
    ]);
  });

  it("flushes on pause unless the position is unchanged", () => {
    const { calls, reporter } = recorder();
    reporter.firstFrame(0, 0);
    reporter.flush(42, 300);
    reporter.flush(42.2, 400);
    expect(calls).toEqual([
      [0, true],
      [42, false],
    ]);
  });
});
