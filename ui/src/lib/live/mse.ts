/**
 * Whether this window's video player can play a live channel: a live stream reaches the page as
 * Media Source Extensions appends, so a channel plays only where `MediaSource` exists and takes
 * the channel's type. WebKitGTK builds without MSE, or without the codec's GStreamer plugin, say
 * no here; the person reads why before anything starts.
 */
import { t } from "../i18n/i18n.svelte";

/** The slice of `MediaSource` this asks, so a test can stand in for the browser's. */
export interface MediaSourceSupport {
  isTypeSupported(type: string): boolean;
}

/** The browser's `MediaSource`, or `undefined` where the webview has none. */
export function browserMediaSource(): MediaSourceSupport | undefined {
  return typeof MediaSource === "undefined" ? undefined : MediaSource;
}

/**
 * Why a channel of type `mime` cannot play in this window, in words; `null` when it can.
 * `what` names the thing: "this channel", "this video" (`live.cannotPlay.thisChannel`, in the
 * window's language).
 */
export function cannotPlay(
  mime: string,
  what: string,
  support: MediaSourceSupport | undefined = browserMediaSource(),
): string | null {
  if (!support)
    return t("live.cannotPlay.noMediaSource", { what });
  if (!support.isTypeSupported(mime))
    return t("live.cannotPlay.format", { what, format: describe(mime) });
  return null;
}

/** `video/webm; codecs="vp9,opus"` as "WebM: VP9, Opus". */
export function describe(mime: string): string {
  const codecs = codecNames(mime);
  return codecs.length > 0 ? `${containerName(mime)}: ${codecs.join(", ")}` : containerName(mime);
}

/** "WebM", "MP4", or the type itself for anything else. */
export function containerName(mime: string): string {
  const type = mime.split(";")[0].trim();
  if (type === "video/webm" || type === "audio/webm") return "WebM";
  if (type === "video/mp4" || type === "audio/mp4") return "MP4";
  return type;
}

/** The codecs a type names, as people know them: `["VP9", "Opus"]`, `["H.264", "AAC"]`. */
export function codecNames(mime: string): string[] {
  const param = mime
    .split(";")
    .map((s) => s.trim())
    .find((p) => p.toLowerCase().startsWith("codecs="));
  if (!param) return [];
  return param
    .slice("codecs=".length)
    .replace(/"/g, "")
    .split(",")
    .map((c) => codecName(c.trim()))
    .filter(Boolean);
}

function codecName(codec: string): string {
  const c = codec.toLowerCase();
  if (c.startsWith("vp09") || c === "vp9") return "VP9";
  if (c.startsWith("vp08") || c === "vp8") return "VP8";
  if (c.startsWith("av01") || c === "av1") return "AV1";
  if (c.startsWith("avc1") || c.startsWith("avc3")) return "H.264";
  if (c.startsWith("hvc1") || c.startsWith("hev1")) return "H.265";
  if (c === "opus") return "Opus";
  if (c === "vorbis") return "Vorbis";
  if (c.startsWith("mp4a")) return "AAC";
  return codec;
}
