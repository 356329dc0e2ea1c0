// What rolling members one at a time costs a first deploy: the program as it is (each pool member
// depends on the one before it) against the same program with that one `dependsOn` removed
// (bench/members-in-parallel.patch, applied to a temporary copy by programVariant), each deployed
// from nothing through the e2e harness and destroyed again, in interleaved rounds after one
// unmeasured warm-up that fills the build cache. Prints the `up` times, their medians and the ratio,
// and the `destroy` times that follow (members stop one at a time there too, each after its drain).
//
//   npm run bench -- bench/first-deploy.bench-run.ts        (BENCH_ROUNDS, 3 by default)
//
// BENCH_FIRST_DEPLOY_VARIANTS=chained deploys only the program as it is (no patched variant).
import { loadavg } from "node:os";
import { expect, it } from "vitest";
import { baseImageConfig } from "../test/support/e2eStack";
import { DockerHarness } from "../test/support/harness/dockerHarness";
import { programVariant } from "../test/support/harness/programVariant";
import { HOST_PORTS } from "../test/support/ports";
import { median, table } from "./support/report";

const STACK = "e2e-roll-first-deploy";
const PORT = HOST_PORTS.benchFirstDeploy.ports.proxy;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const chainedOnly = process.env.BENCH_FIRST_DEPLOY_VARIANTS === "chained";
if (![undefined, "chained"].includes(process.env.BENCH_FIRST_DEPLOY_VARIANTS)) {
  throw new Error(
    `BENCH_FIRST_DEPLOY_VARIANTS must be "chained" or unset (got ${process.env.BENCH_FIRST_DEPLOY_VARIANTS})`,
  );
}

it("first deploy: members one at a time against all at once", async () => {
  const parallel = programVariant("bench/members-in-parallel.patch");
  const variants: Record<string, string | undefined> = chainedOnly
    ? { "one at a time (index.ts)": undefined }
    : { "one at a time (index.ts)": undefined, "all at once (patched)": parallel.program };
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(variants).map((name) => [name, []]),
  );
  const destroyTimes: Record<string, number[]> = Object.fromEntries(
    Object.keys(variants).map((name) => [name, []]),
  );
  const deploy = async (program: string | undefined) => {
    const harness = new DockerHarness(STACK);
    const config = { ...(await baseImageConfig(harness.docker)), proxyPort: PORT };
    const started = performance.now();
    try {
      await harness.up({ stack: STACK, config, program });
    } catch (error) {
      await harness.destroy();
      throw error;
    }
    const up = (performance.now() - started) / 1000;
    const destroying = performance.now();
    expect(await harness.destroy()).toEqual({ containers: [], networks: [] });
    return { up, destroy: (performance.now() - destroying) / 1000 };
  };
  try {
    await deploy(undefined); // warm-up: builds the images once
    for (let round = 0; round < rounds; round++) {
      for (const [name, program] of Object.entries(variants)) {
        const { up, destroy } = await deploy(program);
        times[name].push(up);
        destroyTimes[name].push(destroy);
        console.log(
          `[first deploy] round ${round + 1}, ${name}: up ${up.toFixed(1)} s, ` +
            `destroy ${destroy.toFixed(1)} s (load ${loadavg()[0].toFixed(1)})`,
        );
      }
    }
  } finally {
    parallel.remove();
  }
  const chained = median(times["one at a time (index.ts)"]);
  console.log(
    table(
      ["members", "`up` from nothing (2+2, cached images)", "runs", "`destroy`", "runs"],
      Object.entries(times).map(([name, runs]) => [
        name,
        `${median(runs).toFixed(1)} s`,
        runs.map((s) => s.toFixed(1)).join(", "),
        `${median(destroyTimes[name]).toFixed(1)} s`,
        destroyTimes[name].map((s) => s.toFixed(1)).join(", "),
      ]),
    ),
  );
  if (!chainedOnly) {
    const atOnce = median(times["all at once (patched)"]);
    console.log(`ratio: ${(chained / atOnce).toFixed(2)} × (+${(chained - atOnce).toFixed(1)} s)`);
  }
}, 1_800_000);
