import { describe, expect, it } from "vitest";
import type { AcquireResult, AppError } from "../ipc/bindings";
import { OrderBook } from "./orders";

function ids() {
  let n = 0;
  return () => `order-${++n}`;
}

const ok = { charged_cents: 400 } as AcquireResult;

describe("OrderBook", () => {
  it("reuses the order id after the store was unreachable", async () => {
    const book = new OrderBook(ids());
    const seen: string[] = [];
    const failing = async (_t: string, id: string) => {
      seen.push(id);
      throw { kind: "store_unreachable", message: "The store did not answer.", params: {} } satisfies AppError;
    };
    await expect(book.place("film-1", failing)).rejects.toMatchObject({ kind: "store_unreachable" });
    await book.place("film-1", async (_t, id) => {
      seen.push(id);
      return ok;
    });
    expect(seen).toEqual(["order-1", "order-1"]);
  });

  it("starts a new order after success", async () => {
    const book = new OrderBook(ids());
    const seen: string[] = [];
    const acquire = async (_t: string, id: string) => {
      seen.push(id);
      return ok;
    };
    await book.place("film-1", acquire);
    await book.place("film-1", acquire);
    expect(seen).toEqual(["order-1", "order-2"]);
  });

  it("starts a new order after a definite refusal", async () => {
    const book = new OrderBook(ids());
    const seen: string[] = [];
    const refuse = async (_t: string, id: string) => {
      seen.push(id);
      throw { kind: "insufficient_funds", message: "Top up your wallet.", params: { detail: "$4.00 short" } } satisfies AppError;
    };
    await expect(book.place("film-1", refuse)).rejects.toMatchObject({ kind: "insufficient_funds" });
    await expect(book.place("film-1", refuse)).rejects.toMatchObject({ kind: "insufficient_funds" });
    expect(seen).toEqual(["order-1", "order-2"]);
  });

  it("keeps one order per title", async () => {
    const book = new OrderBook(ids());
    expect(book.orderIdFor("a")).toBe("order-1");
    expect(book.orderIdFor("b")).toBe("order-2");
    expect(book.orderIdFor("a")).toBe("order-1");
  });

  it("joins a press made while the order is in flight", async () => {
    const book = new OrderBook(ids());
    let calls = 0;
    let release!: (r: AcquireResult) => void;
    const slow = () => {
      calls += 1;
      return new Promise<AcquireResult>((resolve) => (release = resolve));
    };
    const first = book.place("film-1", slow);
    const second = book.place("film-1", slow);
    expect(book.isInFlight("film-1")).toBe(true);
    release(ok);
    expect(await first).toBe(ok);
    expect(await second).toBe(ok);
    expect(calls).toBe(1);
    expect(book.isInFlight("film-1")).toBe(false);
  });

  it("uses crypto.randomUUID by default", () => {
    const id = new OrderBook().orderIdFor("x");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
