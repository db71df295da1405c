import { describe, expect, it } from "vitest";
import type { DroppedFile } from "../ipc/bindings";
import { DropQueue } from "./queue";

const file = (drop_id: string, kind: DroppedFile["kind"] = "video"): DroppedFile => ({
  drop_id,
  name: `${drop_id}.${kind === "video" ? "webm" : "torrent"}`,
  size_bytes: 1,
  kind,
});

describe("DropQueue", () => {
  it("queues videos one sheet at a time, in drop order", () => {
    const q = new DropQueue();
    expect(q.current).toBeNull();
    q.add([file("a"), file("b")]);
    q.add([file("c")]);
    expect(q.current?.drop_id).toBe("a");
    expect(q.waiting).toBe(2);
    expect(q.next()?.drop_id).toBe("b");
    expect(q.next()?.drop_id).toBe("c");
    expect(q.waiting).toBe(0);
    expect(q.next()).toBeNull();
    expect(q.next()).toBeNull();
  });

  it("hands torrents back to import straight away", () => {
    const q = new DropQueue();
    const torrents = q.add([file("t1", "torrent"), file("v"), file("t2", "torrent")]);
    expect(torrents.map((f) => f.drop_id)).toEqual(["t1", "t2"]);
    expect(q.current?.drop_id).toBe("v");
    expect(q.waiting).toBe(0);
  });

  it("ignores a drop it has already seen, even after it was handled", () => {
    const q = new DropQueue();
    q.add([file("a"), file("t", "torrent")]);
    expect(q.add([file("a"), file("t", "torrent"), file("b")])).toEqual([]);
    expect(q.waiting).toBe(1);
    q.next();
    q.next();
    expect(q.add([file("a")])).toEqual([]);
    expect(q.current).toBeNull();
  });
});
