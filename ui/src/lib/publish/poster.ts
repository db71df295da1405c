/** Poster frames: a 2:3 crop from the centre of a video frame, drawn at 480×720. */

export const POSTER_WIDTH = 480;
export const POSTER_HEIGHT = 720;
/** JPEG quality of the poster sent to the backend. */
export const POSTER_QUALITY = 0.86;
/** Where the poster is taken from when none was chosen. */
export const AUTO_POSTER_S = 1;

export type Crop = { sx: number; sy: number; sw: number; sh: number };

/** A picture's size in pixels. */
export type Size = { width: number; height: number };

/** A title's poster: 2:3. */
export const POSTER_SIZE: Size = { width: POSTER_WIDTH, height: POSTER_HEIGHT };
/** A live channel's poster: 16:9, as its tile shows it, small enough for the store's 40 KiB. */
export const CHANNEL_POSTER_SIZE: Size = { width: 480, height: 270 };

/**
 * The largest centred region of a `width`×`height` frame with the shape of `shape` (a title's
 * 2:3 poster unless told), in whole pixels. A wide frame loses its sides, a tall one its top
 * and bottom.
 */
export function posterCrop(width: number, height: number, shape: Size = POSTER_SIZE): Crop {
  if (!(width > 0) || !(height > 0)) return { sx: 0, sy: 0, sw: 0, sh: 0 };
  const ratio = shape.width / shape.height;
  if (width / height > ratio) {
    const sw = Math.min(width, Math.round(height * ratio));
    return { sx: Math.floor((width - sw) / 2), sy: 0, sw, sh: height };
  }
  const sh = Math.min(height, Math.round(width / ratio));
  return { sx: 0, sy: Math.floor((height - sh) / 2), sw: width, sh };
}

/** The time to take the automatic poster from: 1 s in, or the middle of a shorter video. */
export function autoPosterTime(durationS: number | null): number {
  if (durationS === null || !Number.isFinite(durationS) || durationS <= 0) return AUTO_POSTER_S;
  return Math.min(AUTO_POSTER_S, durationS / 2);
}
