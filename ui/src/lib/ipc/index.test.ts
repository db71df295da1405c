import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({
  invoke: (...args: unknown[]) => invoke(...args),
  Channel: class {
    onmessage: (m: unknown) => void = () => {};
  },
}));

const listen = vi.fn();
vi.mock("@tauri-apps/api/event", () => ({
  listen: (...args: unknown[]) => listen(...args),
}));

const onDragDropEvent = vi.fn();
vi.mock("@tauri-apps/api/webview", () => ({
  getCurrentWebview: () => ({ onDragDropEvent: (...args: unknown[]) => onDragDropEvent(...args) }),
}));

const ipc = await import("./index");

beforeEach(() => {
  invoke.mockReset();
  listen.mockReset();
});

describe("ipc", () => {
  it("sends camelCase arguments under the command names", async () => {
    invoke.mockResolvedValue(undefined);
    await ipc.commands.titleAcquire("film-1", "order-1");
    await ipc.commands.playbackOpen("film-1");
    await ipc.commands.playbackReport("film-1", 12.5, true);
    await ipc.commands.catalogList();
    expect(invoke.mock.calls).toEqual([
      ["title_acquire", { titleId: "film-1", clientOrderId: "order-1" }],
      ["playback_open", { titleId: "film-1" }],
      ["playback_report", { titleId: "film-1", positionS: 12.5, firstFrame: true }],
      ["catalog_list"],
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
    const sent = { kind: "insufficient_funds", message: "Top up: $4.00 short.", params: { detail: "$4.00 short" } };
    invoke.mockImplementation(() => Promise.reject(sent));
    const error = await ipc.commands.walletGet().catch((e: unknown) => e);
    expect(error).toBe(sent);
  });

  it("wraps every generated command but those that stream to a channel", async () => {
    const generated = await import("./bindings");
    const streaming = ["downloadsWatch", "connectionWatch", "publishPrepare", "liveWatch", "liveGoLive", "settingsDataFolderMove"];
    const direct = Object.keys(generated.commands).filter((name) => !streaming.includes(name));
    expect(Object.keys(ipc.commands).sort()).toEqual(direct.sort());
    expect(direct.length).toBeGreaterThan(30);
    for (const name of streaming) expect(typeof (ipc as Record<string, unknown>)[name]).toBe("function");
  });

  it("turns other rejections into internal AppErrors", async () => {
    invoke.mockImplementation(() => Promise.reject("Command catalog_list not allowed by ACL"));
    const error = await ipc.commands.catalogList().catch((e: unknown) => e);
    expect(error).toStrictEqual({
      kind: "internal",
      message: "Command catalog_list not allowed by ACL",
      params: { detail: "Command catalog_list not allowed by ACL", variant: "shell" },
    });
    expect(ipc.toAppError({ kind: "made_up", message: "x" }).kind).toBe("internal");
    expect(ipc.toAppError(new Error("boom"))).toEqual({ kind: "internal", message: "boom", params: { detail: "boom", variant: "shell" } });
    expect(ipc.toAppError(null)).toMatchObject({ kind: "internal", params: {} });
    expect(ipc.toAppError(null).message).toMatch(/Try again/);
    // An error without values (none the backend sends) gets an empty set.
    expect(ipc.toAppError({ kind: "signed_out", message: "x" })).toEqual({ kind: "signed_out", message: "x", params: {} });
  });

  it("wraps the publishing and sharing commands", async () => {
    invoke.mockResolvedValue(undefined);
    const form = {
      name: "N",
      description: "",
      language: "en",
      licence_to_share: "CC BY 4.0",
      poster_data_url: null,
      publisher_name: "Ana",
    };
    await ipc.commands.dropsPending();
    await ipc.commands.publishPick();
    await ipc.commands.publishCancel("d1");
    await ipc.commands.publishDiscard("draft-1");
    await ipc.commands.publishSubmit("draft-1", form);
    await ipc.commands.titleShare("t1");
    await ipc.commands.titleSaveTorrent("t1");
    await ipc.commands.titleExport("t1");
    await ipc.commands.magnetOpen("magnet:?xt=urn:btih:abc");
    await ipc.commands.torrentPreview("d2");
    await ipc.commands.torrentImport("d2");
    expect(invoke.mock.calls).toEqual([
      ["drops_pending"],
      ["publish_pick"],
      ["publish_cancel", { dropId: "d1" }],
      ["publish_discard", { draftId: "draft-1" }],
      ["publish_submit", { draftId: "draft-1", form }],
      ["title_share", { titleId: "t1" }],
      ["title_save_torrent", { titleId: "t1" }],
      ["title_export", { titleId: "t1" }],
      ["magnet_open", { link: "magnet:?xt=urn:btih:abc" }],
      ["torrent_preview", { dropId: "d2" }],
      ["torrent_import", { dropId: "d2" }],
    ]);
  });

  it("forwards publish progress from its channel", async () => {
    invoke.mockResolvedValue({ draft_id: "draft-1" });
    const seen: unknown[] = [];
    const draft = await ipc.publishPrepare("d1", (p) => seen.push(p));
    expect(draft).toEqual({ draft_id: "draft-1" });
    const [name, args] = invoke.mock.calls[0];
    expect(name).toBe("publish_prepare");
    expect(args.dropId).toBe("d1");
    args.onProgress.onmessage({ stage: "copying" });
    expect(seen).toEqual([{ stage: "copying" }]);
  });

  it("listens for dropped files by event name and hands over the payload", async () => {
    const unlisten = () => {};
    listen.mockResolvedValue(unlisten);
    const seen: unknown[] = [];
    expect(await ipc.onFilesDropped((files) => seen.push(files))).toBe(unlisten);
    const [name, handler] = listen.mock.calls[0];
    expect(name).toBe("files-dropped");
    handler({ payload: [{ drop_id: "d1" }] });
    expect(seen).toEqual([[{ drop_id: "d1" }]]);
  });

  it("reports drag hover from the webview's drag-and-drop events, without paths", async () => {
    onDragDropEvent.mockResolvedValue(() => {});
    const seen: boolean[] = [];
    await ipc.onDragHover((over) => seen.push(over));
    const [handler] = onDragDropEvent.mock.calls[0];
    for (const type of ["enter", "over", "leave", "enter", "drop"]) handler({ payload: { type, paths: ["/x"] } });
    expect(seen).toEqual([true, true, false, true, false]);
  });
});
