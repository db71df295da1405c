import { describe, expect, it } from "vitest";
import { looksLikeMagnet } from "./magnet";

describe("looksLikeMagnet", () => {
  it("accepts BitTorrent magnet links, with spaces around", () => {
    expect(looksLikeMagnet("magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&dn=x")).toBe(true);
    expect(looksLikeMagnet("  MAGNET:?dn=x&xt=urn:btih:ABCDEF  ")).toBe(true);
  });
  it("refuses anything else", () => {
    expect(looksLikeMagnet("")).toBe(false);
    expect(looksLikeMagnet("https://example.com/x.torrent")).toBe(false);
    expect(looksLikeMagnet("magnet:?dn=no-hash")).toBe(false);
  });
});
