/** Friendly words for `HTMLMediaElement.error` codes. */

/** MediaError codes, from the HTML standard. */
export const MEDIA_ERR_ABORTED = 1;
export const MEDIA_ERR_NETWORK = 2;
export const MEDIA_ERR_DECODE = 3;
export const MEDIA_ERR_SRC_NOT_SUPPORTED = 4;

export function mediaErrorText(code: number): string {
  switch (code) {
    case MEDIA_ERR_ABORTED:
      return "Playback was stopped before the video loaded. Press play to try again.";
    case MEDIA_ERR_NETWORK:
      return "The video stopped arriving from the download. Check that the download is running in your Library, then press play again.";
    case MEDIA_ERR_DECODE:
      return "Part of this video could not be decoded. Go back and open it again; if it keeps happening, the download may be damaged.";
    case MEDIA_ERR_SRC_NOT_SUPPORTED:
      return "This video could not be opened. If its download has just started, try again in a moment; if it still fails on Linux, install the GStreamer plugins (good, bad and libav) and restart Marquee.";
    default:
      return "The video could not be played. Go back and try again.";
  }
}
