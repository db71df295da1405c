import { describe, expect, it } from "vitest";
import css from "../../app.css?raw";

/**
 * The text colours of `app.css` against the backgrounds they are set on, by the WCAG 2 formula:
 * body text needs 4.5:1. The muted grey (`--text-faint`) measured 3.9:1 on the page before.
 */
function variable(name: string): string {
  const found = css.match(new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})\\s*;`));
  if (!found) throw new Error(`--${name} is not a #rrggbb colour in app.css`);
  return found[1];
}

function channels(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** White at `alpha` over `hex`, as `--surface` and `--surface-hover` paint it. */
function whiteOver(hex: string, alpha: number): string {
  return `#${channels(hex)
    .map((c) => Math.round(255 * alpha + c * (1 - alpha)).toString(16).padStart(2, "0"))
    .join("")}`;
}

describe("the palette", () => {
  const backgrounds: Record<string, string> = {
    "--bg": variable("bg"),
    "--bg-raised": variable("bg-raised"),
    "--bg-sheet": variable("bg-sheet"),
    "--surface on --bg": whiteOver(variable("bg"), 0.06),
    "--surface-hover on --bg": whiteOver(variable("bg"), 0.1),
    "--surface-hover on --bg-raised": whiteOver(variable("bg-raised"), 0.1),
  };

  for (const text of ["text", "text-dim", "text-faint"]) {
    it(`--${text} reads at 4.5:1 or more on every background`, () => {
      for (const [name, background] of Object.entries(backgrounds)) {
        const ratio = contrast(variable(text), background);
        expect(ratio, `--${text} on ${name}: ${ratio.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
      }
    });
  }

  it("measures as WCAG does", () => {
    expect(contrast("#ffffff", "#000000")).toBeCloseTo(21, 5);
    expect(contrast("#6e6e7e", "#0b0b10")).toBeCloseTo(3.92, 2);
  });
});
