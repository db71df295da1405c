import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({
  invoke: (...args: unknown[]) => invoke(...args),
  Channel: class {
    onmessage: (m: unknown) => void = () => {};
  },
}));

const ipc = await import("./index");

beforeEach(() => {
  invoke.mockReset();
});

describe("ipc", () => {
  it("sends camelCase arguments under the command names", async () => {
    invoke.mockResolvedValue(undefined);
    await ipc.titleAcquire("film-1", "order-1");
    await ipc.playbackOpen("film-1");
    await ipc.playbackReport("film-1", 12.5, true);
    await ipc.catalogList();
    expect(invoke.mock.calls).toEqual([
      ["title_acquire", { titleId: "film-1", clientOrderId: "order-1" }],
      ["playback_open", { titleId: "film-1" }],
      ["playback_report", { titleId: "film-1", positionS: 12.5, firstFrame: true }],
      ["catalog_list", undefined],
    ]);
  });

  it("passes a channel that forwards progress", async () => {
    invoke.mockResolvedValue(undefined);
    const seen: unknown[] = [];
    await ipc.downloadsWatch((list) => seen.push(list));
    const [name, args] = invoke.mock.calls[0];
    expect(name).toBe("downloads_watch");
    args.onProgress.onmessage([{ title_id: "x" }]);
    expect(seen).toEqual([[{ title_id: "x" }]]);
  });

  it("rejects with the backend's AppError as is", async () => {
    invoke.mockImplementation(() => Promise.reject({ kind: "insufficient_funds", message: "Top up." }));
    const error = await ipc.walletGet().catch((e: unknown) => e);
    expect(error).toStrictEqual({ kind: "insufficient_funds", message: "Top up." });
  });

  it("turns other rejections into internal AppErrors", async () => {
    invoke.mockImplementation(() => Promise.reject("Command catalog_list not allowed by ACL"));
    const error = await ipc.catalogList().catch((e: unknown) => e);
    expect(error).toStrictEqual({ kind: "internal", message: "Command catalog_list not allowed by ACL" });
    expect(ipc.toAppError({ kind: "made_up", message: "x" }).kind).toBe("internal");
    expect(ipc.toAppError(new Error("boom"))).toEqual({ kind: "internal", message: "boom" });
    expect(ipc.toAppError(null).message).toMatch(/Try again/);
  });
});
