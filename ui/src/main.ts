import { mount } from "svelte";
// One typeface for Latin and Arabic, bundled, so every computer draws the window alike.
import "@fontsource-variable/noto-sans";
import "@fontsource-variable/noto-sans-arabic";
import "./app.css";
import App from "./App.svelte";
import { i18n } from "./lib/i18n/i18n.svelte";

// The language (and with it the direction) before the first paint.
i18n.start();

const app = mount(App, { target: document.getElementById("app")! });

export default app;
