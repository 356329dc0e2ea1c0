// Plain-text output for the benchmark: medians and a Markdown table that pastes into docs/performance.md.

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (cell ?? "").padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * The median of per-round ratios: `values[i] / references[i]` for each round i, both measured in
 * the same round, so a minute where the machine is busier weighs on both sides of its ratio.
 */
export function medianPairedRatio(values: number[], references: number[]): number {
  if (values.length !== references.length || values.length === 0) {
    throw new Error(
      `paired ratios need as many values as references (${values.length} and ${references.length})`,
    );
  }
  return median(values.map((value, round) => value / references[round]));
}
