import { describe, expect, it } from "vitest";
import { errorHeadline, isRetryable } from "./errors";
import { ERROR_KINDS } from "./ipc/bindings";

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
