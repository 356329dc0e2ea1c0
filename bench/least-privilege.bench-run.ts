// What least privilege costs: the stack as deployed now (non-root images, read-only, no
// capabilities, memory and CPU limits, rotated logs) against the same stack as it ran before
// (the images and the plain `docker run` defaults of BASELINE_REF), both on one network and one
// engine, measured with wrk in interleaved rounds so that the machine's load falls on both alike.
// Also prints each hardened container's memory peak against its limit and how often its CPU limit
// held it back (CFS throttling).
//
//   npx vitest run --config bench/vitest.config.ts bench/least-privilege.bench-run.ts
//   BASELINE_REF=<commit> BENCH_ROUNDS=7 BENCH_SECONDS=10 ... (defaults: the commit before least
//   privilege, 6 rounds of 10 s)
//
// Load goes to 127.0.0.1 only, bounded in time.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect, it } from "vitest";
import { imageContexts } from "../src/imageBuild";
import { stackContainers } from "../test/support/cisCheck";
import { baseImageConfig, deployStack, type DeployedStack } from "../test/support/e2eStack";
import { buildImage } from "../test/support/harness/build";
import { formatPeaks, memoryPeak } from "../test/support/memoryPeaks";
import { HOST_PORTS } from "../test/support/ports";
import { cpuThrottling, totalCpuNanoseconds } from "./support/cpu";
import { median, table } from "./support/report";
import { assertWrkInstalled, runWrk, type WrkResult } from "./support/wrk";

/** The last commit before least privilege: root images on port 80, Docker's defaults at run time. */
const baselineRef = process.env.BASELINE_REF ?? "a287d83";
const rounds = Math.min(Number(process.env.BENCH_ROUNDS ?? 6), 12);
const seconds = Math.min(Number(process.env.BENCH_SECONDS ?? 10), 60);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const benchPath = process.env.BENCH_PATH ?? "/api/animals/";
const PORTS = HOST_PORTS.benchLeastPrivilege.ports;
const STACK = "bench-lp";

interface Front {
  name: "before" | "least privilege";
  url: string;
  proxyId: string;
}

/** The baseline's three images, built from BASELINE_REF's docker-images/ on the same bases. */
async function buildBaselineImages(stack: DeployedStack) {
  try {
    execFileSync("git", ["cat-file", "-e", `${baselineRef}^{commit}`], { stdio: "ignore" });
  } catch {
    throw new Error(
      `BASELINE_REF ${baselineRef} is not a commit of this clone (a shallow clone?): fetch the ` +
        `history, or set BASELINE_REF to a commit from before least privilege`,
    );
  }
  const checkout = mkdtempSync(path.join(tmpdir(), "http-infra-baseline-"));
  try {
    const archive = execFileSync("git", ["archive", baselineRef, "docker-images"]);
    execFileSync("tar", ["-x", "-C", checkout], { input: archive });
    const bases = await baseImageConfig(stack.harness.docker);
    const build = (kind: keyof typeof imageContexts, base: string) =>
      buildImage(stack.harness.docker, {
        context: path.join(checkout, imageContexts[kind]),
        tag: `http-infra-${STACK}-baseline-${kind}:latest`,
        args: { BASE_IMAGE: base },
        labels: {},
      });
    return {
      static: await build("static", bases.staticBaseImage),
      dynamic: await build("dynamic", bases.dynamicBaseImage),
      proxy: await build("proxy", bases.proxyBaseImage),
    };
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
}

/** The baseline stack beside the deployed one: 2 + 2 members and a proxy, as root, no limits. */
async function startBaseline(stack: DeployedStack): Promise<Front> {
  const images = await buildBaselineImages(stack);
  const network = stack.run.outputs.networkName as string;
  const name = (role: string) => `http-infra-${STACK}-baseline-${role}`;
  const docker = stack.harness.docker;
  const addressOf = async (container: string) =>
    (await docker.getContainer(container).inspect()).NetworkSettings.Networks[network].IPAddress;
  const member = async (role: "static" | "dynamic", index: number, port: number) => {
    const container = name(`${role}-${index}`);
    await stack.harness.runContainer({
      name: container,
      hostname: container,
      image: images[role],
      envs: role === "dynamic" ? ["PORT=3000"] : [],
      networksAdvanced: [{ name: network }],
      wait: true,
      waitTimeout: 120,
    });
    return `${await addressOf(container)}:${port}`;
  };
  const staticMembers = [await member("static", 1, 80), await member("static", 2, 80)];
  const dynamicMembers = [await member("dynamic", 1, 3000), await member("dynamic", 2, 3000)];
  const proxy = await stack.harness.runContainer({
    name: name("proxy"),
    image: images.proxy,
    envs: [
      ...staticMembers.map((address, i) => `STATIC_APP_${i + 1}=${address}`),
      ...dynamicMembers.map((address, i) => `DYNAMIC_APP_${i + 1}=${address}`),
    ],
    networksAdvanced: [{ name: network }],
    ports: [{ internal: 80, external: PORTS.baselineProxy, ip: "127.0.0.1" }],
    wait: true,
    waitTimeout: 120,
  });
  return {
    name: "before",
    url: `http://127.0.0.1:${PORTS.baselineProxy}${benchPath}`,
    proxyId: proxy.id,
  };
}

async function removeBaseline(stack: DeployedStack) {
  for (const role of ["proxy", "static-1", "static-2", "dynamic-1", "dynamic-2"]) {
    await stack.harness.docker
      .getContainer(`http-infra-${STACK}-baseline-${role}`)
      .remove({ force: true, v: true })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
  }
}

it("the stack with least privilege beside the stack before it, in interleaved wrk rounds", async () => {
  assertWrkInstalled();
  const stack = await deployStack({ stack: STACK, config: { proxyPort: PORTS.proxy } });
  const docker = stack.harness.docker;
  try {
    const hardened = await stackContainers(docker, STACK);
    const hardenedProxy = hardened.find((c) => c.role === "proxy")!;
    const fronts: Front[] = [
      await startBaseline(stack),
      {
        name: "least privilege",
        url: new URL(benchPath, stack.url).toString(),
        proxyId: hardenedProxy.info.Id,
      },
    ];
    for (const front of fronts) runWrk({ url: front.url, connections, seconds: 2 });
    const throttledBefore = new Map(hardened.map((c) => [c.name, cpuThrottling(c.info.Id)]));

    const results = new Map<string, (WrkResult & { proxyCpuUs: number })[]>();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? fronts : [...fronts].reverse();
      for (const front of order) {
        const before = await totalCpuNanoseconds(docker, [front.proxyId]);
        const result = runWrk({ url: front.url, connections, seconds });
        const after = await totalCpuNanoseconds(docker, [front.proxyId]);
        const proxyCpuUs = (after - before) / 1000 / Math.max(result.requests, 1);
        results.set(front.name, [...(results.get(front.name) ?? []), { ...result, proxyCpuUs }]);
        console.log(
          `round ${round + 1} ${front.name}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
            `p99 ${result.p99Ms.toFixed(1)} ms, proxy CPU ${proxyCpuUs.toFixed(0)} µs/req, ` +
            `errors ${result.socketErrors + result.non2xx}`,
        );
      }
    }

    const summary = (name: string) => {
      const runs = results.get(name)!;
      const of = (pick: (m: (typeof runs)[number]) => number) => median(runs.map(pick));
      return {
        requestsPerSecond: of((m) => m.requestsPerSecond),
        p50Ms: of((m) => m.p50Ms),
        p99Ms: of((m) => m.p99Ms),
        proxyCpuUs: of((m) => m.proxyCpuUs),
        errors: runs.reduce((sum, m) => sum + m.socketErrors + m.non2xx, 0),
        perRound: runs.map((m) => Math.round(m.requestsPerSecond)),
      };
    };
    const before = summary("before");
    const after = summary("least privilege");
    const ratio = after.requestsPerSecond / before.requestsPerSecond;
    // Each round's pair, so one noisy round shows as such.
    const pairRatios = before.perRound.map((rps, i) => after.perRound[i] / rps);
    console.log(
      `\n${benchPath} c=${connections}, wrk ${seconds} s × ${rounds} interleaved rounds, ` +
        `baseline ${baselineRef}, load ${execFileSync("cat", ["/proc/loadavg"]).toString().trim()}\n` +
        table(
          ["stack", "req/s (median)", "per round", "p50", "p99", "proxy CPU/req", "errors"],
          [
            ["before", before, "—"] as const,
            ["least privilege", after, ratio.toFixed(3)] as const,
          ].map(([name, m]) => [
            name,
            m.requestsPerSecond.toFixed(0),
            m.perRound.join(" "),
            `${m.p50Ms.toFixed(1)} ms`,
            `${m.p99Ms.toFixed(1)} ms`,
            `${m.proxyCpuUs.toFixed(0)} µs`,
            String(m.errors),
          ]),
        ) +
        // The rounds' pairs ran seconds apart, so the median of their ratios cancels most of the
        // machine's drift; the ratio of the two medians does not.
        `\nleast privilege / before, req/s: median of the round ratios ` +
        `${median(pairRatios).toFixed(3)} (rounds ${pairRatios.map((r) => r.toFixed(2)).join(" ")}); ` +
        `ratio of the medians ${ratio.toFixed(3)}`,
    );

    const throttling = hardened.map((c) => {
      const from = throttledBefore.get(c.name);
      const to = cpuThrottling(c.info.Id);
      if (!from || !to) return `${c.name}: not readable`;
      const periods = to.periods - from.periods;
      const throttled = to.throttled - from.throttled;
      return (
        `${c.name}: throttled in ${throttled} of ${periods} periods ` +
        `(${periods ? ((100 * throttled) / periods).toFixed(1) : "0"} %), ` +
        `${(to.throttledMs - from.throttledMs).toFixed(0)} ms held back`
      );
    });
    console.log(`\nCPU limits during the rounds (CFS):\n${throttling.join("\n")}`);
    const peaks = await Promise.all(hardened.map((c) => memoryPeak(docker, c.name)));
    console.log(`\nmemory, peak since deploy against the limit:\n${formatPeaks(peaks)}`);

    mkdirSync("test-results/bench", { recursive: true });
    writeFileSync(
      "test-results/bench/least-privilege.json",
      JSON.stringify(
        {
          baselineRef,
          rounds,
          seconds,
          connections,
          benchPath,
          before,
          after,
          ratio,
          pairRatios,
          throttling,
          peaks,
        },
        null,
        2,
      ),
    );
    expect(before.errors + after.errors, "errors").toBe(0);
  } finally {
    await removeBaseline(stack);
    expect(await stack.harness.destroy()).toEqual({ containers: [], networks: [] });
  }
});
