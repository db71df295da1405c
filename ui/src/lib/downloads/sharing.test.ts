import { describe, expect, it } from "vitest";
import { i18n } from "../i18n/i18n.svelte";
import { readFields } from "./form";
import { describePolicy, MAX_HOURS, MAX_RATIO, parseHours, parseRatio } from "./sharing";

describe("the seeding policy's form", () => {
  it("takes a ratio written with a point or a comma, and nothing for no limit", () => {
    i18n.use("en");
    expect(parseRatio("")).toEqual({ value: null });
    expect(parseRatio(" 2 ")).toEqual({ value: 2 });
    expect(parseRatio("1.5")).toEqual({ value: 1.5 });
    expect(parseRatio("1,5")).toEqual({ value: 1.5 });
    expect(parseRatio(".5")).toEqual({ value: 0.5 });
    expect(parseRatio(String(MAX_RATIO))).toEqual({ value: MAX_RATIO });
    for (const bad of ["0", "-1", "abc", "1.5.2", "1e3", String(MAX_RATIO + 1), "Infinity"]) {
      const parsed = parseRatio(bad);
      expect("error" in parsed && parsed.error, bad).toContain("leave it empty");
    }
  });

  it("takes whole hours from one to a year", () => {
    i18n.use("en");
    expect(parseHours("")).toEqual({ value: null });
    expect(parseHours("72")).toEqual({ value: 72 });
    expect(parseHours(String(MAX_HOURS))).toEqual({ value: MAX_HOURS });
    for (const bad of ["0", "1.5", "-3", "x", String(MAX_HOURS + 1)]) {
      const parsed = parseHours(bad);
      expect("error" in parsed && parsed.error, bad).toContain("leave it empty");
    }
  });

  it("says what a policy does in the window's language", () => {
    i18n.use("en");
    const on = { share: true, until_ratio: null, until_hours: null };
    expect(describePolicy(on)).toBe("titles are shared while Marquee runs.");
    expect(describePolicy({ ...on, until_ratio: 1.5, until_hours: 1 })).toBe(
      "titles are shared until they gave 1.5× their size or for 1 hour.",
    );
    expect(describePolicy({ ...on, until_hours: 72 })).toBe("titles are shared for 72 hours.");
    expect(describePolicy({ ...on, share: false, until_ratio: 2 })).toBe("titles are not shared once downloaded.");
    i18n.use("it");
    expect(describePolicy({ ...on, until_ratio: 1.5 })).toBe("i titoli vengono condivisi finché non hanno dato 1,5× la loro dimensione.");
    i18n.use("ar");
    expect(describePolicy({ ...on, until_hours: 2 })).toBe("تُشارَك العناوين لمدة ساعتين.");
    i18n.use("en");
  });

  it("reads every field, or refuses the first that does not read, by its name", () => {
    i18n.use("en");
    const fields = [
      { key: "until_ratio", label: () => "Stop after giving", parse: parseRatio },
      { key: "until_hours", label: () => "Or after sharing for", parse: parseHours },
    ] as const;
    expect(readFields(fields, { until_ratio: "1,5", until_hours: "" })).toEqual({
      values: { until_ratio: 1.5, until_hours: null },
    });
    const refused = readFields(fields, { until_ratio: "2", until_hours: "soon" });
    expect("error" in refused && refused.error.kind).toBe("download_refused");
    expect("error" in refused && refused.error.message).toMatch(/^Or after sharing for: Type a whole number of hours/);
  });
});
