/**
 * One order id per user intent. The store charges once per `clientOrderId`, so when an order
 * fails in a way that may have reached the store (it was unreachable, or something broke on
 * the way back), pressing the button again retries the *same* order instead of paying twice.
 * A definite refusal (not enough credit, unknown title…) closes the intent: the next press
 * is a new order.
 */
import type { AcquireResult, AppError, ErrorKind } from "../ipc/bindings";

/** Failures after which the order may or may not have been placed. */
const MAYBE_PLACED: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "store_unreachable",
  "internal",
  "download_failed",
]);

export type Acquire = (titleId: string, clientOrderId: string) => Promise<AcquireResult>;

export class OrderBook {
  readonly #pending = new Map<string, string>();
  readonly #inFlight = new Map<string, Promise<AcquireResult>>();
  readonly #newId: () => string;

  constructor(newId: () => string = () => crypto.randomUUID()) {
    this.#newId = newId;
  }

  /** The order id a press on `titleId` would use now. */
  orderIdFor(titleId: string): string {
    let id = this.#pending.get(titleId);
    if (id === undefined) {
      id = this.#newId();
      this.#pending.set(titleId, id);
    }
    return id;
  }

  /** True while an order for `titleId` is waiting for the store. */
  isInFlight(titleId: string): boolean {
    return this.#inFlight.has(titleId);
  }

  /**
   * Places (or retries) the order for `titleId`. A second call while one is in flight joins
   * it rather than sending a second request. Rejects with the `AppError` from `acquire`.
   */
  place(titleId: string, acquire: Acquire): Promise<AcquireResult> {
    const running = this.#inFlight.get(titleId);
    if (running) return running;
    const orderId = this.orderIdFor(titleId);
    const promise = acquire(titleId, orderId).then(
      (result) => {
        this.#pending.delete(titleId);
        return result;
      },
      (error: AppError) => {
        if (!MAYBE_PLACED.has(error.kind)) this.#pending.delete(titleId);
        throw error;
      },
    );
    const tracked = promise.finally(() => this.#inFlight.delete(titleId));
    this.#inFlight.set(titleId, tracked);
    return tracked;
  }
}
