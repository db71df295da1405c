/**
 * Posters asked for at the size they are shown: the playback server shrinks a store picture
 * to one of a few widths and keeps it, so the page decodes a 180-pixel card's poster, not the
 * store's 480-pixel original (about a seventh of the memory).
 */

/** The widths the playback server makes (`crates/core/src/art.rs`, `WIDTHS`). */
export const POSTER_WIDTHS = [180, 360, 540, 720, 1080] as const;

/** A picture the playback server serves: `…/TOKEN/art/HASH.img`. */
const ART = /\/art\/[0-9a-f]{32}\.img$/;

/**
 * `src` at the width that covers `cssWidth` on this screen (`pixelRatio` device pixels per CSS
 * pixel), as one of the server's widths so every card of a size shares one cached copy. Other
 * addresses (the store's own, a file being published) are left as they are.
 */
export function sizedPoster(src: string, cssWidth: number, pixelRatio: number): string {
  if (!ART.test(src) || !(cssWidth > 0)) return src;
  const want = Math.ceil(cssWidth * Math.max(1, pixelRatio));
  const width = POSTER_WIDTHS.find((w) => w >= want);
  return width === undefined ? src : `${src}?w=${width}`;
}
