// A/B of proxy variants: copies of docker-images/apache-reverse-proxy with one change
// each, built and run beside the stack's backends with the stack proxy's environment, measured
// with wrk in interleaved rounds beside both HAProxy variants. How docs/performance.md's "what each costs"
// table was made. Runs only when PROXY_VARIANTS names the variants (it builds an image per
// variant and takes minutes):
//
//   PROXY_VARIANTS=base,mkar100,nolog,norewrite npx vitest run --config bench/vitest.config.ts \
//     bench/proxy-variants.bench-run.ts
//
// Variants combine with "+" (e.g. mkar100+nolog). Load goes to 127.0.0.1 only, bounded in time.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PROXY_PORT } from "../src/proxyEnvironment";
import { deployStack } from "../test/support/e2eStack";
import { HOST_PORTS, portFrom } from "../test/support/ports";
import { totalCpuNanoseconds } from "./support/cpu";
import { removeFronts, startHaproxy } from "./support/fronts";
import { median, table } from "./support/report";
import { buildProxyVariant } from "./support/proxyVariant";
import { runWrk } from "./support/wrk";

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const path = process.env.BENCH_PATH ?? "/api/animals/";
const variants = (process.env.PROXY_VARIANTS ?? "").split(",").filter(Boolean);
const PORTS = HOST_PORTS.benchProxyVariants;

type Edit = (dir: string) => void;
const edit =
  (file: string, from: string | RegExp, to: string): Edit =>
  (dir) => {
    const p = `${dir}/${file}`;
    const text = readFileSync(p, "utf8");
    const next = text.replace(from, to);
    if (next === text) throw new Error(`variant edit did not apply to ${file}: ${from}`);
    writeFileSync(p, next);
  };
const append =
  (file: string, text: string): Edit =>
  (dir) => {
    const p = `${dir}/${file}`;
    writeFileSync(p, readFileSync(p, "utf8") + "\n" + text + "\n");
  };
const TPL = "templates/config-template.php";
const ZZ = "conf/conf-available/zz-reverse-proxy.conf";
const MPM = "conf/conf-available/reverse-proxy-mpm-worker.conf";
/** Each variant is a list of edits to the copied image directory. */
const EDITS: Record<string, Edit[]> = {
  base: [],
  // Debian's default, which the image overrides with 0 (unlimited requests per connection)
  mkar100: [append(ZZ, "MaxKeepAliveRequests 100")],
  nolog: [edit(TPL, / {4}CustomLog .*\n/, "")],
  norewrite: [
    edit(TPL, / {4}RewriteEngine On\n/, ""),
    edit(TPL, / {4}RewriteCond .*\n/, ""),
    edit(TPL, / {4}RewriteRule .*\n/, ""),
  ],
  noreqtimeout: [
    edit("Dockerfile", "\t\tnegotiation \\\n", "\t\tnegotiation \\\n\t\treqtimeout \\\n"),
  ],
  nosetenvif: [edit(TPL, / {4}SetEnvIf .*\n/, ""), edit(TPL, / env=!proxy_healthcheck/, "")],
  nohcheck: [
    edit(TPL, / \. ' hcmethod=GET hcuri=\/healthz hcinterval=2 hcfails=3 hcpasses=2'/, ""),
  ],
  threads256: [edit(MPM, /1024/g, "256")],
  event: [edit("Dockerfile", "a2enmod mpm_worker", "a2enmod mpm_event")],
  // swarm mode's member connections (BALANCER_MEMBER_CONNECTIONS=per-request): one per request
  perrequest: [
    edit(TPL, /(const MEMBER_OPTIONS = '[^']*')/, "$1 . ' disablereuse=On addressttl=-1 retry=60'"),
  ],
};
function withAll(name: string): Edit[] {
  return name.split("+").flatMap((part) => {
    const e = EDITS[part];
    if (!e) throw new Error(`unknown variant ${part}`);
    return e;
  });
}

describe.runIf(variants.length > 0)("proxy variants (PROXY_VARIANTS)", () => {
  it("compares proxy variants with both HAProxy variants on one stack's backends", async () => {
    // Every variant's port first: too many variants fail here, before anything is deployed.
    const variantPorts = variants.map((_, i) => portFrom(PORTS, PORTS.ports.firstVariant, i));
    const stack = await deployStack({
      stack: "bench-cold-variants",
      config: { proxyPort: PORTS.ports.proxy },
    });
    const docker = stack.harness.docker;
    const started: string[] = [];
    try {
      const proxyInfo = await docker
        .getContainer(stack.run.outputs.proxyContainerName as string)
        .inspect();
      const envs = proxyInfo.Config.Env.filter((e) =>
        /^(STATIC|DYNAMIC)_APP_|^SERVER_NAME/.test(e),
      );
      const fronts: { name: string; url: string; id: string }[] = [];
      const h = await startHaproxy(stack, { port: PORTS.ports.haproxy, accessLog: true });
      fronts.push({ name: "HAProxy", url: h.url + path, id: h.id });
      const hn = await startHaproxy(stack, {
        port: PORTS.ports.haproxyNoLog,
        accessLog: false,
      });
      fronts.push({ name: "HAProxy no-log", url: hn.url + path, id: hn.id });
      for (const [i, v] of variants.entries()) {
        const port = variantPorts[i];
        const image = await buildProxyVariant(docker, {
          tag: `http-infra-bench-cold-variants-proxy-${v.replace(/\+/g, "-")}:latest`,
          baseImage: "http-infra-base/php-apache:8.4-bookworm",
          edits: withAll(v),
        });
        const name = `http-infra-bench-cold-variants-variant-${v.replace(/\+/g, "-")}`;
        await docker
          .getContainer(name)
          .remove({ force: true })
          .catch(() => {});
        const c = await stack.harness.runContainer({
          name,
          image,
          envs,
          networksAdvanced: [{ name: stack.run.outputs.networkName as string }],
          ports: [{ internal: PROXY_PORT, external: port, ip: "127.0.0.1" }],
          wait: true,
          waitTimeout: 60,
        });
        started.push(name);
        fronts.push({
          name: `proxy ${v}`,
          url: `http://127.0.0.1:${port}${path}`,
          id: c.id,
        });
      }
      // A short run on every front first, so no front meets its first load inside a measurement.
      for (const f of fronts) runWrk({ url: f.url, connections, seconds: 2 });
      const res = new Map<
        string,
        { rps: number; p99: number; cpu: number; p50: number; err: number }[]
      >();
      for (let r = 0; r < rounds; r++) {
        const order = [...fronts.slice(r % fronts.length), ...fronts.slice(0, r % fronts.length)];
        for (const f of order) {
          const before = await totalCpuNanoseconds(docker, [f.id]);
          const w = runWrk({ url: f.url, connections, seconds });
          const after = await totalCpuNanoseconds(docker, [f.id]);
          const m = {
            rps: w.requestsPerSecond,
            p99: w.p99Ms,
            p50: w.p50Ms,
            cpu: (after - before) / 1000 / w.requests,
            err: w.socketErrors + w.non2xx,
          };
          res.set(f.name, [...(res.get(f.name) ?? []), m]);
          console.log(
            `round ${r + 1} ${f.name}: ${m.rps.toFixed(0)} req/s p99 ${m.p99.toFixed(1)} cpu ${m.cpu.toFixed(0)} err ${m.err}`,
          );
        }
      }
      const hn0 = median(res.get("HAProxy no-log")!.map((m) => m.rps));
      const h0 = median(res.get("HAProxy")!.map((m) => m.rps));
      console.log(
        `\n${path} c=${connections} ${seconds}s x ${rounds} rounds, load ${readFileSync("/proc/loadavg", "utf8").trim()}\n` +
          table(
            ["front", "req/s", "p50", "p99", "CPU/req", "× HAProxy", "× no-log", "errors"],
            [...res].map(([name, ms]) => {
              const rps = median(ms.map((m) => m.rps));
              return [
                name,
                rps.toFixed(0),
                median(ms.map((m) => m.p50)).toFixed(1),
                median(ms.map((m) => m.p99)).toFixed(1),
                median(ms.map((m) => m.cpu)).toFixed(0),
                (rps / h0).toFixed(2),
                (rps / hn0).toFixed(2),
                String(ms.reduce((s, m) => s + m.err, 0)),
              ];
            }),
          ),
      );
    } finally {
      for (const name of started)
        await docker
          .getContainer(name)
          .remove({ force: true })
          .catch(() => {});
      await removeFronts(stack);
      expect(await stack.harness.destroy()).toEqual({ containers: [], networks: [] });
    }
  });
});
