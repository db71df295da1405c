import { describe, expect, it } from "vitest";
import type { PublishDraft, PublishProgress } from "../ipc/bindings";
import {
  LANGUAGES,
  LICENCES,
  cleanForm,
  draftFacts,
  groupedHash,
  alreadyInLibraryText,
  importedText,
  initialForm,
  progressFraction,
  progressText,
  publishedText,
  torrentFacts,
} from "./labels";

const draft: PublishDraft = {
  draft_id: "draft-1",
  suggested_name: "Holiday 2024",
  mime: "video/webm",
  video_codec: "VP9",
  audio_codec: "Opus",
  width: 1920,
  height: 1080,
  duration_s: 92.4,
  size_bytes: 12_400_000,
  preview_url: "http://127.0.0.1:1/t/play/x",
  publisher_name: "Lake Films",
};

const progress = (stage: PublishProgress["stage"], done: number, total: number): PublishProgress => ({
  drop_id: "d1",
  stage,
  done_bytes: done,
  total_bytes: total,
});

describe("publish progress", () => {
  it("shows copying as a whole percentage, then the torrent step", () => {
    expect(progressText(null)).toBe("Checking the video…");
    expect(progressText(progress("copying", 42, 100))).toBe("Copying 42 %");
    expect(progressText(progress("copying", 999, 1000))).toBe("Copying 99 %");
    expect(progressText(progress("hashing", 0, 100))).toBe("Preparing torrent…");
  });
  it("has a fraction while copying and none while hashing", () => {
    expect(progressFraction(null)).toBe(0);
    expect(progressFraction(progress("copying", 1, 4))).toBe(0.25);
    expect(progressFraction(progress("copying", 0, 0))).toBe(0);
    expect(progressFraction(progress("hashing", 5, 10))).toBeNull();
  });
});

describe("publish form", () => {
  it("starts from the draft's name, English and CC BY 4.0", () => {
    expect(initialForm(draft)).toEqual({
      name: "Holiday 2024",
      description: "",
      language: "en",
      licence_to_share: "CC BY 4.0",
      poster_data_url: null,
      publisher_name: "Lake Films",
    });
    expect(LICENCES).toEqual(["CC BY 4.0", "CC BY-SA 4.0", "CC0 1.0"]);
    expect(LANGUAGES.length).toBeGreaterThanOrEqual(12);
    expect(new Set(LANGUAGES.map((l) => l.code)).size).toBe(LANGUAGES.length);
  });
  it("trims text and says what is missing: a title, a name to be shown by", () => {
    const form = { ...initialForm(draft), name: "  Trip  ", description: " sea \n", publisher_name: " Ana " };
    expect(cleanForm(form)).toMatchObject({ name: "Trip", description: "sea", publisher_name: "Ana" });
    expect(cleanForm({ ...form, name: "   " })).toBe("Give the video a title before publishing it.");
    expect(cleanForm({ ...form, publisher_name: "  " })).toMatch(/^Say what name to show beside the video/);
  });
});

describe("labels", () => {
  it("lists the draft's facts", () => {
    expect(draftFacts(draft)).toEqual(["VP9 · Opus", "1920×1080", "12 MB", "1 min 32 s"]);
    expect(draftFacts({ ...draft, audio_codec: null, duration_s: null })).toEqual(["VP9", "1920×1080", "12 MB"]);
  });
  it("words the toasts", () => {
    expect(publishedText("Trip")).toBe("“Trip” is published and seeding");
    expect(importedText("Big Buck Bunny")).toBe("Added “Big Buck Bunny” — not from the store");
    expect(alreadyInLibraryText("Open Skies")).toBe("“Open Skies” is already in your library");
  });
});

describe("torrent preview labels", () => {
  const preview = (sizes: number[]) => ({
    drop_id: "d1",
    name: "Orbital S01",
    files: sizes.map((size_bytes, i) => ({ path: `Episode ${i + 1}.webm`, size_bytes })),
    total_bytes: sizes.reduce((a, b) => a + b, 0),
    trackers: [],
    info_hash: "0123456789abcdef0123456789abcdef01234567",
    refusal: null,
    in_library: null,
  });

  it("counts files and adds up their size", () => {
    expect(torrentFacts(preview([4_000_000]))).toBe("1 file · 4.0 MB");
    expect(torrentFacts(preview([600_000_000, 600_000_000, 12]))).toBe("3 files · 1.2 GB");
  });

  it("groups an info hash by eight", () => {
    expect(groupedHash("0123456789abcdef0123456789abcdef01234567")).toBe(
      "01234567 89abcdef 01234567 89abcdef 01234567",
    );
    expect(groupedHash("")).toBe("");
  });
});
