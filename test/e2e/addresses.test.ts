// End to end: backend addresses that never drift. The proxy is handed each backend's address once,
// at deploy time; these tests shuffle what Docker would hand out afterwards (backends restarted in
// another order, a foreign container on the network meanwhile, the engine itself restarted) and
// check, through the proxy's 127.0.0.1 port only, that every path still reaches the right kind of
// backend. Required in CI; skipped outside CI when no engine answers (the reason is printed).
import type Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PROXY_PORT } from "../../src/proxyEnvironment";
import { ownEngine, restartOwnEngine } from "../support/dockerEngine";
import {
  deployStack,
  describeWithDocker,
  formatTimings,
  type DeployedStack,
} from "../support/e2eStack";
import { HttpSession, tally } from "../support/httpSession";
import { HOST_PORTS } from "../support/ports";

const PORTS = HOST_PORTS.addresses.ports;
const STACK = "e2e-addr";
const FOREIGN = `http-infra-${STACK}-foreign`;

const member = (role: string, index: number) => `http-infra-${STACK}-${role}-${index}`;
const BACKENDS = [
  member("static", 1),
  member("static", 2),
  member("dynamic", 1),
  member("dynamic", 2),
];

interface Routing {
  /** Fresh sessions on "/": which static backend served each. */
  staticServedBy: Map<string | null, number>;
  /** One sticky session on /api/animals/: which dynamic backend served each request. */
  stickyServedBy: Map<string | null, number>;
  /** Fresh sessions on /api/animals/: which dynamic backend served each. */
  dynamicServedBy: Map<string | null, number>;
  /** Answers that came from the wrong kind of backend, or failed. */
  wrong: string[];
}

/** One round of requests through the proxy, each checked for the kind of backend that answered. */
async function routing(url: string): Promise<Routing> {
  const wrong: string[] = [];
  const get = async (session: HttpSession, path: string) => {
    const reply = await session.get(path).catch((error: Error) => error);
    if (reply instanceof Error) {
      wrong.push(`${path}: ${reply.message}`);
      return undefined;
    }
    return reply;
  };
  const staticServers: (string | null)[] = [];
  for (let i = 0; i < 12; i++) {
    const reply = await get(new HttpSession(url), "/");
    if (!reply) continue;
    if (
      reply.status !== 200 ||
      !/^http-infra-e2e-addr-static-\d$/.test(reply.servedBy ?? "") ||
      !/<!doctype html>/i.test(reply.body)
    ) {
      wrong.push(`/ answered ${reply.status} by ${reply.servedBy}`);
    } else staticServers.push(reply.servedBy);
  }
  const dynamicOf = async (session: HttpSession) => {
    const reply = await get(session, "/api/animals/");
    if (!reply) return undefined;
    const body = (() => {
      try {
        return JSON.parse(reply.body) as { servedBy?: string; animals?: unknown[] };
      } catch {
        return {};
      }
    })();
    if (
      reply.status !== 200 ||
      !/^http-infra-e2e-addr-dynamic-\d$/.test(body.servedBy ?? "") ||
      !Array.isArray(body.animals)
    ) {
      wrong.push(`/api/animals/ answered ${reply.status} by ${reply.servedBy}`);
      return undefined;
    }
    return body.servedBy!;
  };
  const fresh: (string | null)[] = [];
  for (let i = 0; i < 8; i++) {
    const servedBy = await dynamicOf(new HttpSession(url));
    if (servedBy) fresh.push(servedBy);
  }
  const sticky = new HttpSession(url);
  const stickyServers: (string | null)[] = [];
  for (let i = 0; i < 10; i++) {
    const servedBy = await dynamicOf(sticky);
    if (servedBy) stickyServers.push(servedBy);
  }
  return {
    staticServedBy: tally(staticServers),
    dynamicServedBy: tally(fresh),
    stickyServedBy: tally(stickyServers),
    wrong,
  };
}

const healthy = (r: Routing) =>
  r.wrong.length === 0 &&
  r.staticServedBy.size === 2 &&
  r.dynamicServedBy.size === 2 &&
  r.stickyServedBy.size === 1;

/** Rounds of `routing` until every path is served right by both backends of each kind. */
async function settledRouting(
  url: string,
  timeoutSeconds: number,
): Promise<{ last: Routing; seconds: number }> {
  const started = performance.now();
  let last = await routing(url);
  while (!healthy(last) && performance.now() - started < timeoutSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    last = await routing(url);
  }
  return { last, seconds: (performance.now() - started) / 1000 };
}

function expectRightBackends(r: Routing) {
  expect(r.wrong, "answers from the wrong kind of backend, or failures").toEqual([]);
  expect([...r.staticServedBy.keys()].sort(), "round-robin over both static backends").toEqual([
    member("static", 1),
    member("static", 2),
  ]);
  for (const [backend, count] of r.staticServedBy)
    expect(count, `${backend} share of 12`).toBeGreaterThanOrEqual(4);
  expect([...r.dynamicServedBy.keys()].sort(), "new sessions on both dynamic backends").toEqual([
    member("dynamic", 1),
    member("dynamic", 2),
  ]);
  expect(r.stickyServedBy.size, "one session stays on one dynamic backend").toBe(1);
}

/** Which addresses other than loopback appear in a container's access log. */
async function accessLogPeers(container: Docker.Container): Promise<string[]> {
  const raw = await container.logs({ stdout: true, stderr: false });
  const text = raw.toString("latin1");
  const peers = [...text.matchAll(/(?:^|\n)[\s\S]{0,8}?(\d+\.\d+\.\d+\.\d+) \S+ \S+ \[/g)].map(
    (m) => m[1],
  );
  return [...new Set(peers)].filter((peer) => peer !== "127.0.0.1");
}

describeWithDocker("addresses that never drift", () => {
  let stack: DeployedStack;
  const docker = () => stack.harness.docker;

  beforeAll(async () => {
    stack = await deployStack({ stack: STACK, config: { proxyPort: PORTS.proxy } });
  }, 600_000);

  afterAll(async () => {
    if (!stack) return;
    // The foreign container is not part of the program: remove it before the stack's network goes.
    await docker()
      .getContainer(FOREIGN)
      .remove({ force: true })
      .catch(() => undefined);
    expect(await stack.harness.destroy(), "nothing left behind").toEqual({
      containers: [],
      networks: [],
    });
    console.log(formatTimings(STACK, stack.harness.timings));
  }, 120_000);

  it("every container sits at its fixed slot, and the proxy is handed what Docker reports", async () => {
    const subnet = stack.run.outputs.networkSubnet as string;
    const network = stack.run.outputs.networkName as string;
    const base = subnet.replace(/\.0\/24$/, "");
    const expected: Record<string, string> = {
      [`http-infra-${STACK}-proxy`]: `${base}.2`,
      [member("static", 1)]: `${base}.3`,
      [member("static", 2)]: `${base}.4`,
      [member("dynamic", 1)]: `${base}.19`,
      [member("dynamic", 2)]: `${base}.20`,
    };
    for (const [name, address] of Object.entries(expected)) {
      const info = await docker().getContainer(name).inspect();
      expect(info.NetworkSettings.Networks[network]?.IPAddress, name).toBe(address);
    }
    expect(stack.run.outputs.staticBackends).toEqual([`${base}.3:8080`, `${base}.4:8080`]);
    expect(stack.run.outputs.dynamicBackends).toEqual([`${base}.19:3000`, `${base}.20:3000`]);
  });

  it("backends stopped, a foreign container on the network, backends started in reverse: every path still reaches the right backend", async () => {
    for (const name of BACKENDS) await docker().getContainer(name).stop({ t: 5 });
    const staticImage = stack.run.resources.find((r) => r.name === "static-1")!.inputs
      .image as string;
    // The worst foreign guest there is: a static site that answers /healthz as "static".
    await stack.harness.runContainer({
      name: FOREIGN,
      image: staticImage,
      networksAdvanced: [{ name: stack.run.outputs.networkName as string }],
      wait: true,
      waitTimeout: 60,
    });
    for (const name of [...BACKENDS].reverse()) await docker().getContainer(name).start();

    const foreign = await docker().getContainer(FOREIGN).inspect();
    const foreignIp =
      foreign.NetworkSettings.Networks[stack.run.outputs.networkName as string].IPAddress;
    const subnet = stack.run.outputs.networkSubnet as string;
    expect(
      Number(foreignIp.split(".")[3]),
      `foreign container at ${foreignIp}, outside the stack's half of ${subnet}`,
    ).toBeGreaterThanOrEqual(128);

    const { last, seconds } = await settledRouting(stack.url, 45);
    console.log(`[e2e] routing right again ${seconds.toFixed(1)}s after the backends restarted`);
    expectRightBackends(last);
    expect(
      await accessLogPeers(docker().getContainer(FOREIGN)),
      "clients the foreign container served",
    ).toEqual([]);
  }, 180_000);

  it("fails closed: a member whose address answers as the wrong kind of backend never serves", async () => {
    // A second proxy on the stack's network, told that dynamic-1 is a *static* member.
    const proxyImage = stack.run.resources.find((r) => r.name === "proxy")!.inputs.image as string;
    const [static1] = stack.run.outputs.staticBackends as string[];
    const [dynamic1, dynamic2] = stack.run.outputs.dynamicBackends as string[];
    const misconfigured = `http-infra-${STACK}-misconfigured-proxy`;
    await stack.harness.runContainer({
      name: misconfigured,
      image: proxyImage,
      envs: [`STATIC_APP_1=${static1}`, `STATIC_APP_2=${dynamic1}`, `DYNAMIC_APP_1=${dynamic2}`],
      networksAdvanced: [{ name: stack.run.outputs.networkName as string }],
      ports: [{ internal: PROXY_PORT, external: PORTS.misconfiguredProxy, ip: "127.0.0.1" }],
      wait: true,
      waitTimeout: 60,
    });
    try {
      // Let the health checks (every 2 s) see the impostor first.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      const servedBy: (string | null)[] = [];
      for (let i = 0; i < 20; i++) {
        const reply = await new HttpSession(`http://127.0.0.1:${PORTS.misconfiguredProxy}/`).get(
          "/",
        );
        expect(reply.status, `request ${i + 1}`).toBe(200);
        servedBy.push(reply.servedBy);
      }
      expect([...tally(servedBy).keys()], "only the real static member serves /").toEqual([
        member("static", 1),
      ]);
    } finally {
      await docker().getContainer(misconfigured).remove({ force: true });
    }
  }, 120_000);

  it("refuses a networkSubnet that another network uses, naming the key, and leaves nothing behind", async () => {
    const taken = stack.run.outputs.networkSubnet as string;
    await expect(
      deployStack({
        stack: `${STACK}-clash`,
        config: { proxyPort: PORTS.refusedStackProxy, networkSubnet: taken },
      }),
    ).rejects.toThrow(`networkSubnet ${taken} overlaps network http-infra-${STACK}-net`);
    const left = await docker().listContainers({
      all: true,
      filters: { name: [`http-infra-${STACK}-clash`] },
    });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  }, 300_000);

  const engine = ownEngine();
  const notOurs = "why" in engine ? engine.why : undefined;
  if (notOurs) console.warn(`[e2e] the engine-restart test is skipped: ${notOurs}`);
  // Skipped (saying why) only where restarting the engine would hit a daemon this suite doesn't own.
  it.skipIf(notOurs !== undefined)(
    "after an engine restart, within 60 s and with no new deploy, every path reaches the right backend again",
    async () => {
      const restartSeconds = await restartOwnEngine((engine as { pid: number }).pid);
      const { last, seconds } = await settledRouting(stack.url, 60);
      console.log(
        `[e2e] engine restarted in ${restartSeconds.toFixed(1)}s; routing right ${seconds.toFixed(1)}s later`,
      );
      expectRightBackends(last);
      expect(seconds, "seconds until every path was right").toBeLessThanOrEqual(60);
      for (const name of BACKENDS) {
        const info = await docker().getContainer(name).inspect();
        expect(info.State.Running, `${name} came back by its restart policy`).toBe(true);
      }
    },
    300_000,
  );
});
