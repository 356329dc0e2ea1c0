// The benchmark's arithmetic (bench/support/report.ts): the figures in docs/performance.md and
// docs/https.md are medians of paired per-round ratios.
import { describe, expect, it } from "vitest";
import { median, medianPairedRatio } from "../../bench/support/report";

describe("medianPairedRatio", () => {
  it("divides within each round, then takes the median: a busy round weighs on both sides", () => {
    // Round 2 is slow for both fronts: paired, its ratio is as good as the others'.
    const proxy = [900, 300, 1000];
    const haproxy = [1000, 330, 1000];
    expect(medianPairedRatio(proxy, haproxy)).toBeCloseTo(300 / 330);
    // Unpaired, the medians' ratio would be another figure.
    expect(median(proxy) / median(haproxy)).toBeCloseTo(0.9);
  });

  it("refuses rounds that do not pair up, or none", () => {
    expect(() => medianPairedRatio([1, 2], [1])).toThrow(/as many values as references/);
    expect(() => medianPairedRatio([], [])).toThrow(/as many values as references/);
  });
});
