import { describe, expect, it } from "vitest";
import { liveFor, tileColours } from "./tiles";

describe("channel tiles", () => {
  it("says how long a channel has been live", () => {
    const start = 1_000_000;
    expect(liveFor(start, start * 1000 + 20_000)).toBe("less than a minute");
    expect(liveFor(start, start * 1000 + 3 * 60_000)).toBe("3 min");
    expect(liveFor(start, start * 1000 + 65 * 60_000)).toBe("1 h 05 min");
    // A broadcaster's clock ahead of this one's never reads as negative.
    expect(liveFor(start, start * 1000 - 60_000)).toBe("less than a minute");
  });
  it("gives each channel its own colours, the same every time", () => {
    expect(tileColours("ab".repeat(32))).toEqual(tileColours("ab".repeat(32)));
    expect(tileColours("ab".repeat(32))).not.toEqual(tileColours("cd".repeat(32)));
  });
});

describe("what a stream is", () => {
  it("reads a bitrate and the codecs of a WebM type", async () => {
    const { codecsOf, formatBitrate } = await import("./tiles");
    expect(formatBitrate(1_234_000)).toBe("1.2 Mbit/s");
    expect(formatBitrate(850_000)).toBe("850 kbit/s");
    expect(codecsOf('video/webm; codecs="vp9,opus"')).toBe("VP9 · Opus");
    expect(codecsOf('video/webm; codecs="vp09.00.10.08, vorbis"')).toBe("VP9 · Vorbis");
    expect(codecsOf("video/webm")).toBe("WebM");
    expect(codecsOf('video/mp4; codecs="avc1.4d401e,mp4a.40.2"')).toBe("H.264 · AAC");
  });
});
