import { describe, expect, it } from "vitest";
import { mediaErrorText, MEDIA_ERR_NETWORK, MEDIA_ERR_SRC_NOT_SUPPORTED } from "./media-error";

describe("mediaErrorText", () => {
  it("explains each media error with a next step", () => {
    expect(mediaErrorText(MEDIA_ERR_NETWORK)).toContain("Library");
    expect(mediaErrorText(MEDIA_ERR_SRC_NOT_SUPPORTED)).toContain("GStreamer");
    expect(mediaErrorText(99)).toBe("The video could not be played. Go back and try again.");
  });
});
