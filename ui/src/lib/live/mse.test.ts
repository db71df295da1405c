import { describe as group, expect, it } from "vitest";
import { cannotPlay, describe } from "./mse";

const takes = (types: string[]) => ({ isTypeSupported: (t: string) => types.includes(t) });
const webm = 'video/webm; codecs="vp9,opus"';

group("cannotPlay", () => {
  it("lets a type the player takes through", () => {
    expect(cannotPlay(webm, "this channel", takes([webm]))).toBeNull();
  });

  it("says the webview has no Media Source Extensions", () => {
    const why = cannotPlay(webm, "this channel", undefined);
    expect(why).toContain("cannot play live streams");
    expect(why).toContain("this channel cannot play here");
  });

  it("names the format a player refuses, in words", () => {
    const why = cannotPlay('video/webm; codecs="av01.0.05M.08,opus"', "this channel", takes([webm]));
    expect(why).toContain("(WebM: AV1, Opus)");
    expect(why).toContain("media codecs");
  });
});

group("describe", () => {
  it("names container and codecs", () => {
    expect(describe(webm)).toBe("WebM: VP9, Opus");
    expect(describe('video/mp4; codecs="avc1.64001f,mp4a.40.2"')).toBe("MP4: H.264, AAC");
    expect(describe("video/webm")).toBe("WebM");
    expect(describe("video/x-unknown; codecs=foo")).toBe("video/x-unknown: foo");
  });
});
