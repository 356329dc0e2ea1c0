// How the cold-crowd test reports its failures (test/support/coldBurst.ts): with 10 000 requests,
// the assertion message must say which kinds failed and when, not print an elided array.
import { describe, expect, it } from "vitest";
import { describeFailures, quantile } from "../support/coldBurst";

describe("describeFailures", () => {
  it("counts each kind, most frequent first, with when the first and last were sent", () => {
    const errors = [
      "request burst-7-2, sent at +1200 ms: HTTP 502",
      "request burst-3-1, sent at +40 ms: no answer within 15000 ms",
      "request burst-9-1, sent at +35 ms: no answer within 15000 ms",
      "request burst-4-5, sent at +2500 ms: no answer within 15000 ms",
    ];
    const [summary, ...examples] = describeFailures(errors, 2).split("\n");
    expect(summary).toBe(
      "4 failed: 3 × no answer within 15000 ms (sent +35..+2500 ms); " +
        "1 × HTTP 502 (sent +1200..+1200 ms)",
    );
    expect(examples).toEqual(errors.slice(0, 2));
  });

  it("keeps a line it cannot parse whole", () => {
    expect(describeFailures(["socket hang up"])).toBe(
      "1 failed: 1 × socket hang up\nsocket hang up",
    );
  });
});

describe("quantile", () => {
  it("takes the value at or above the quantile's rank in an ascending array", () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(hundred, 0.5)).toBe(50);
    expect(quantile(hundred, 0.99)).toBe(99);
    expect(quantile(hundred, 1)).toBe(100);
    expect(quantile([], 0.99)).toBe(0);
  });
});
