/**
 * Keeping a live player on the relay's schedule. The core hands the page each verified chunk as
 * soon as its relay knows it will play on time, which is usually well before its time: the
 * relay's playout delay behind capture (`delay_ms`, chosen from how late chunks arrive, and
 * moved when they start missing or have been steady for a while) is the schedule, and the
 * page plays each frame that long after it was captured. What arrived early waits in the
 * Media Source buffer, which is the jitter buffer.
 *
 * When the playhead drifts off the schedule it plays 5 % faster or slower (too little to hear,
 * as players of live streams do) until back; far behind (after a stall, or when the relay
 * stepped toward live) it jumps; stalled in a hole left by skipped chunks, it steps over it.
 */

/** Off schedule by more than this, seconds: play faster or slower. */
const DRIFT_S = 0.2;
/** Behind schedule by more than this, seconds: jump at once. */
const JUMP_S = 2.0;
/** Never aim closer than this to the end of what is held, seconds: the decoder needs a frame. */
const EDGE_MARGIN_S = 0.1;
/** How much faster or slower "a little" is. */
export const CATCH_UP_RATE = 1.05;
export const SLOW_DOWN_RATE = 0.95;

/** What the player should do now. */
export type Steer = { rate: number; seekTo: number | null };

/** A buffered range, seconds. */
export type Range = { start: number; end: number };

/**
 * Where the schedule puts the playhead now: the media time captured `delayMs` ago, from one
 * segment's presentation and capture times (`captureMs - ptsMs` holds for the whole stream).
 */
export function scheduled(nowMs: number, delayMs: number, ptsMs: number, captureMs: number): number {
  return (nowMs - delayMs - (captureMs - ptsMs)) / 1000;
}

/** The schedule's time held back to what is buffered (and a frame inside its end). */
function within(ranges: Range[], target: number): number {
  const last = ranges[ranges.length - 1];
  return Math.max(last.start, Math.min(target, last.end - EDGE_MARGIN_S));
}

/**
 * Where to take the playhead, from the buffered ranges, where it is and where the schedule
 * says it should be (`null` before the schedule is known).
 */
export function steer(ranges: Range[], currentTime: number, target: number | null): Steer {
  if (ranges.length === 0) return { rate: 1, seekTo: null };
  const inRange = ranges.find((r) => currentTime >= r.start - 0.05 && currentTime < r.end);
  if (!inRange) {
    // Stalled in a hole (or before the first range): go to the next media held.
    const next = ranges.find((r) => r.start > currentTime);
    if (!next) return { rate: 1, seekTo: null };
    return { rate: 1, seekTo: target === null ? next.start : Math.max(next.start, within(ranges, target)) };
  }
  if (target === null) return { rate: 1, seekTo: null };
  const behind = target - currentTime;
  if (behind > JUMP_S) return { rate: 1, seekTo: within(ranges, target) };
  if (behind > DRIFT_S) return { rate: CATCH_UP_RATE, seekTo: null };
  if (behind < -DRIFT_S) return { rate: SLOW_DOWN_RATE, seekTo: null };
  return { rate: 1, seekTo: null };
}

/** Where to start: on the schedule if it is known and held, else as near it as is held. */
export function startAt(ranges: Range[], target: number | null): number | null {
  if (ranges.length === 0) return null;
  const last = ranges[ranges.length - 1];
  return target === null ? last.start : within(ranges, target);
}

/**
 * How far behind live the picture is, seconds: now minus when the frame on screen was
 * captured.
 */
export function lagSeconds(nowMs: number, currentTime: number, ptsMs: number, captureMs: number): number {
  return (nowMs - (captureMs + (currentTime * 1000 - ptsMs))) / 1000;
}
