/** A short confirmation ("Magnet link copied"); errors go to the error banner instead. */
export type Toast = { text: string; id: number };

const SHOW_MS = 3500;
let current = $state<Toast | null>(null);
let next = 1;
let timer: ReturnType<typeof setTimeout> | undefined;

export const toast = {
  get current(): Toast | null {
    return current;
  },
  show(text: string): void {
    clearTimeout(timer);
    current = { text, id: next++ };
    timer = setTimeout(() => (current = null), SHOW_MS);
  },
  dismiss(): void {
    clearTimeout(timer);
    current = null;
  },
};
