import { afterEach, describe, expect, it } from "vitest";
import { errorHeadline, errorText, isRetryable } from "./errors";
import { i18n, LANGUAGES } from "./i18n/i18n.svelte";
import { ERROR_KINDS, type AppError, type ErrorKind } from "./ipc/bindings";

afterEach(() => i18n.use("en"));

const error = (kind: ErrorKind, params: Record<string, string> = {}): AppError => ({
  kind,
  message: "The core's English sentence, which the window does not show.",
  params,
});

describe("errorHeadline", () => {
  it("names each kind", () => {
    expect(errorHeadline("insufficient_funds")).toBe("Not enough credit");
    expect(errorHeadline("store_unreachable")).toBe("Store unreachable");
    expect(errorHeadline("licence_other_device")).toBe("Licensed to another computer");
    expect(errorHeadline("publish_refused")).toBe("Can't publish this file");
    expect(errorHeadline("cancelled")).toBe("Cancelled");
    expect(errorHeadline("device_limit")).toBe("Too many computers");
  });
  it("has a headline of its own for every kind the backend sends", () => {
    const headlines = ERROR_KINDS.map(errorHeadline);
    for (const h of headlines) {
      expect(h).toMatch(/\S/);
      // A kind without a sentence would show its key.
      expect(h).not.toMatch(/^errors\./);
    }
    expect(new Set(headlines).size).toBe(ERROR_KINDS.length);
  });
  it("marks transient failures as retryable", () => {
    expect(isRetryable("store_unreachable")).toBe(true);
    expect(isRetryable("insufficient_funds")).toBe(false);
    expect(isRetryable("publish_refused")).toBe(false);
    expect(isRetryable("device_limit")).toBe(false);
    expect(isRetryable("store_key_changed")).toBe(false);
  });
});

describe("errorText", () => {
  const diskFull = error("disk_full", { name: "First Light", needed_bytes: "2600939", free_bytes: "1250000" });

  it("phrases a full disk with the sizes written in the window's language", () => {
    expect(errorText(diskFull)).toBe(
      "There is not enough free space for “First Light”: it needs 2.6 MB and the disk holding Marquee's downloads has 1.3 MB free. Free some space, then try again; nothing was charged.",
    );
    i18n.use("it");
    expect(errorText(diskFull)).toBe(
      "Non c'è abbastanza spazio libero per «First Light»: servono 2,6 MB e sul disco dei download di Marquee ne restano liberi 1,3 MB. Libera un po' di spazio, poi riprova; non è stato addebitato nulla.",
    );
    i18n.use("ar");
    const arabic = errorText(diskFull);
    expect(arabic).toContain("«First Light»");
    // Arabic's own unit names, from `format.bytes`.
    expect(arabic).not.toContain("MB");
    expect(arabic).not.toMatch(/\{\{|undefined/);
  });

  it("phrases a settings refusal from its variant, with the folder and sizes", () => {
    const noRoom = error("settings_refused", {
      variant: "data_no_room",
      folder: "/media/stick/Marquee",
      free_bytes: "1200000000",
      needed_bytes: "2300000000",
      spare_bytes: "67108864",
    });
    expect(errorText(noRoom)).toBe(
      "The disk holding /media/stick/Marquee has 1.2 GB free, and Marquee's data needs 2.3 GB there (with 67 MB to spare). Free some space there, or choose a folder on another disk.",
    );
    i18n.use("it");
    expect(errorText(noRoom)).toContain("restano liberi 1,2 GB");
    const address = error("settings_refused", { variant: "store_scheme", typed: "ftp://x" });
    expect(errorText(address)).toContain("«ftp://x» non è l'indirizzo di un negozio");
  });

  it("reads sizes the core already put in words as they are", () => {
    const worded = error("disk_full", { name: "First Light", needed: "2.6 MB", free: "1.3 MB" });
    expect(errorText(worded)).toBe(errorText(diskFull));
  });

  it("writes a date in the window's language", () => {
    const ended = new Date(2026, 2, 3, 21, 40).getTime();
    const expired = error("licence_expired", { ended_ms: String(ended) });
    expect(errorText(expired)).toBe("This rental ended on 3 March 2026 at 21:40. Rent it again to watch it.");
    i18n.use("it");
    expect(errorText(expired)).toMatch(/^Questo noleggio è terminato il 3 marzo 2026.*21:40\. Noleggialo di nuovo per guardarlo\.$/);
    const behind = error("clock_behind", {
      local_ms: String(new Date(2025, 0, 1, 9, 0).getTime()),
      trusted_ms: String(ended),
    });
    expect(errorText(behind)).toMatch(/segna il 1 gennaio 2025.*09:00, ma era già il 3 marzo 2026.*21:40\)/);
  });

  it("picks the kind's other sentence by variant", () => {
    const deadline = new Date(2026, 2, 3, 21, 40).getTime();
    expect(errorText(error("licence_expired", { deadline_ms: String(deadline), variant: "not_started" }))).toBe(
      "This rental had to be started by 3 March 2026 at 21:40. Rent it again to watch it.",
    );
    expect(errorText(error("sign_in_required", { variant: "session_refused" }))).toMatch(/^The store ended this computer's session/);
    expect(errorText(error("sign_in_required"))).toMatch(/^Your session with the store has ended/);
    // A variant the window does not know falls back to the kind's sentence.
    expect(errorText(error("sign_in_required", { variant: "made_up" }))).toMatch(/^Your session with the store has ended/);
  });

  it("quotes the store's or a lower layer's detail as it came", () => {
    const refused = error("torrent_refused", { detail: "it is not a magnet link or a torrent file" });
    expect(errorText(refused)).toBe("This cannot be added: it is not a magnet link or a torrent file.");
    i18n.use("it");
    expect(errorText(refused)).toBe("Impossibile aggiungerlo: it is not a magnet link or a torrent file.");
    i18n.use("en");
    const store = error("publish_refused", { detail: "a title with this file already exists", variant: "store" });
    expect(errorText(store)).toBe("The store did not publish this video: a title with this file already exists.");
    // A detail that looks like a template stays text.
    expect(errorText(error("settings_refused", { detail: "“{{x}}” is not a store's address" }))).toBe(
      "“{{x}}” is not a store's address",
    );
  });

  it("says only that something went wrong when a value its sentence needs is missing", () => {
    expect(errorText(error("torrent_refused"))).toBe(
      "Something went wrong inside Marquee. Try again, and restart the app if it keeps happening.",
    );
    expect(errorText(error("disk_full", { name: "First Light" }))).toMatch(/^Something went wrong inside Marquee\./);
  });

  it("has a sentence for every kind in every language", () => {
    // Every value any sentence may name, so that each sentence can be phrased.
    const all = {
      detail: "DETAIL",
      name: "NAME",
      needed_bytes: "1000",
      free_bytes: "10",
      ended_ms: "0",
      deadline_ms: "0",
      local_ms: "0",
      trusted_ms: "0",
    };
    for (const language of LANGUAGES) {
      i18n.use(language);
      const unexplained = errorText(error("internal"));
      for (const kind of ERROR_KINDS) {
        const text = errorText(error(kind, all));
        expect(text, `${language}: ${kind}`).toMatch(/\S/);
        expect(text, `${language}: ${kind}`).not.toMatch(/errors\.|\{\{|undefined/);
        expect(text, `${language}: ${kind}`).not.toBe(unexplained);
      }
    }
  });
});
