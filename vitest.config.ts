import { configDefaults, defineConfig } from "vitest/config";

/**
 * Suites that must have the machine to themselves, run after everything else: two restart the
 * host's Docker engine (which would take the swarm test bed's nodes down with it), and three
 * measure what a crowd or a keep-alive load gets from the 2 cores.
 */
const ALONE = [
  "test/e2e/addresses.test.ts",
  "test/e2e/refresh.test.ts",
  "test/e2e/cold-burst.test.ts",
  "test/e2e/load.test.ts",
  "test/e2e/drain.test.ts",
];
/** The swarm suites: a three-node test swarm of their own (test/support/swarm/testBed.ts). */
const SWARM = ["test/e2e/swarm-*.test.ts"];

export default defineConfig({
  test: {
    // One file at a time per lane: the e2e suites share one Docker engine.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The JSON report feeds the one-line summary .ci/run prints at the end.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    // Two lanes, then the suites that run alone (docs/testing.md, "How the run is scheduled").
    // Vitest runs the projects of one `groupOrder` together, and the groups one after another.
    // Each pool (forks, threads) runs its files with workers of its own, one at a time here
    // (fileParallelism false): the swarm lane and the single-host lane each run one file at a
    // time, side by side. They share nothing but the engine: names, ports (test/support/ports.ts)
    // and subnets (10.217/16 for stacks, 10.218-10.220 for the test bed) are their own.
    projects: [
      {
        extends: true,
        test: {
          name: "swarm",
          include: SWARM,
          pool: "threads",
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "host",
          include: ["test/**/*.test.ts", "docker-images/*/test/**/*.test.{js,ts}"],
          exclude: [...configDefaults.exclude, ...SWARM, ...ALONE],
          pool: "forks",
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "alone", include: ALONE, pool: "forks", sequence: { groupOrder: 1 } },
      },
    ],
  },
});
