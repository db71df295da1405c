/** A wall clock that ticks once a second, for live countdowns. */
let now = $state(Date.now());
let timer: ReturnType<typeof setInterval> | undefined;

export const clock = {
  get now(): number {
    return now;
  },
  /** Starts ticking; returns a function that stops it. */
  start(): () => void {
    if (timer === undefined) {
      now = Date.now();
      timer = setInterval(() => (now = Date.now()), 1000);
    }
    return () => {
      clearInterval(timer);
      timer = undefined;
    };
  },
};
