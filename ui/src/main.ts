import { mount } from "svelte";
// One typeface for Latin and Arabic, bundled, so every computer draws the window alike.
import "@fontsource-variable/noto-sans";
import "@fontsource-variable/noto-sans-arabic";
import "./app.css";
import App from "./App.svelte";
import { i18n } from "./lib/i18n/i18n.svelte";

// The language (and with it the direction) before the first paint.
i18n.start();

/**
 * The bundled typeface before the first paint, so nothing is laid out twice: drawn first in a
 * fallback and then again in Noto once it loaded, every card and shelf would move (and a test
 * could click a card the shelf had just replaced). The fonts are local files: this is a few
 * milliseconds, and never more than a quarter second.
 */
async function fontsLoaded(): Promise<void> {
  const faces = ['16px "Noto Sans Variable"', '700 16px "Noto Sans Variable"'];
  if (i18n.current === "ar") faces.push('16px "Noto Sans Arabic Variable"', '700 16px "Noto Sans Arabic Variable"');
  const fonts = globalThis.document?.fonts;
  if (!fonts) return;
  await Promise.race([
    Promise.all(faces.map((f) => fonts.load(f))).catch(() => undefined),
    new Promise((r) => setTimeout(r, 250)),
  ]);
}

void fontsLoaded().then(() => mount(App, { target: document.getElementById("app")! }));
