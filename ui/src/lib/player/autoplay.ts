/**
 * Starts a video the person asked for. A webview may refuse to play sound without a gesture of
 * its own (`NotAllowedError`): the video then plays muted, and the answer says so, so the player
 * offers "Unmute". If even that is refused, the player's controls let the person press play.
 */
export async function playOrMute(video: HTMLVideoElement): Promise<{ muted: boolean }> {
  try {
    await video.play();
    return { muted: false };
  } catch (e) {
    if (!(e instanceof DOMException && e.name === "NotAllowedError")) return { muted: false };
    video.muted = true;
    await video.play().catch(() => {});
    return { muted: true };
  }
}
