import { describe, expect, it } from "vitest";
import { FrameReader } from "./frames";

function frame(kind: number, payload: number[]): number[] {
  const len = payload.length;
  return [kind, (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, ...payload];
}

function u64(n: number): number[] {
  const out: number[] = [];
  for (let i = 7; i >= 0; i--) out.push(Math.floor(n / 2 ** (8 * i)) % 256);
  return out;
}

describe("FrameReader", () => {
  const wire = [
    ...frame(0, [1, 2, 3]),
    ...frame(1, [...u64(3000), ...u64(1_700_000_003_000), 1, 9, 9]),
    ...frame(2, []),
    ...frame(1, [...u64(4000), ...u64(1_700_000_004_000), 0, 7]),
    ...frame(3, u64(1600)),
  ];

  it("reads init, media and reset frames with the segment's times", () => {
    const frames = new FrameReader().push(new Uint8Array(wire));
    expect(frames.map((f) => f.kind)).toEqual(["init", "media", "reset", "media", "delay"]);
    expect(frames[4]).toEqual({ kind: "delay", delayMs: 1600 });
    const media = frames[1];
    expect(media).toMatchObject({ kind: "media", ptsMs: 3000, captureMs: 1_700_000_003_000, segmentStart: true });
    expect(media.kind === "media" && Array.from(media.bytes)).toEqual([9, 9]);
    expect(frames[3]).toMatchObject({ segmentStart: false });
  });

  it("waits for the rest of a frame split across reads, byte by byte", () => {
    const reader = new FrameReader();
    const kinds: string[] = [];
    for (const b of wire) kinds.push(...reader.push(new Uint8Array([b])).map((f) => f.kind));
    expect(kinds).toEqual(["init", "media", "reset", "media", "delay"]);
  });

  it("refuses bytes that are not this stream", () => {
    expect(() => new FrameReader().push(new Uint8Array(frame(9, [])))).toThrow(/unknown kind/);
    expect(() => new FrameReader().push(new Uint8Array([1, 255, 255, 255, 255]))).toThrow(/not one Marquee sends/);
    expect(() => new FrameReader().push(new Uint8Array(frame(1, [1, 2])))).toThrow(/header/);
    expect(() => new FrameReader().push(new Uint8Array(frame(3, [1])))).toThrow(/wrong length/);
  });
});
