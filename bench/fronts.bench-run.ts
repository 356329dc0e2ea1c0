// The stack's proxy beside a reference HAProxy and the backends reached directly, in one run on
// the same backends, over plain HTTP and then over HTTPS (the proxy with tlsMode given, both
// HAProxys terminating TLS with the same certificate). Prints numbers; asserts nothing about them
// (the machine is shared and noisy): compare the fronts within one run, and runs across changes on
// one machine.
//
//   npm run bench -- bench/fronts.bench-run.ts     # 3 interleaved rounds of 10 s per measurement
//   BENCH_ROUNDS=5 BENCH_SECONDS=20 npm run bench -- bench/fronts.bench-run.ts
//   BENCH_PARTS=https npm run bench -- bench/fronts.bench-run.ts   # some parts only
//
// Parts (BENCH_PARTS, comma-separated, all by default): sticky, http, https, warm.
// Load goes to 127.0.0.1 only, and every load is bounded in time or in requests.
import { writeFileSync, mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { afterAll, expect, it } from "vitest";
import { stackContainers } from "../test/support/cisCheck";
import { baseImageConfig, deployStack, type DeployedStack } from "../test/support/e2eStack";
import { formatPeaks, memoryPeak } from "../test/support/memoryPeaks";
import { formatSplit, stickyLoad } from "../test/support/stickyLoad";
import { createTestCa } from "../test/support/testCa";
import { totalCpuNanoseconds } from "./support/cpu";
import {
  BENCH_PATHS,
  BENCH_PORTS,
  FRONT_NAMES,
  removeFronts,
  startFronts,
  type BenchPath,
  type FrontName,
  type Target,
} from "./support/fronts";
import { assertOpensslInstalled } from "./support/handshakes";
import { compareHttps, formatHttps } from "./support/httpsCompare";
import { median, table } from "./support/report";
import { assertWrkInstalled, runWrk, type WrkResult } from "./support/wrk";

const rounds = Math.min(Number(process.env.BENCH_ROUNDS ?? 3), 9);
const seconds = Math.min(Number(process.env.BENCH_SECONDS ?? 10), 60);
const PARTS = ["sticky", "http", "https", "warm"] as const;
const parts = new Set((process.env.BENCH_PARTS ?? PARTS.join(",")).split(",").map((p) => p.trim()));
for (const part of parts) {
  if (!(PARTS as readonly string[]).includes(part)) {
    throw new Error(
      `BENCH_PARTS: unknown part ${JSON.stringify(part)} (parts: ${PARTS.join(", ")})`,
    );
  }
}
/** The issue's measurement (wrk, 2 threads, 50 connections), and a wide one at 500. */
const connectionCounts = [50, 500];
const stickyLoads = [
  { sessions: 200, requestsPerSession: 50 },
  { sessions: 500, requestsPerSession: 20 },
];
/** openssl s_time processes at once for the new-connection rate (each makes one at a time). */
const handshakeClients = Math.min(Number(process.env.BENCH_HANDSHAKE_CLIENTS ?? 8), 32);

/** One certificate for every front's HTTPS: an EC P-256 key, as the HTTPS suites use. */
const SERVER_NAME = "bench.res.ch";
const ca = createTestCa();
const certificate = ca.issue({ names: [SERVER_NAME, "127.0.0.1"] });
afterAll(() => ca.dispose());

interface Measurement extends WrkResult {
  frontCpuUsPerRequest?: number;
  backendCpuUsPerRequest: number;
}

async function measure(stack: DeployedStack, target: Target, connections: number) {
  const docker = stack.harness.docker;
  const ids = [...(target.frontId ? [target.frontId] : []), ...target.backendIds];
  const before = await Promise.all(ids.map((id) => totalCpuNanoseconds(docker, [id])));
  const result = runWrk({ url: target.url, connections, seconds });
  const after = await Promise.all(ids.map((id) => totalCpuNanoseconds(docker, [id])));
  const perRequestUs = (from: number, to: number) =>
    (after.slice(from, to).reduce((a, b) => a + b, 0) -
      before.slice(from, to).reduce((a, b) => a + b, 0)) /
    1000 /
    Math.max(result.requests, 1);
  const frontCount = target.frontId ? 1 : 0;
  return {
    ...result,
    frontCpuUsPerRequest: target.frontId ? perRequestUs(0, 1) : undefined,
    backendCpuUsPerRequest: perRequestUs(frontCount, ids.length),
  } satisfies Measurement;
}

/** Polls until the URL answers 200; bounded. Returns the seconds it took. */
async function secondsToFirst200(url: string, startedAt: number, limitSeconds = 60) {
  for (let attempt = 0; attempt < limitSeconds * 10; attempt++) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return (performance.now() - startedAt) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${limitSeconds}s`);
}

it("compares the proxy with HAProxy and with the backends reached directly", async () => {
  assertWrkInstalled();
  assertOpensslInstalled();
  const report: Record<string, unknown> = {
    rounds,
    seconds,
    parts: [...parts],
    startedAt: new Date().toISOString(),
    loadAverageAtStart: loadavg()[0],
  };
  const deployStarted = performance.now();
  let stack = await deployStack({
    stack: "bench-fronts",
    config: { proxyPort: BENCH_PORTS.proxy },
  });
  try {
    const firstDeploy = await secondsToFirst200(stack.url, deployStarted);
    console.log(`deploy to the first 200 (build cache as found): ${firstDeploy.toFixed(1)}s`);
    const target = await startFronts(stack, certificate);

    // Sticky sessions first, on the fresh deploy (where a fresh proxy once split 500 new sessions 500/0).
    const stickyRows: string[][] = [];
    for (const load of parts.has("sticky") ? stickyLoads : []) {
      for (const front of ["HAProxy", "proxy"] as FrontName[]) {
        const result = await stickyLoad({ url: target(front, "/").url, ...load });
        const sticky = 1 - result.movedSessions / result.sessions;
        stickyRows.push([
          `${load.sessions} × ${load.requestsPerSession}`,
          front,
          String(result.errors.length),
          `${(sticky * 100).toFixed(1)} %`,
          formatSplit(result.sessionsPerBackend),
          result.seconds.toFixed(1),
        ]);
        if (result.errors.length > 0)
          console.log(`${front} errors (first 5):`, result.errors.slice(0, 5));
      }
    }
    if (parts.has("sticky")) {
      console.log(
        "\nsticky sessions on /api/animals/ (each session its own cookie jar; 5 s timeout)\n" +
          table(
            ["sessions × requests", "front", "errors", "sticky", "sessions per backend", "seconds"],
            stickyRows,
          ),
      );
    }
    report.sticky = stickyRows;

    // Throughput: every front, path and connection count once per round, the order rotating from
    // round to round so no front always runs first (or right after the heaviest one).
    const results = new Map<string, Measurement[]>();
    const key = (front: FrontName, path: BenchPath, connections: number) =>
      `${front} ${path} ${connections}`;
    for (let round = 0; round < (parts.has("http") ? rounds : 0); round++) {
      const shift = round % FRONT_NAMES.length;
      const order = [...FRONT_NAMES.slice(shift), ...FRONT_NAMES.slice(0, shift)];
      for (const connections of connectionCounts) {
        for (const path of BENCH_PATHS) {
          for (const front of order) {
            const m = await measure(stack, target(front, path), connections);
            const k = key(front, path, connections);
            results.set(k, [...(results.get(k) ?? []), m]);
            console.log(
              `round ${round + 1} ${k}: ${m.requestsPerSecond.toFixed(0)} req/s, ` +
                `p99 ${m.p99Ms.toFixed(1)} ms, socket errors ${m.socketErrorDetail}, non-2xx ${m.non2xx}`,
            );
          }
        }
      }
    }

    const rows: string[][] = [];
    const summary: Record<string, unknown> = {};
    for (const connections of parts.has("http") ? connectionCounts : []) {
      for (const path of BENCH_PATHS) {
        const medians = (front: FrontName) => {
          const runs = results.get(key(front, path, connections))!;
          const of = (pick: (m: Measurement) => number) => median(runs.map(pick));
          return {
            requestsPerSecond: of((m) => m.requestsPerSecond),
            p50Ms: of((m) => m.p50Ms),
            p99Ms: of((m) => m.p99Ms),
            socketErrors: runs.reduce((sum, m) => sum + m.socketErrors, 0),
            non2xx: runs.reduce((sum, m) => sum + m.non2xx, 0),
            frontCpuUsPerRequest:
              runs[0].frontCpuUsPerRequest === undefined
                ? undefined
                : of((m) => m.frontCpuUsPerRequest!),
            backendCpuUsPerRequest: of((m) => m.backendCpuUsPerRequest),
          };
        };
        const haproxy = medians("HAProxy");
        const haproxyNoLog = medians("HAProxy no-log");
        const direct = medians("direct");
        const ratio = (value: number, reference: number) => (value / reference).toFixed(2);
        for (const front of FRONT_NAMES) {
          const m = medians(front);
          summary[key(front, path, connections)] = m;
          rows.push([
            path,
            String(connections),
            front,
            m.requestsPerSecond.toFixed(0),
            `${m.p50Ms.toFixed(1)} ms`,
            `${m.p99Ms.toFixed(1)} ms`,
            `${m.socketErrors} / ${m.non2xx}`,
            m.frontCpuUsPerRequest === undefined ? "—" : `${m.frontCpuUsPerRequest.toFixed(0)} µs`,
            `${m.backendCpuUsPerRequest.toFixed(0)} µs`,
            ratio(m.requestsPerSecond, haproxy.requestsPerSecond),
            ratio(m.requestsPerSecond, haproxyNoLog.requestsPerSecond),
            ratio(m.requestsPerSecond, direct.requestsPerSecond),
            front === "proxy"
              ? `${ratio(m.frontCpuUsPerRequest!, haproxy.frontCpuUsPerRequest!)} / ` +
                ratio(m.frontCpuUsPerRequest!, haproxyNoLog.frontCpuUsPerRequest!)
              : "",
          ]);
        }
      }
    }
    if (parts.has("http")) {
      console.log(
        `\nwrk, 2 threads, ${seconds} s per run, median of ${rounds} interleaved rounds ` +
          `(errors: sum over the rounds)\n` +
          table(
            [
              "path",
              "conns",
              "front",
              "req/s",
              "p50",
              "p99",
              "socket errors / non-2xx",
              "CPU/req front",
              "CPU/req backends",
              "× HAProxy",
              "× HAProxy no-log",
              "× direct",
              "front CPU × HAProxy / × no-log",
            ],
            rows,
          ),
      );
    }
    report.throughput = summary;

    // Each container's memory peak over the whole bench (sticky loads, 50 and 500 connections on
    // both paths) against its limit: what the default limits are sized from.
    const containers = await stackContainers(stack.harness.docker, stack.harness.stack);
    const peaks = await Promise.all(
      containers.map((c) => memoryPeak(stack.harness.docker, c.name)),
    );
    console.log(`\nmemory, peak over the bench against the limit:\n${formatPeaks(peaks)}`);
    report.memoryPeaks = peaks;

    // HTTPS: the same stack with tlsMode given (the proxy is replaced; the backends and both
    // HAProxys stay), every front on the same certificate.
    if (parts.has("https")) {
      const { plan } = await stack.harness.up({
        stack: "bench-fronts",
        config: {
          ...(await baseImageConfig(stack.harness.docker)),
          proxyPort: BENCH_PORTS.proxy,
          serverName: SERVER_NAME,
          tlsMode: "given",
          tlsCertificate: certificate.chain,
          httpsPort: BENCH_PORTS.proxyHttps,
        },
        secrets: { tlsPrivateKey: certificate.privateKey },
      });
      console.log(`\nHTTPS on: ${plan.replace.join(", ")} replaced`);
      const https = await compareHttps(stack, {
        rounds,
        seconds,
        connections: 50,
        handshakeClients,
      });
      console.log(`\n${formatHttps(https, rounds)}`);
      report.https = https;
    }
  } finally {
    await removeFronts(stack);
    expect(await stack.harness.destroy()).toEqual({ containers: [], networks: [] });
  }

  report.loadAverageAtEnd = loadavg()[0];
  mkdirSync("test-results/bench", { recursive: true });
  writeFileSync("test-results/bench/fronts.json", JSON.stringify(report, null, 2));
  if (!parts.has("warm")) return;

  // Warm deploy: the images are in the build cache now, as on a developer's second `pulumi up`.
  const warmStarted = performance.now();
  stack = await deployStack({ stack: "bench-fronts", config: { proxyPort: BENCH_PORTS.proxy } });
  try {
    const warm = await secondsToFirst200(stack.url, warmStarted);
    const phases = Object.entries(stack.harness.timings)
      .map(([phase, s]) => `${phase} ${s.toFixed(1)}s`)
      .join(", ");
    console.log(
      `\nwarm deploy of the default stack to the first 200: ${warm.toFixed(1)}s (${phases})`,
    );
    report.warmDeploySeconds = warm;
  } finally {
    expect(await stack.harness.destroy()).toEqual({ containers: [], networks: [] });
  }
  mkdirSync("test-results/bench", { recursive: true });
  writeFileSync("test-results/bench/fronts.json", JSON.stringify(report, null, 2));
});
