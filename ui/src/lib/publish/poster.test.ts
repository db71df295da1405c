import { describe, expect, it } from "vitest";
import { autoPosterTime, posterCrop } from "./poster";

describe("posterCrop", () => {
  it("cuts the sides off a wide frame, centred", () => {
    expect(posterCrop(1920, 1080)).toEqual({ sx: 600, sy: 0, sw: 720, sh: 1080 });
    expect(posterCrop(1280, 720)).toEqual({ sx: 400, sy: 0, sw: 480, sh: 720 });
  });
  it("cuts the top and bottom off a tall frame, centred", () => {
    expect(posterCrop(1080, 1920)).toEqual({ sx: 0, sy: 150, sw: 1080, sh: 1620 });
  });
  it("keeps a 2:3 frame whole", () => {
    expect(posterCrop(480, 720)).toEqual({ sx: 0, sy: 0, sw: 480, sh: 720 });
  });
  it("keeps the crop inside odd-sized frames", () => {
    const c = posterCrop(641, 361);
    expect(c.sx + c.sw).toBeLessThanOrEqual(641);
    expect(c.sh).toBe(361);
    expect(Math.abs(c.sw / c.sh - 2 / 3)).toBeLessThan(0.01);
  });
  it("gives an empty crop before the video has a size", () => {
    expect(posterCrop(0, 0)).toEqual({ sx: 0, sy: 0, sw: 0, sh: 0 });
  });
});

describe("autoPosterTime", () => {
  it("takes 1 s in, or the middle of a shorter clip", () => {
    expect(autoPosterTime(120)).toBe(1);
    expect(autoPosterTime(1.2)).toBe(0.6);
    expect(autoPosterTime(null)).toBe(1);
    expect(autoPosterTime(0)).toBe(1);
  });
});
