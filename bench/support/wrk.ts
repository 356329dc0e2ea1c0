// Runs wrk (https://github.com/wg/wrk) against 127.0.0.1 and parses its report. wrk rather than
// autocannon: on 2 cores the load generator shares the CPU with the fronts it measures, and wrk's
// two C threads take a fraction of what a Node load generator does for the same rate.
import { spawnSync } from "node:child_process";
import { assertLoopback } from "../../test/support/httpSession";

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** connect, read, write and timeout errors, summed. */
  socketErrors: number;
  socketErrorDetail: string;
  non2xx: number;
}

/** Fails with the install command when wrk is missing: the benchmark can't run without it. */
export function assertWrkInstalled(): void {
  const probe = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (probe.error) {
    throw new Error(
      "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)",
    );
  }
}

function milliseconds(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (!match) throw new Error(`wrk: cannot read the duration ${JSON.stringify(value)}`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as "us" | "ms" | "s" | "m"];
  return Number(match[1]) * scale;
}

export function parseWrk(output: string): WrkResult {
  const number = (pattern: RegExp, fallback?: number) => {
    const match = pattern.exec(output);
    if (match) return Number(match[1]);
    if (fallback !== undefined) return fallback;
    throw new Error(`wrk: no ${pattern} in its output:\n${output}`);
  };
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(output);
    if (!match) throw new Error(`wrk: no ${p}% latency in its output:\n${output}`);
    return milliseconds(match[1]);
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const [connect, read, write, timeout] = socket ? socket.slice(1).map(Number) : [0, 0, 0, 0];
  return {
    requestsPerSecond: number(/^Requests\/sec:\s+([\d.]+)/m),
    requests: number(/^\s+(\d+) requests in/m),
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    socketErrors: connect + read + write + timeout,
    socketErrorDetail: `connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`,
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/, 0),
  };
}

/** One wrk run, bounded by its duration (plus a margin for wrk itself). */
export function runWrk(options: {
  url: string;
  connections: number;
  seconds: number;
  threads?: number;
}): WrkResult {
  assertLoopback(options.url);
  const args = [
    `--threads=${options.threads ?? 2}`,
    `--connections=${options.connections}`,
    `--duration=${options.seconds}s`,
    // A request unanswered after 5 s counts as a socket timeout, as the cold-start measurements count it.
    "--timeout=5s",
    "--latency",
    options.url,
  ];
  const run = spawnSync("wrk", args, {
    encoding: "utf8",
    timeout: (options.seconds + 30) * 1000,
  });
  if (run.status !== 0) {
    throw new Error(
      `wrk ${args.join(" ")} failed (${run.error?.message ?? run.status}): ${run.stderr}`,
    );
  }
  return parseWrk(run.stdout);
}
