// Deploys the real program on the local Docker engine through the harness, for the e2e suites.
import Docker from "dockerode";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withDockerHost } from "./harness/dockerHost";
import { DockerHarness } from "./harness/dockerHarness";
import { runProgram, type ProgramRun } from "./pulumiProgram";

/** Official base images and the local stand-ins scripts/offline-base-images.sh builds for them. */
const BASE_IMAGES = {
  staticBaseImage: ["php:8.4-apache-bookworm", "http-infra-base/php-apache:8.4-bookworm"],
  dynamicBaseImage: ["node:22-bookworm-slim", "http-infra-base/node:22-bookworm-slim"],
  proxyBaseImage: ["php:8.4-apache-bookworm", "http-infra-base/php-apache:8.4-bookworm"],
} as const;

/**
 * Why the e2e suites can't run here, or undefined when a Docker engine answers. Synchronous, so a
 * suite can decide at collection time whether it runs.
 */
export function dockerUnavailable(): string | undefined {
  const probe = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
    encoding: "utf8",
    timeout: 15_000,
  });
  if (probe.status === 0) return undefined;
  const why = probe.error?.message ?? probe.stderr.trim().split("\n")[0];
  return `no Docker engine answers (${why}); start one, e.g. with scripts/start-docker.sh`;
}

/** CI must run the e2e suites: there a missing engine is a failure, not a skip. */
export const e2eRequired = process.env.CI === "true" || process.env.E2E === "1";

/**
 * `describe` for suites that need a Docker engine. Without one, outside CI the suite is skipped,
 * saying why; in CI (or with E2E=1) it is replaced by one failing test that says why, so the
 * missing engine shows as a failure, never as skipped tests.
 */
export function describeWithDocker(name: string, suite: () => void): void {
  const unavailable = dockerUnavailable();
  if (unavailable === undefined) {
    describe(name, suite);
  } else if (e2eRequired) {
    describe(name, () => {
      it("has a Docker engine to deploy on", () => {
        throw new Error(unavailable);
      });
    });
  } else {
    // Outside CI only, and never silently: the reason is printed.
    console.warn(`[e2e] "${name}" skipped outside CI: ${unavailable}`);
    describe.skip(name, suite);
  }
}

/**
 * The base-image config for this engine: the official images when present, else the offline
 * stand-ins. Nothing is pulled here: the suite must not depend on a registry.
 */
export async function baseImageConfig(docker = new Docker()): Promise<Record<string, string>> {
  const exists = (name: string) =>
    docker
      .getImage(name)
      .inspect()
      .then(
        () => true,
        () => false,
      );
  const config: Record<string, string> = {};
  for (const [key, candidates] of Object.entries(BASE_IMAGES)) {
    const found = [];
    for (const candidate of candidates) if (await exists(candidate)) found.push(candidate);
    if (found.length === 0) {
      throw new Error(
        `neither ${candidates.join(" nor ")} is on this engine: pull the official image, or run ` +
          `scripts/offline-base-images.sh to build the stand-in`,
      );
    }
    config[key] = found[0];
  }
  return config;
}

export interface DeployedStack {
  harness: DockerHarness;
  run: ProgramRun;
  /** The proxy's URL on 127.0.0.1, from the `url` stack output. */
  url: string;
}

export async function deployStack(options: {
  stack: string;
  config?: Record<string, string | number>;
  secrets?: Record<string, string>;
  /**
   * Another engine than the local one, e.g. a swarm manager for `deployTarget: swarm`: its client,
   * and its address as DOCKER_HOST spells it (for the program's own engine queries).
   */
  engine?: { docker: Docker; host: string };
}): Promise<DeployedStack> {
  const harness = new DockerHarness(
    options.stack,
    options.engine?.docker,
    {},
    options.engine?.host,
  );
  const config = { ...(await baseImageConfig(harness.docker)), ...options.config };
  try {
    const run = await withDockerHost(options.engine?.host, () =>
      runProgram({
        stack: options.stack,
        config,
        secrets: options.secrets,
        newResource: harness.newResource,
      }),
    );
    return { harness, run, url: run.outputs.url as string };
  } catch (error) {
    // Leave nothing behind from a half-made deploy, then report the resource that failed.
    await harness.destroy();
    throw harness.failure ?? error;
  }
}

export function formatTimings(stack: string, timings: Record<string, number>): string {
  const phases = Object.entries(timings).map(
    ([phase, seconds]) => `${phase} ${seconds.toFixed(1)}s`,
  );
  return `[e2e timings] ${stack}: ${phases.join(", ")}`;
}

/**
 * Deploys a stack before a suite's tests and destroys it after them (nothing may be left behind).
 * Returns a getter: the stack exists only once beforeAll has run.
 */
export function stackForSuite(options: Parameters<typeof deployStack>[0]): () => DeployedStack {
  let deployed: DeployedStack | undefined;
  beforeAll(async () => {
    deployed = await deployStack(options);
  }, 600_000);
  afterAll(async () => {
    if (!deployed) return;
    const leftovers = await deployed.harness.destroy();
    console.log(formatTimings(deployed.harness.stack, deployed.harness.timings));
    expect(leftovers, `${options.stack}: nothing left behind`).toEqual({
      containers: [],
      networks: [],
    });
  }, 120_000);
  return () => {
    if (!deployed) throw new Error(`${options.stack} was not deployed (see beforeAll)`);
    return deployed;
  };
}
