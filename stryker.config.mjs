// Mutation testing of the pure modules: Stryker changes their code one small edit at a time (a
// mutant) and counts the edits no unit test fails on. Run it with `npm run test:mutation`; the
// score, the run times and the remaining survivors are in docs/mutation-testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    "src/settings.ts",
    "src/addressing.ts",
    "src/naming.ts",
    "src/proxyEnvironment.ts",
    "src/secretConfig.ts",
    "src/hardening.ts",
    "src/cpuLimit.ts",
  ],
  testRunner: "vitest",
  vitest: { configFile: "test/mutation/vitest.config.ts" },
  // Each mutant runs only the tests that reached its code in the first, unmutated run.
  coverageAnalysis: "perTest",
  // The earlier run's result, committed: a run re-tests only the mutants whose code or tests changed.
  incremental: true,
  incrementalFile: "test/mutation/stryker-incremental.json",
  // CI machines have two cores.
  concurrency: 2,
  // Below 95 % the run fails (exit code 1).
  thresholds: { high: 95, low: 90, break: 95 },
  reporters: ["clear-text", "progress-append-only", "html"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  // The sandbox copy needs the sources, the unit tests and Pulumi.yaml, not the images or the benches.
  ignorePatterns: ["/docker-images", "/bench", "/docs", "/test/e2e", "/reports", "/test-results"],
};
