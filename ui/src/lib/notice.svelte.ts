/** The one error banner: what went wrong and, when it may help, a "Try again" action. */
import type { AppError } from "./ipc/bindings";
import { toAppError } from "./ipc";

export type Notice = { error: AppError; retry: (() => void) | null; id: number };

let current = $state<Notice | null>(null);
let next = 1;

export const notice = {
  get current(): Notice | null {
    return current;
  },
  show(error: unknown, retry: (() => void) | null = null): void {
    current = { error: toAppError(error), retry, id: next++ };
  },
  dismiss(): void {
    current = null;
  },
};
