import { describe, expect, it } from "vitest";
import { Latest, normaliseQuery } from "./search";

describe("search", () => {
  it("normalises what was typed", () => {
    expect(normaliseQuery("  neon   harbor ")).toBe("neon harbor");
    expect(normaliseQuery("x".repeat(150))).toHaveLength(100);
    expect(normaliseQuery("   ")).toBe("");
  });

  it("keeps only the newest answer", () => {
    const latest = new Latest();
    const first = latest.next();
    const second = latest.next();
    expect(latest.isCurrent(first)).toBe(false);
    expect(latest.isCurrent(second)).toBe(true);
  });
});
