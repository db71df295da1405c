/** Words and choices for the publish sheet. */
import { formatBytes, formatRuntime } from "../format";
import { t } from "../i18n/i18n.svelte";
import type { PublishDraft, PublishForm, PublishProgress, TorrentPreview } from "../ipc/bindings";

/** Languages offered for a published video (BCP 47 codes). */
export const LANGUAGES: readonly { code: string; label: string }[] = (
  ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "sv", "ru", "ar", "hi", "ja", "ko", "zh"] as const
).map((code) => ({
  code,
  // Read where it is shown, so the list follows the window's language.
  get label() {
    return t(`publish.languages.${code}`);
  },
}));

/** Licences others get for a published video; the first is the default. */
export const LICENCES: readonly string[] = ["CC BY 4.0", "CC BY-SA 4.0", "CC0 1.0"];

/** The longest name a publisher may be shown by (the store's limit too). */
export const PUBLISHER_NAME_MAX = 40;

/** The form as it first shows for a draft: the name last published under is offered again. */
export function initialForm(draft: PublishDraft): PublishForm {
  return {
    name: draft.suggested_name,
    description: "",
    language: "en",
    licence_to_share: LICENCES[0],
    poster_data_url: null,
    publisher_name: draft.publisher_name,
  };
}

/** What the form sends (trimmed text), or the sentence saying what is missing. */
export function cleanForm(form: PublishForm): PublishForm | string {
  const name = form.name.trim();
  if (name === "") return t("publish.missing.title");
  const publisher_name = form.publisher_name.trim();
  if (publisher_name === "") return t("publish.missing.publisher");
  return { ...form, name, publisher_name, description: form.description.trim() };
}

/** How far preparing has got, 0 to 1; null while making the torrent (no byte count). */
export function progressFraction(p: PublishProgress | null): number | null {
  if (p === null) return 0;
  if (p.stage === "hashing") return null;
  if (p.total_bytes <= 0) return 0;
  return Math.max(0, Math.min(1, p.done_bytes / p.total_bytes));
}

/** "Checking the video…", "Copying 42 %", "Preparing torrent…". */
export function progressText(p: PublishProgress | null): string {
  if (p === null) return t("publish.progress.checking");
  if (p.stage === "hashing") return t("publish.progress.hashing");
  return t("publish.progress.copying", { percent: Math.floor((progressFraction(p) ?? 0) * 100) });
}

/** The facts under the preview: codecs, resolution, size, duration. */
export function draftFacts(draft: PublishDraft): string[] {
  const facts = [
    draft.audio_codec ? `${draft.video_codec} · ${draft.audio_codec}` : draft.video_codec,
    `${draft.width}×${draft.height}`,
    formatBytes(draft.size_bytes),
  ];
  if (draft.duration_s !== null && draft.duration_s > 0) facts.push(formatRuntime(draft.duration_s));
  return facts;
}

/** "“Name” is published and seeding". */
export function publishedText(name: string): string {
  return t("publish.published", { name });
}

/** "Added “Name” — not from the store". */
export function importedText(name: string): string {
  return t("publish.imported", { name });
}

/** A link opened for a title the library already has (a store title shared as a magnet link). */
export function alreadyInLibraryText(name: string): string {
  return t("publish.alreadyInLibrary", { name });
}

/** The facts of a torrent before it is added: "3 files · 1.2 GB", or "1 file · 4.0 MB". */
export function torrentFacts(preview: TorrentPreview): string {
  return t("publish.torrentFacts", { count: preview.files.length, size: formatBytes(preview.total_bytes) });
}

/** An info hash in groups of eight, so a person can compare it with what was shared. */
export function groupedHash(hash: string): string {
  return hash.match(/.{1,8}/g)?.join(" ") ?? hash;
}
