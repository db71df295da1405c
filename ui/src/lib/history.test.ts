import { describe, expect, it } from "vitest";
import { BackStack } from "./history";

describe("BackStack", () => {
  it("goes back through tabs and sheets in reverse order", () => {
    const stack = new BackStack<"store" | "library">();
    stack.leave({ tab: "store", detailId: null });
    stack.leave({ tab: "store", detailId: "neon-harbor" });
    stack.leave({ tab: "library", detailId: null });
    expect(stack.back({ tab: "library", detailId: "paper-boats" })).toEqual({ tab: "library", detailId: null });
    expect(stack.back({ tab: "library", detailId: null })).toEqual({ tab: "store", detailId: "neon-harbor" });
    expect(stack.back({ tab: "store", detailId: "neon-harbor" })).toEqual({ tab: "store", detailId: null });
    expect(stack.back({ tab: "store", detailId: null })).toBeNull();
  });

  it("skips the place the person is already at (a sheet closed with its button)", () => {
    const stack = new BackStack<"store" | "library">();
    stack.leave({ tab: "store", detailId: null });
    // The sheet was opened, then closed with ×: the person is back on the Store already.
    expect(stack.back({ tab: "store", detailId: null })).toBeNull();
  });

  it("keeps at most `limit` places", () => {
    const stack = new BackStack<"store">(3);
    for (const id of ["a", "b", "c", "d"]) stack.leave({ tab: "store", detailId: id });
    const seen = [];
    for (let p = stack.back({ tab: "store", detailId: null }); p; p = stack.back(p)) seen.push(p.detailId);
    expect(seen).toEqual(["d", "c", "b"]);
  });

  it("tells the Store's pages apart", () => {
    const stack = new BackStack<"store">();
    stack.leave({ tab: "store", detailId: null });
    stack.leave({ tab: "store", detailId: null, view: "section:films" });
    expect(stack.back({ tab: "store", detailId: null, view: "series:Orbital" })).toEqual({
      tab: "store",
      detailId: null,
      view: "section:films",
    });
    expect(stack.back({ tab: "store", detailId: null, view: "section:films" })).toEqual({ tab: "store", detailId: null });
  });
});
