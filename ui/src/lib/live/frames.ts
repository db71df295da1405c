/**
 * Reads a watched channel's stream from the playback server (`/TOKEN/live/SESSION`): frames of
 * `kind (u8) ‖ length (u32, big-endian) ‖ payload`, laid out by `crates/core/src/live/feed.rs`.
 * Bytes arrive in whatever pieces the network gives; `FrameReader` keeps what it has not
 * parsed yet and hands out whole frames only.
 */

/** The channel's init segment, first. */
export const FRAME_INIT = 0;
/** The next media bytes, with the times of the segment they belong to. */
export const FRAME_MEDIA = 1;
/** Bytes were skipped: reset the parser; the next media frame starts a keyframe segment. */
export const FRAME_RESET = 2;
/** The relay's playout delay behind capture: play each frame that long after its capture. */
export const FRAME_DELAY = 3;

/** Bytes of a media frame's own header: pts_ms (u64), capture_ms (u64), flags (u8). */
const MEDIA_HEADER = 17;
/** A frame larger than this is not one the core sends (chunks are at most 64 KiB). */
const MAX_FRAME = 1 << 20;

export type Frame =
  | { kind: "init"; bytes: Uint8Array }
  | {
      kind: "media";
      /** Presentation time of the segment's start, ms. */
      ptsMs: number;
      /** Wall-clock time (ms since the Unix epoch) the segment's start was captured. */
      captureMs: number;
      /** The bytes start a segment. */
      segmentStart: boolean;
      bytes: Uint8Array;
    }
  | { kind: "reset" }
  | { kind: "delay"; delayMs: number };

/** Splits a byte stream into frames. Throws on bytes that are not this stream. */
export class FrameReader {
  private buffer = new Uint8Array(0);

  /** Adds the next bytes read; answers every frame now complete, in order. */
  push(bytes: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer, 0);
    joined.set(bytes, this.buffer.length);
    const frames: Frame[] = [];
    let at = 0;
    const view = new DataView(joined.buffer);
    while (joined.length - at >= 5) {
      const kind = joined[at];
      const len = view.getUint32(at + 1);
      if (len > MAX_FRAME) throw new Error(`a live frame of ${len} bytes is not one Marquee sends`);
      if (joined.length - at - 5 < len) break;
      const payload = joined.subarray(at + 5, at + 5 + len);
      at += 5 + len;
      if (kind === FRAME_INIT) frames.push({ kind: "init", bytes: payload.slice() });
      else if (kind === FRAME_RESET) frames.push({ kind: "reset" });
      else if (kind === FRAME_DELAY) {
        if (len !== 8) throw new Error("a live delay frame of the wrong length");
        frames.push({ kind: "delay", delayMs: Number(new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0)) });
      }
      else if (kind === FRAME_MEDIA) {
        if (len < MEDIA_HEADER) throw new Error("a live media frame without its header");
        const p = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
        frames.push({
          kind: "media",
          ptsMs: Number(p.getBigUint64(0)),
          captureMs: Number(p.getBigUint64(8)),
          segmentStart: (payload[16] & 1) === 1,
          bytes: payload.slice(MEDIA_HEADER),
        });
      } else throw new Error(`a live frame of unknown kind ${kind}`);
    }
    this.buffer = joined.slice(at);
    return frames;
  }
}
