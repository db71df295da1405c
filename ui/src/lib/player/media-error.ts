/** Friendly words for `HTMLMediaElement.error` codes. */
import { t } from "../i18n/i18n.svelte";

/** MediaError codes, from the HTML standard. */
export const MEDIA_ERR_ABORTED = 1;
export const MEDIA_ERR_NETWORK = 2;
export const MEDIA_ERR_DECODE = 3;
export const MEDIA_ERR_SRC_NOT_SUPPORTED = 4;

export function mediaErrorText(code: number): string {
  switch (code) {
    case MEDIA_ERR_ABORTED:
      return t("player.mediaError.aborted");
    case MEDIA_ERR_NETWORK:
      return t("player.mediaError.network");
    case MEDIA_ERR_DECODE:
      return t("player.mediaError.decode");
    case MEDIA_ERR_SRC_NOT_SUPPORTED:
      return t("player.mediaError.unsupported");
    default:
      return t("player.mediaError.other");
  }
}
