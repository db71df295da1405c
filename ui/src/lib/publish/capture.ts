/** Draws poster frames from a playing `<video>` (DOM side of `poster.ts`). */
import { POSTER_QUALITY, POSTER_SIZE, posterCrop, type Size } from "./poster";

const WAIT_MS = 5000;

/** Resolves true when `event` fires on `video`, false after `ms`. */
function waitFor(video: HTMLVideoElement, event: string, ms = WAIT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      video.removeEventListener(event, onEvent);
      resolve(ok);
    };
    const onEvent = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    video.addEventListener(event, onEvent, { once: true });
  });
}

/**
 * The frame on screen, centre-cropped to `size`'s shape and drawn at that size (a title's 2:3
 * poster at 480×720 unless told), as a JPEG data URL; null when the video has no frame yet or
 * the frame may not be read (a server without CORS).
 */
export function captureFrame(video: HTMLVideoElement, size: Size = POSTER_SIZE): string | null {
  const crop = posterCrop(video.videoWidth, video.videoHeight, size);
  if (crop.sw === 0 || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return null;
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  try {
    ctx.drawImage(video, crop.sx, crop.sy, crop.sw, crop.sh, 0, 0, size.width, size.height);
    return canvas.toDataURL("image/jpeg", POSTER_QUALITY);
  } catch {
    return null;
  }
}

/** Seeks to `timeS` (within the video), waits for the frame, and captures it. */
export async function captureAt(video: HTMLVideoElement, timeS: number): Promise<string | null> {
  if (video.readyState < HTMLMediaElement.HAVE_METADATA && !(await waitFor(video, "loadedmetadata"))) return null;
  const end = Number.isFinite(video.duration) ? video.duration : timeS;
  const target = Math.max(0, Math.min(timeS, end));
  if (Math.abs(video.currentTime - target) > 0.04) {
    const seeked = waitFor(video, "seeked");
    video.currentTime = target;
    await seeked;
  }
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) await waitFor(video, "loadeddata");
  return captureFrame(video);
}
