import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "docker-images/*/test/**/*.test.{js,ts}"],
    // The e2e suite drives one Docker engine: its files run one after another, not in parallel.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The JSON report feeds the one-line summary .ci/run prints at the end.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
  },
});
