// A crowd arriving at a freshly deployed stack: for each load and each front, a fresh
// deploy, then at once N new sessions x M requests on /api/animals/ (each session its own cookie
// jar and keep-alive connection, a 5 s client timeout). The proxy's burst goes to the stack's own
// proxy; HAProxy's to a fresh bench/haproxy on a fresh stack's backends, so both meet cold members.
// The fronts take turns going first from round to round. Prints numbers; asserts none.
//
//   npm run bench                       # both benchmark files
//   COLD_ROUNDS=3 npx vitest run --config bench/vitest.config.ts bench/cold.bench-run.ts
//
// Load goes to 127.0.0.1 only; every burst is bounded (requests x the 5 s timeout).
import { mkdirSync, writeFileSync } from "node:fs";
import { expect, it } from "vitest";
import { deployStack } from "../test/support/e2eStack";
import { coldBurst, quantile, type BurstResult } from "../test/support/coldBurst";
import { HOST_PORTS } from "../test/support/ports";
import { removeFronts, startHaproxy } from "./support/fronts";
import { median, table } from "./support/report";

const PORTS = HOST_PORTS.benchCold.ports;
const rounds = Math.min(Number(process.env.COLD_ROUNDS ?? 2), 5);
const loads = [
  { sessions: 500, requestsPerSession: 20 },
  { sessions: 1000, requestsPerSession: 10 },
];
type ColdFront = "HAProxy" | "proxy";

/** A fresh stack, then at once the burst through one front; everything removed afterwards. */
async function coldRun(front: ColdFront, load: (typeof loads)[number]): Promise<BurstResult> {
  const stack = await deployStack({ stack: "bench-cold", config: { proxyPort: PORTS.proxy } });
  try {
    const url =
      front === "proxy"
        ? stack.url
        : (await startHaproxy(stack, { port: PORTS.haproxy, accessLog: true })).url;
    return await coldBurst({ url, ...load, timeoutMs: 5_000 });
  } finally {
    await removeFronts(stack);
    expect(await stack.harness.destroy()).toEqual({ containers: [], networks: [] });
  }
}

it("serves a crowd of new sessions on a fresh deploy: the proxy beside HAProxy", async () => {
  const results = new Map<string, BurstResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const load of loads) {
      const fronts: ColdFront[] = round % 2 === 0 ? ["proxy", "HAProxy"] : ["HAProxy", "proxy"];
      for (const front of fronts) {
        const result = await coldRun(front, load);
        const key = `${load.sessions} × ${load.requestsPerSession} ${front}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        console.log(
          `cold round ${round + 1} ${key}: ${result.errors.length} errors ` +
            `(${result.timeouts} timeouts), p99 ${quantile(result.latenciesMs, 0.99).toFixed(0)} ms, ` +
            `slowest ${(result.latenciesMs.at(-1) ?? 0).toFixed(0)} ms, ${result.seconds.toFixed(1)} s` +
            (result.errors.length ? `; first errors: ${result.errors.slice(0, 3).join("; ")}` : ""),
        );
      }
    }
  }
  const rows = [...results].map(([key, runs]) => {
    const [load, front] = [key.slice(0, key.lastIndexOf(" ")), key.slice(key.lastIndexOf(" ") + 1)];
    const ms = (values: number[]) => values.map((v) => v.toFixed(0)).join(", ");
    return [
      load,
      front,
      runs.map((r) => r.errors.length).join(", "),
      runs.map((r) => r.timeouts).join(", "),
      ms(runs.map((r) => r.latenciesMs.at(-1) ?? 0)),
      ms(runs.map((r) => quantile(r.latenciesMs, 0.99))),
      `${median(runs.map((r) => quantile(r.latenciesMs, 0.5))).toFixed(0)}`,
      `${median(runs.map((r) => (r.sessions * r.requestsPerSession) / r.seconds)).toFixed(0)}`,
    ];
  });
  console.log(
    `\ncold burst on /api/animals/: a fresh deploy per run, ${rounds} run(s) per row ` +
      `(values per run; 5 s client timeout)\n` +
      table(
        [
          "sessions × requests",
          "front",
          "errors",
          "timeouts",
          "slowest ms",
          "p99 ms",
          "median p50 ms",
          "median req/s",
        ],
        rows,
      ),
  );
  mkdirSync("test-results/bench", { recursive: true });
  writeFileSync(
    "test-results/bench/cold.json",
    JSON.stringify({ rounds, startedAt: new Date().toISOString(), rows }, null, 2),
  );
});
