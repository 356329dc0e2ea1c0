// Update downtime benchmark: deploys one stack through the e2e harness, then runs each kind of
// `pulumi up` a user runs (no-op, scaling, a rebuilt backend image, a proxy-only change) while a
// client polls through the proxy on 127.0.0.1 (a fresh session on / and one sticky session on
// /api/animals/, every 50 ms), and prints one table row per kind: the plan, the requests that
// failed, and the longest time without an answer. Then destroys the stack.
//
//   npm run bench -- bench/update-downtime.bench-run.ts
import { appendFileSync } from "node:fs";
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

it("downtime per kind of update", async () => {
  const harness = new DockerHarness(STACK);
  const edits: EditedContext[] = [];
  let config: Record<string, string | number> = {
    ...(await baseImageConfig(harness.docker)),
    proxyPort: port,
  };
  let secrets: Record<string, string> | undefined;
  let contextOverrides: Record<string, string> = {};
  const rows: string[] = [];
  try {
    await harness.up({ stack: STACK, config });
    const kinds: [string, () => void][] = [
      ["no-op `pulumi up`", () => {}],
      [
        "scale out 2+2 → 3+4",
        () => (config = { ...config, staticBackends: 3, dynamicBackends: 4 }),
      ],
      ["scale in 3+4 → 2+2", () => (config = { ...config, staticBackends: 2, dynamicBackends: 2 })],
      [
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
        "API edited (dynamic image rebuilt)",
        () => {
          const edit = editedContext("docker-images/express-image", (dir) =>
            appendFileSync(path.join(dir, "app.js"), `\n// bench ${Date.now()}\n`),
          );
          edits.push(edit);
          contextOverrides = { ...contextOverrides, "docker-images/express-image": edit.directory };
        },
      ],
      ["`serverName` changed", () => (config = { ...config, serverName: "bench.res.ch" })],
      [
        "balancer-manager password set",
        () => (secrets = { balancerManagerPassword: "bench-update-password" }),
      ],
    ];
    for (const [kind, change] of kinds) {
      change();
      // Let the proxy's health checks settle after the previous step.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const probe = startDowntimeProbe(url);
      const started = performance.now();
      let plan;
      try {
        ({ plan } = await harness.up({ stack: STACK, config, secrets, contextOverrides }));
      } finally {
        console.log(formatDowntime(kind, await probe.stop()));
      }
      const seconds = (performance.now() - started) / 1000;
      const downtime = await probe.stop();
      const touched = (["create", "update", "replace", "delete"] as const)
        .filter((op) => plan[op].length > 0)
        .map((op) => `${op} ${plan[op].join(", ")}`)
        .join("; ");
      rows.push(
        `| ${kind} | ${touched || "nothing"} | ${seconds.toFixed(1)} s | ` +
          `${downtime.failed} / ${downtime.requests} | ${downtime.longestGap.toFixed(2)} s |`,
      );
    }
  } finally {
    for (const edit of edits) edit.remove();
    expect(await harness.destroy()).toEqual({ containers: [], networks: [] });
    console.log(
      [
        "| Update | Plan | `up` took | Failed requests | Longest gap |",
        "| --- | --- | --- | --- | --- |",
        ...rows,
      ].join("\n"),
    );
  }
});
