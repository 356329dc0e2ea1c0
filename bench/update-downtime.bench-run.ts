// Update downtime benchmark: deploys one stack through the e2e harness, then runs each kind of
// `pulumi up` a user runs (no-op, scaling, a rebuilt backend image, a proxy-only change) while a
// client polls through the proxy on 127.0.0.1 (a fresh session on / and one sticky session on
// /api/animals/, every 50 ms), and prints one table row per run: the plan, how long `up` took, the
// requests that failed, the longest time without an answer, whether the proxy container stayed
// the same, how long each replaced member took to stop (its drain), and the machine's load average.
// Then destroys the stack.
//
//   npm run bench -- bench/update-downtime.bench-run.ts
//
// BENCH_UPDATE_KINDS picks kinds by key (comma-separated: noop, scale-out, scale-in, page, api,
// server-name, password; all by default), BENCH_UPDATE_ROUNDS runs the picked kinds that many times
// in a row (1 by default). The rolling edits, ten times each:
//
//   BENCH_UPDATE_KINDS=page,api BENCH_UPDATE_ROUNDS=10 npm run bench -- bench/update-downtime.bench-run.ts
import { appendFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import { expect, it } from "vitest";
import { formatDowntime, startDowntimeProbe } from "../test/support/downtimeProbe";
import { baseImageConfig } from "../test/support/e2eStack";
import { DockerHarness } from "../test/support/harness/dockerHarness";
import { editedContext, type EditedContext } from "../test/support/harness/editedContext";
import { HOST_PORTS } from "../test/support/ports";

const STACK = "bench-update";
const port = HOST_PORTS.benchUpdateDowntime.ports.proxy;
const url = `http://127.0.0.1:${port}/`;

const KIND_KEYS = ["noop", "scale-out", "scale-in", "page", "api", "server-name", "password"];
const pickedKinds = (process.env.BENCH_UPDATE_KINDS ?? KIND_KEYS.join(","))
  .split(",")
  .map((key) => key.trim());
const rounds = Number(process.env.BENCH_UPDATE_ROUNDS ?? 1);

it("downtime per kind of update", async () => {
  for (const key of pickedKinds) {
    if (!KIND_KEYS.includes(key)) {
      throw new Error(
        `BENCH_UPDATE_KINDS: unknown kind ${JSON.stringify(key)} (one of ${KIND_KEYS.join(", ")})`,
      );
    }
  }
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
    throw new Error(
      `BENCH_UPDATE_ROUNDS must be an integer from 1 to 50 (got ${process.env.BENCH_UPDATE_ROUNDS})`,
    );
  }
  const harness = new DockerHarness(STACK);
  const edits: EditedContext[] = [];
  let config: Record<string, string | number> = {
    ...(await baseImageConfig(harness.docker)),
    proxyPort: port,
  };
  let secrets: Record<string, string> | undefined;
  let contextOverrides: Record<string, string> = {};
  const rows: string[] = [];
  /** The proxy container's id and start time: equal before and after means not restarted. */
  const proxyContainer = async () => {
    const info = await harness.docker.getContainer(`http-infra-${STACK}-proxy`).inspect();
    return `${info.Id} ${info.State.StartedAt}`;
  };
  try {
    await harness.up({ stack: STACK, config });
    const kinds: [string, string, () => void][] = [
      ["noop", "no-op `pulumi up`", () => {}],
      [
        "scale-out",
        "scale out 2+2 → 3+4",
        () => (config = { ...config, staticBackends: 3, dynamicBackends: 4 }),
      ],
      [
        "scale-in",
        "scale in 3+4 → 2+2",
        () => (config = { ...config, staticBackends: 2, dynamicBackends: 2 }),
      ],
      [
        "page",
        "landing page edited (static image rebuilt)",
        () => {
          const edit = editedContext("docker-images/apache-php-image", (dir) =>
            appendFileSync(path.join(dir, "index.php"), `\n<!-- bench ${Date.now()} -->\n`),
          );
          edits.push(edit);
          contextOverrides = {
            ...contextOverrides,
            "docker-images/apache-php-image": edit.directory,
          };
        },
      ],
      [
        "api",
        "API edited (dynamic image rebuilt)",
        () => {
          const edit = editedContext("docker-images/express-image", (dir) =>
            appendFileSync(path.join(dir, "app.js"), `\n// bench ${Date.now()}\n`),
          );
          edits.push(edit);
          contextOverrides = { ...contextOverrides, "docker-images/express-image": edit.directory };
        },
      ],
      [
        "server-name",
        "`serverName` changed",
        () => (config = { ...config, serverName: "bench.res.ch" }),
      ],
      [
        "password",
        "balancer-manager password set",
        () => (secrets = { balancerManagerPassword: "bench-update-password" }),
      ],
    ];
    for (let round = 1; round <= rounds; round++) {
      for (const [key, kind, change] of kinds) {
        if (!pickedKinds.includes(key)) continue;
        const label = rounds > 1 ? `${kind}, run ${round}` : kind;
        change();
        // Let the proxy's health checks settle after the previous step.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const proxyBefore = await proxyContainer();
        const probe = startDowntimeProbe(url);
        const started = performance.now();
        let plan;
        try {
          ({ plan } = await harness.up({ stack: STACK, config, secrets, contextOverrides }));
        } finally {
          console.log(formatDowntime(label, await probe.stop()));
        }
        const seconds = (performance.now() - started) / 1000;
        const downtime = await probe.stop();
        const proxy = (await proxyContainer()) === proxyBefore ? "same" : "replaced";
        const touched = (["create", "update", "replace", "delete"] as const)
          .filter((op) => plan[op].length > 0)
          .map((op) => `${op} ${plan[op].join(", ")}`)
          .join("; ");
        // How long each replaced or removed member took to stop: its drain, then its close.
        const stops = plan.steps
          .filter((step) => step.op.startsWith("delete") && step.name !== "proxy")
          .map((step) => `${step.name} ${((step.ended - step.started) / 1000).toFixed(1)}`)
          .join(", ");
        // The machine's 1-minute load average when `up` returned: timings mean little under load.
        const load = loadavg()[0].toFixed(1);
        rows.push(
          `| ${label} | ${touched || "nothing"} | ${seconds.toFixed(1)} s | ` +
            `${downtime.failed} / ${downtime.requests} | ${downtime.longestGap.toFixed(2)} s | ` +
            `${proxy} | ${stops || "-"} | ${load} |`,
        );
        console.log(rows[rows.length - 1]);
      }
    }
  } finally {
    for (const edit of edits) edit.remove();
    expect(await harness.destroy()).toEqual({ containers: [], networks: [] });
    console.log(
      [
        "| Update | Plan | `up` took | Failed requests | Longest gap | Proxy container | Member stops (s) | Load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
      ].join("\n"),
    );
  }
});
