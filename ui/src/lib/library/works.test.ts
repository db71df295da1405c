import { describe, expect, it } from "vitest";
import type { LibraryEntry } from "../ipc/bindings";
import { byWork } from "./works";

const entry = (id: string, height: number) => ({ title: { id, height } }) as unknown as LibraryEntry;

describe("byWork", () => {
  it("shows a work held in two qualities once, in the better one, keeping the library's order", () => {
    const works = byWork([entry("film-sd", 480), entry("other", 720), entry("film", 1080)], (id) =>
      id.startsWith("film") ? "film" : id,
    );
    expect(works.map((w) => w.entry.title.id)).toEqual(["film", "other"]);
    expect(works[0].held.map((e) => e.title.id)).toEqual(["film-sd", "film"]);
  });
});
