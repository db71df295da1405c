import { describe, expect, it } from "vitest";
import { sizedPoster } from "./poster";

const art = "http://127.0.0.1:4100/tok/art/0123456789abcdef0123456789abcdef.img";

describe("sizedPoster", () => {
  it("asks for the smallest width that covers the poster on this screen", () => {
    expect(sizedPoster(art, 172, 1)).toBe(`${art}?w=180`);
    expect(sizedPoster(art, 172, 2)).toBe(`${art}?w=360`);
    expect(sizedPoster(art, 240, 1.5)).toBe(`${art}?w=360`);
    expect(sizedPoster(art, 64, 1)).toBe(`${art}?w=180`);
  });

  it("leaves the original for what no width covers, and other addresses alone", () => {
    expect(sizedPoster(art, 900, 2)).toBe(art);
    expect(sizedPoster("http://127.0.0.1:8640/media/a.jpg", 172, 1)).toBe("http://127.0.0.1:8640/media/a.jpg");
    expect(sizedPoster("", 172, 1)).toBe("");
    expect(sizedPoster(art, 0, 1)).toBe(art);
  });
});
