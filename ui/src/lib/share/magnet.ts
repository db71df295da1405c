/** Checks on what a person pastes into "Open a magnet link". */

/** True for something that looks like a BitTorrent magnet link (the backend checks it fully). */
export function looksLikeMagnet(text: string): boolean {
  const t = text.trim();
  return /^magnet:\?/i.test(t) && /[?&]xt=urn:btih:[0-9a-z]+/i.test(t);
}
