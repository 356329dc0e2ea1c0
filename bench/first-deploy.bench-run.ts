// What rolling members one at a time costs a first deploy: the program as it is (each pool member
// depends on the one before it) against the same program with that one `dependsOn` removed
// (bench/members-in-parallel.patch, applied to a temporary copy by programVariant), each deployed
// from nothing through the e2e harness and destroyed again, in interleaved rounds after one
// unmeasured warm-up that fills the build cache. Prints the `up` times, their medians and the ratio.
//
//   npm run bench -- bench/first-deploy.bench-run.ts        (BENCH_ROUNDS, 3 by default)
import { expect, it } from "vitest";
import { baseImageConfig } from "../test/support/e2eStack";
import { DockerHarness } from "../test/support/harness/dockerHarness";
import { programVariant } from "../test/support/harness/programVariant";
import { HOST_PORTS } from "../test/support/ports";
import { median, table } from "./support/report";

const STACK = "e2e-roll-first-deploy";
const PORT = HOST_PORTS.benchFirstDeploy.ports.proxy;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

it("first deploy: members one at a time against all at once", async () => {
  const parallel = programVariant("bench/members-in-parallel.patch");
  const variants = {
    "one at a time (index.ts)": undefined,
    "all at once (patched)": parallel.program,
  };
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(variants).map((name) => [name, []]),
  );
  const deploy = async (program: string | undefined) => {
    const harness = new DockerHarness(STACK);
    const config = { ...(await baseImageConfig(harness.docker)), proxyPort: PORT };
    const started = performance.now();
    try {
      await harness.up({ stack: STACK, config, program });
      return (performance.now() - started) / 1000;
    } finally {
      expect(await harness.destroy()).toEqual({ containers: [], networks: [] });
    }
  };
  try {
    await deploy(undefined); // warm-up: builds the images once
    for (let round = 0; round < rounds; round++) {
      for (const [name, program] of Object.entries(variants)) {
        const seconds = await deploy(program);
        times[name].push(seconds);
        console.log(`[first deploy] round ${round + 1}, ${name}: ${seconds.toFixed(1)} s`);
      }
    }
  } finally {
    parallel.remove();
  }
  const chained = median(times["one at a time (index.ts)"]);
  const atOnce = median(times["all at once (patched)"]);
  console.log(
    table(
      ["members", "`up` from nothing (2+2, cached images)", "runs"],
      Object.entries(times).map(([name, runs]) => [
        name,
        `${median(runs).toFixed(1)} s`,
        runs.map((s) => s.toFixed(1)).join(", "),
      ]),
    ) + `\nratio: ${(chained / atOnce).toFixed(2)} × (+${(chained - atOnce).toFixed(1)} s)`,
  );
}, 1_800_000);
