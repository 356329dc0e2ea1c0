import { defineConfig } from "vitest/config";

// The swarm suites run on their own three-node test bed (Docker-in-Docker nodes on their own
// subnets, host ports in their own ranges: test/support/ports.ts) and spend most of their time
// waiting for Swarm (heartbeats, convergence). So they run beside the rest, not after it: two
// projects, each one file at a time. Vitest runs projects of different pools side by side and
// one pool's files one after another when that pool is single (singleFork / singleThread).
const SWARM_SUITES = ["test/e2e/swarm-*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The JSON report feeds the one-line summary .ci/run prints at the end.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    projects: [
      {
        extends: true,
        test: {
          name: "host",
          include: ["test/**/*.test.ts", "docker-images/*/test/**/*.test.{js,ts}"],
          exclude: SWARM_SUITES,
          // The single-host suites drive one Docker engine: one file at a time.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        extends: true,
        test: {
          name: "swarm",
          include: SWARM_SUITES,
          // One test bed per host (its lock): one file at a time.
          pool: "threads",
          poolOptions: { threads: { singleThread: true } },
        },
      },
    ],
  },
});
