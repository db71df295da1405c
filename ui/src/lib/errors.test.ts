import { describe, expect, it } from "vitest";
import { errorHeadline, isRetryable } from "./errors";

describe("errorHeadline", () => {
  it("names each kind", () => {
    expect(errorHeadline("insufficient_funds")).toBe("Not enough credit");
    expect(errorHeadline("store_unreachable")).toBe("Store unreachable");
    expect(errorHeadline("licence_other_device")).toBe("Licensed to another computer");
    expect(errorHeadline("publish_refused")).toBe("Can't publish this file");
    expect(errorHeadline("cancelled")).toBe("Cancelled");
  });
  it("marks transient failures as retryable", () => {
    expect(isRetryable("store_unreachable")).toBe(true);
    expect(isRetryable("insufficient_funds")).toBe(false);
    expect(isRetryable("publish_refused")).toBe(false);
  });
});
