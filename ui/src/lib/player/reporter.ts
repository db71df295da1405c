/**
 * When to tell the backend where playback is. The first frame is reported exactly once (the
 * rental's 48-hour window starts there); after that the position goes out at most every
 * `intervalMs` while playing, and always on pause and on close.
 */
export type Report = (positionS: number, firstFrame: boolean) => Promise<void>;

export class PositionReporter {
  #firstFrameSent = false;
  #lastSentMs = -Infinity;
  #lastPosition = -1;
  readonly #report: Report;
  readonly #intervalMs: number;

  constructor(report: Report, intervalMs = 5000) {
    this.#report = report;
    this.#intervalMs = intervalMs;
  }

  get firstFrameSent(): boolean {
    return this.#firstFrameSent;
  }

  /** A frame is on screen. Sends the first-frame report once. */
  firstFrame(positionS: number, nowMs: number): Promise<void> | null {
    if (this.#firstFrameSent) return null;
    this.#firstFrameSent = true;
    return this.#send(positionS, true, nowMs);
  }

  /** Playback moved on; reports if the interval has passed since the last report. */
  tick(positionS: number, nowMs: number): Promise<void> | null {
    if (!this.#firstFrameSent) return null;
    if (nowMs - this.#lastSentMs < this.#intervalMs) return null;
    return this.#send(positionS, false, nowMs);
  }

  /** Paused, seeking stopped, or the player is closing: report now unless nothing changed. */
  flush(positionS: number, nowMs: number): Promise<void> | null {
    if (!this.#firstFrameSent) return null;
    if (Math.abs(positionS - this.#lastPosition) < 0.5) return null;
    return this.#send(positionS, false, nowMs);
  }

  #send(positionS: number, firstFrame: boolean, nowMs: number): Promise<void> {
    this.#lastSentMs = nowMs;
    this.#lastPosition = positionS;
    return this.#report(positionS, firstFrame);
  }
}
