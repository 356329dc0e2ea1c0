// Load benchmark: deploys the default stack through the e2e harness, drives the proxy on
// 127.0.0.1 with autocannon (500 connections by default, bounded in time), prints the numbers,
// then destroys the stack. Numbers, not targets: compare them across changes on one machine.
//
//   npm run bench
//   BENCH_CONNECTIONS=800 BENCH_SECONDS=20 npm run bench
import autocannon from "autocannon";
import { expect, it } from "vitest";
import { deployStack } from "../test/support/e2eStack";

const connections = Number(process.env.BENCH_CONNECTIONS ?? 500);
const seconds = Math.min(Number(process.env.BENCH_SECONDS ?? 10), 60);
const port = Number(process.env.BENCH_PORT ?? 18090);

it(`proxy under ${connections} concurrent connections`, async () => {
  const stack = await deployStack({ stack: "bench", config: { proxyPort: port } });
  try {
    const timings = Object.entries(stack.harness.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`);
    console.log(`stack up at ${stack.url} (${timings.join(", ")})`);
    for (const path of ["/", "/api/animals/"]) {
      const result = await autocannon({
        url: new URL(path, stack.url).toString(),
        connections,
        duration: seconds,
        timeout: 10,
      });
      console.log(
        `${path.padEnd(14)} ${connections} connections, ${seconds}s: ` +
          `${Math.round(result.requests.average)} req/s, ` +
          `latency p50 ${result.latency.p50} ms / p99 ${result.latency.p99} ms / max ${result.latency.max} ms, ` +
          `2xx ${result["2xx"]}, non-2xx ${result.non2xx}, errors ${result.errors}, ` +
          `timeouts ${result.timeouts}, resets ${result.resets}`,
      );
    }
  } finally {
    expect(await stack.harness.destroy()).toEqual({ containers: [], networks: [] });
  }
});
