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

  it("puts torrents in the same line: each is shown before it is added", () => {
    const q = new DropQueue();
    q.add([file("t1", "torrent"), file("v"), file("t2", "torrent")]);
    expect(q.current?.drop_id).toBe("t1");
    expect(q.current?.kind).toBe("torrent");
    expect(q.waiting).toBe(2);
    expect(q.next()?.drop_id).toBe("v");
    expect(q.next()?.kind).toBe("torrent");
    expect(q.next()).toBeNull();
  });

  it("ignores a drop it has already seen, even after it was handled", () => {
    const q = new DropQueue();
    q.add([file("a"), file("t", "torrent")]);
    q.add([file("a"), file("t", "torrent"), file("b")]);
    expect(q.waiting).toBe(2);
    q.next();
    q.next();
    q.next();
    q.add([file("a"), file("t", "torrent")]);
    expect(q.current).toBeNull();
  });
});
