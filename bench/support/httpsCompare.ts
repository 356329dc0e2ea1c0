// The HTTPS comparison: the stack's proxy terminating TLS beside both HAProxys terminating it with
// the same certificate, on the same dynamic backends (/api/animals/), in interleaved rounds. Two
// loads per front and round:
//   keep-alive   wrk, 2 threads, 50 connections held open: requests per second over TLS;
//   handshakes   `openssl s_time -new` clients: a new connection, a full handshake and one GET each.
// Every figure is also read as CPU per request (or per connection) from the front's cgroup counter.
// Both loads speak HTTP/1.1 (neither offers ALPN), so h2 plays no part on either front.
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import type { DeployedStack } from "../../test/support/e2eStack";
import { totalCpuNanoseconds } from "./cpu";
import { HTTPS_FRONT_NAMES, httpsTargets, type HttpsFrontName, type HttpsTarget } from "./fronts";
import { runHandshakes } from "./handshakes";
import { median, medianPairedRatio, table } from "./report";
import { runWrk } from "./wrk";

const PATH = "/api/animals/";

export interface HttpsRound {
  round: number;
  loadAverage: number;
  keepAlive: Record<
    HttpsFrontName,
    { requestsPerSecond: number; p99Ms: number; errors: number; frontCpuUs: number }
  >;
  handshakes: Record<
    HttpsFrontName,
    { perSecond: number; bytes: number; failures: number; frontCpuUs: number }
  >;
}

/** One load run against one front: its figures, and the count its front's CPU is divided by. */
type Load<Figures> = (target: HttpsTarget) => Promise<{ count: number; figures: Figures }>;

/** A load's figures with the front's CPU (µs) per counted unit, from its cgroup counter. */
async function withFrontCpu<Figures>(
  stack: DeployedStack,
  target: HttpsTarget,
  load: Load<Figures>,
): Promise<Figures & { frontCpuUs: number }> {
  const docker = stack.harness.docker;
  const before = await totalCpuNanoseconds(docker, [target.frontId]);
  const { count, figures } = await load(target);
  const after = await totalCpuNanoseconds(docker, [target.frontId]);
  return { ...figures, frontCpuUs: (after - before) / 1000 / Math.max(count, 1) };
}

/**
 * What an OpenSSL 3 client (the library of wrk and s_time) negotiates with a front, from
 * `openssl s_client -brief`: protocol, suite, key exchange. The same on every front, or the
 * comparison is not like with like.
 */
export function negotiated(port: number): string {
  const run = spawnSync("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-brief"], {
    input: "",
    encoding: "utf8",
    timeout: 10_000,
  });
  const text = `${run.stdout}${run.stderr}`;
  const field = (name: string) => new RegExp(`^${name}: (.+)$`, "m").exec(text)?.[1] ?? "?";
  return [field("Protocol version"), field("Ciphersuite"), field("Server Temp Key")].join(", ");
}

export async function compareHttps(
  stack: DeployedStack,
  options: { rounds: number; seconds: number; connections: number; handshakeClients: number },
) {
  const targets = await httpsTargets(stack);
  const handshake = Object.fromEntries(
    HTTPS_FRONT_NAMES.map((front) => [front, negotiated(targets[front].port)]),
  ) as Record<HttpsFrontName, string>;
  console.log(`https: what an OpenSSL client negotiates: ${JSON.stringify(handshake)}`);
  const keepAlive: Load<Omit<HttpsRound["keepAlive"][HttpsFrontName], "frontCpuUs">> = async (
    target,
  ) => {
    const result = runWrk({
      url: `https://127.0.0.1:${target.port}${PATH}`,
      connections: options.connections,
      seconds: options.seconds,
    });
    return {
      count: result.requests,
      figures: {
        requestsPerSecond: result.requestsPerSecond,
        p99Ms: result.p99Ms,
        errors: result.socketErrors + result.non2xx,
      },
    };
  };
  const handshakes: Load<Omit<HttpsRound["handshakes"][HttpsFrontName], "frontCpuUs">> = async (
    target,
  ) => {
    const result = await runHandshakes({
      port: target.port,
      path: PATH,
      seconds: options.seconds,
      clients: options.handshakeClients,
    });
    if (result.failures.length > 0) console.log(`${target.front} s_time:`, result.failures);
    return {
      count: result.connections,
      figures: {
        perSecond: result.perSecond,
        bytes: result.bytesPerConnection,
        failures: result.failures.length,
      },
    };
  };
  const rounds: HttpsRound[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const shift = round % HTTPS_FRONT_NAMES.length;
    const order = [...HTTPS_FRONT_NAMES.slice(shift), ...HTTPS_FRONT_NAMES.slice(0, shift)];
    const entry = { round: round + 1, loadAverage: loadavg()[0] } as HttpsRound;
    entry.keepAlive = {} as HttpsRound["keepAlive"];
    entry.handshakes = {} as HttpsRound["handshakes"];
    for (const front of order) {
      entry.keepAlive[front] = await withFrontCpu(stack, targets[front], keepAlive);
    }
    for (const front of order) {
      entry.handshakes[front] = await withFrontCpu(stack, targets[front], handshakes);
    }
    rounds.push(entry);
    console.log(
      `https round ${round + 1} (load ${entry.loadAverage.toFixed(1)}): ` +
        HTTPS_FRONT_NAMES.map(
          (front) =>
            `${front} ${entry.keepAlive[front].requestsPerSecond.toFixed(0)} req/s ` +
            `${entry.handshakes[front].perSecond.toFixed(0)} new conn/s`,
        ).join(", "),
    );
  }
  return { negotiated: handshake, rounds, ...summarize(rounds) };
}

/** Per front: medians over the rounds. For the proxy: the medians of its paired per-round ratios. */
export function summarize(rounds: HttpsRound[]) {
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const medians = (front: HttpsFrontName) => {
    const keepAlive = rounds.map((round) => round.keepAlive[front]);
    const handshakes = rounds.map((round) => round.handshakes[front]);
    return {
      requestsPerSecond: median(keepAlive.map((m) => m.requestsPerSecond)),
      p99Ms: median(keepAlive.map((m) => m.p99Ms)),
      keepAliveErrors: sum(keepAlive.map((m) => m.errors)),
      cpuUsPerRequest: median(keepAlive.map((m) => m.frontCpuUs)),
      handshakesPerSecond: median(handshakes.map((m) => m.perSecond)),
      cpuUsPerHandshake: median(handshakes.map((m) => m.frontCpuUs)),
      handshakeFailures: sum(handshakes.map((m) => m.failures)),
      bytesPerConnection: Math.min(...handshakes.map((m) => m.bytes)),
    };
  };
  const fronts = {
    HAProxy: medians("HAProxy"),
    "HAProxy no-log": medians("HAProxy no-log"),
    proxy: medians("proxy"),
  } satisfies Record<HttpsFrontName, ReturnType<typeof medians>>;
  const proxyOver = (reference: HttpsFrontName) => {
    const ratio = (pick: (round: HttpsRound, front: HttpsFrontName) => number) =>
      medianPairedRatio(
        rounds.map((round) => pick(round, "proxy")),
        rounds.map((round) => pick(round, reference)),
      );
    return {
      requestsPerSecond: ratio((r, f) => r.keepAlive[f].requestsPerSecond),
      handshakesPerSecond: ratio((r, f) => r.handshakes[f].perSecond),
      cpuPerRequest: ratio((r, f) => r.keepAlive[f].frontCpuUs),
      cpuPerHandshake: ratio((r, f) => r.handshakes[f].frontCpuUs),
    };
  };
  const loads = rounds.map((round) => round.loadAverage);
  return {
    fronts,
    proxyOverHaproxy: proxyOver("HAProxy"),
    proxyOverHaproxyNoLog: proxyOver("HAProxy no-log"),
    loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
  };
}

/** The comparison as two Markdown tables: the fronts' medians, then the proxy's paired ratios. */
export function formatHttps(summary: ReturnType<typeof summarize>, rounds: number): string {
  const f = (value: number, digits = 0) => value.toFixed(digits);
  const frontRows = HTTPS_FRONT_NAMES.map((front) => {
    const m = summary.fronts[front];
    return [
      front,
      f(m.requestsPerSecond),
      `${f(m.p99Ms, 1)} ms`,
      `${f(m.cpuUsPerRequest)} µs`,
      f(m.handshakesPerSecond),
      `${f(m.cpuUsPerHandshake)} µs`,
      f(m.bytesPerConnection),
      `${m.keepAliveErrors} / ${m.handshakeFailures}`,
    ];
  });
  const ratioRows = (
    [
      ["HAProxy (logging)", summary.proxyOverHaproxy],
      ["HAProxy no-log", summary.proxyOverHaproxyNoLog],
    ] as const
  ).map(([name, r]) => [
    `proxy / ${name}`,
    f(r.requestsPerSecond, 2),
    f(r.handshakesPerSecond, 2),
    f(r.cpuPerRequest, 2),
    f(r.cpuPerHandshake, 2),
  ]);
  return (
    `HTTPS on ${PATH}, median of ${rounds} interleaved rounds (load average ` +
    `${f(summary.loadAverage.min, 1)}–${f(summary.loadAverage.max, 1)})\n` +
    table(
      [
        "front",
        "keep-alive req/s",
        "p99",
        "CPU/req",
        "new conn/s",
        "CPU/conn",
        "bytes/conn",
        "errors (keep-alive / s_time)",
      ],
      frontRows,
    ) +
    "\n\nthe proxy's ratios, medians of the rounds' paired ratios (targets: req/s and conn/s ≥ 0.9)\n" +
    table(["", "keep-alive req/s", "new conn/s", "CPU/req", "CPU/conn"], ratioRows)
  );
}
