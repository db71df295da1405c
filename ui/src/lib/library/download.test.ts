import { describe, expect, it } from "vitest";
import type { DownloadProgress } from "../ipc/bindings";
import { downloadAnnouncement, downloadFraction, downloadText, isComplete } from "./download";

const p = (over: Partial<DownloadProgress>): DownloadProgress => ({
  title_id: "t",
  state: "downloading",
  downloaded_bytes: 34,
  total_bytes: 100,
  down_bytes_per_s: 2_100_000,
  up_bytes_per_s: 0,
  peers: 1,
  error: null,
  ...over,
});

describe("downloadText", () => {
  it("describes a running download", () => {
    expect(downloadText(p({}))).toBe("Downloading 34% · 2.0 MiB/s · 1 peer");
    expect(downloadText(p({ peers: 3, downloaded_bytes: 999, total_bytes: 1000 }))).toBe(
      "Downloading 99% · 2.0 MiB/s · 3 peers",
    );
    expect(downloadText(p({ peers: 0 }))).toBe("Downloading 34% · 2.0 MiB/s · looking for peers");
  });
  it("describes a finished download", () => {
    expect(downloadText(p({ state: "seeding", peers: 2 }))).toBe("Downloaded · seeding to 2 peers");
    expect(downloadText(p({ state: "seeding", peers: 0 }))).toBe("Downloaded");
    expect(downloadText(p({ downloaded_bytes: 100, peers: 0 }))).toBe("Downloaded");
    expect(downloadText(p({ state: "seeding", peers: 1 }))).toBe("Downloaded · seeding to 1 peer");
  });
  it("describes waiting, paused and failed downloads", () => {
    expect(downloadText(p({ state: "queued" }))).toBe("Waiting to download");
    expect(downloadText(p({ state: "paused" }))).toBe("Paused at 34%");
    expect(downloadText(p({ state: "done" }))).toBe("Downloaded · not seeding (paused)");
    expect(downloadText(p({ state: "removed" }))).toBe("Not downloaded · watching downloads it again");
    expect(downloadText(p({ state: "error", error: "The disk is full." }))).toBe(
      "Download stopped: The disk is full.",
    );
    expect(downloadText(p({ state: "disk_full", error: "The disk holding Marquee's downloads is full." }))).toBe(
      "Waiting for space on the disk · goes on by itself",
    );
  });
});

describe("downloadFraction / isComplete", () => {
  it("handles unknown sizes and seeding", () => {
    expect(downloadFraction(p({ total_bytes: 0 }))).toBe(0);
    expect(downloadFraction(p({ state: "seeding", downloaded_bytes: 0 }))).toBe(1);
    expect(downloadFraction(p({ downloaded_bytes: 150 }))).toBe(1);
    expect(isComplete(p({}))).toBe(false);
    expect(isComplete(p({ state: "seeding" }))).toBe(true);
  });
});

describe("downloadAnnouncement", () => {
  it("says each quarter once, whatever the speed and peers do", () => {
    const heard = [10, 24, 26, 30, 49, 50, 74, 75, 99].map((done) =>
      downloadAnnouncement(p({ downloaded_bytes: done, down_bytes_per_s: done * 1000, peers: done % 3 })),
    );
    expect(new Set(heard)).toStrictEqual(
      new Set(["Downloading, 0%", "Downloading, 25%", "Downloading, 50%", "Downloading, 75%"]),
    );
    expect(downloadAnnouncement(p({ downloaded_bytes: 30 }))).toBe(
      downloadAnnouncement(p({ downloaded_bytes: 49, down_bytes_per_s: 1, peers: 9 })),
    );
  });
  it("says a change of state", () => {
    expect(downloadAnnouncement(p({ state: "queued" }))).toBe("Waiting to download");
    expect(downloadAnnouncement(p({ state: "paused" }))).toBe("Download paused");
    expect(downloadAnnouncement(p({ state: "seeding", peers: 4 }))).toBe("Downloaded");
    expect(downloadAnnouncement(p({ downloaded_bytes: 100 }))).toBe("Downloaded");
    expect(downloadAnnouncement(p({ state: "error", error: "the disk is read-only" }))).toBe(
      "Download stopped: the disk is read-only",
    );
    expect(downloadAnnouncement(p({ state: "disk_full" }))).toBe("Waiting for space on the disk");
  });
});
