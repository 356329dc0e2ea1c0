// Benchmarks run apart from `npm test` (they take minutes and print numbers rather than assert
// targets): `npm run bench`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["bench/**/*.bench-run.ts"],
    testTimeout: 1_200_000,
    hookTimeout: 600_000,
    // One benchmark at a time: two at once share the 2 cores and skew each other's numbers.
    fileParallelism: false,
  },
});
