// Node loss on a three-node swarm: the program deployed in swarm mode, a worker that runs two
// dynamic members cut as in a power cut (off the network, then killed: see the bed's stopNode) while clients poll the two live
// nodes' proxies every 50 ms, open loop (a request every 50 ms whatever the earlier ones do), with
// new sessions on `/` and `/api/animals/`, and with a session pinned (ROUTEID) to each lost dynamic
// member. The suite holds the proxy to docs/swarm.md's node-loss targets, then checks that an `up`
// changing the proxy while the node is down fails naming it. Required in CI; its own bed and
// stack (e2e-swarm-loss, on the bed's ports in test/support/ports.ts).
import type Docker from "dockerode";
import { loadavg } from "node:os";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  baseImageConfig,
  deployStack,
  describeWithDocker,
  type DeployedStack,
} from "../support/e2eStack";
import {
  inspectService,
  listNodes,
  listTasks,
  type SwarmService,
} from "../support/harness/resources/engineApi";
import { HttpSession, tally } from "../support/httpSession";
import {
  isServerError,
  startRecordingPoller,
  summarize,
  type PollTarget,
  type RecordingPoller,
  type Sample,
} from "../support/swarm/recordingPoller";
import {
  NODE_PROXY_PORT,
  startSwarmTestBed,
  type SwarmNode,
  type SwarmTestBed,
} from "../support/swarm/testBed";
import { waitFor } from "../support/swarm/wait";

const STACK = "e2e-swarm-loss";
const PREFIX = `http-infra-${STACK}`;
const MEMBERS = { static: 3, dynamic: 3 };
const BASE_IMAGES = [
  "http-infra-base/php-apache:8.4-bookworm",
  "http-infra-base/node:22-bookworm-slim",
];
/** Dynamic members the lost worker runs when it is cut. */
const LOST_DYNAMIC = 2;

/**
 * The targets (docs/swarm.md, "Node loss"): no HTTP 5xx to any request but those in flight to the
 * lost node at the cut; on every polled path of each live node, no run without a 200 longer than
 * 1.5 s; no failed request but those in flight at the cut; a session pinned to a lost member served
 * by a live one within 2 s. Full
 * strength (every lost member rescheduled and served again) is Swarm's heartbeat and scheduling:
 * measured 25-28 s, held to 60 s.
 */
const TARGETS = {
  serverErrors: 0,
  longestGapS: 1.5,
  pinnedSessionServedWithinS: 2,
  /**
   * "No request waits on a dead node's connection for more than about a second": a request sent
   * after the cut and answered waits at most the connect timeout (1 s) before failover, plus this
   * machine's noise. Pooled connections (the proxy's default) failed it: 2.48 s.
   */
  longestAnsweredWaitS: 2,
  fullStrengthWithinS: 60,
};

interface Placement {
  service: string;
  role: "static" | "dynamic";
  node: string;
}

async function memberPlacement(manager: Docker): Promise<Placement[]> {
  const nodes = await listNodes(manager);
  const hostnameOf = (id?: string) => nodes.find((n) => n.ID === id)?.Description.Hostname;
  const services = await manager.listServices({
    filters: JSON.stringify({ name: [`${PREFIX}-static-`, `${PREFIX}-dynamic-`] }),
  });
  const tasks = await listTasks(manager, {
    filters: JSON.stringify({ "desired-state": ["running"] }),
  });
  return services.flatMap((service) => {
    const name: string = service.Spec?.Name ?? "";
    const running = tasks.filter(
      (task) => task.ServiceID === service.ID && task.Status.State === "running",
    );
    return running.map((task) => ({
      service: name,
      role: name.includes("-dynamic-") ? ("dynamic" as const) : ("static" as const),
      node: hostnameOf(task.NodeID) ?? "?",
    }));
  });
}

/** A node as NodeList returns it, with what `docker node update` sends back (its version, spec). */
interface NodeWithSpec {
  ID: string;
  Version: { Index: number };
  Description: { Hostname: string };
  Spec: Record<string, unknown>;
}

async function setAvailability(manager: Docker, hostname: string, availability: string) {
  const nodes = (await manager.listNodes()) as NodeWithSpec[];
  const node = nodes.find((n) => n.Description.Hostname === hostname);
  if (!node) throw new Error(`no swarm node ${hostname}`);
  await manager
    .getNode(node.ID)
    .update({ version: node.Version.Index, ...node.Spec, Availability: availability });
}

/**
 * Moves a member's task to `to`: every other node paused (Swarm places no new task there), the
 * service's tasks forced to restart (`docker service update --force`), the nodes active again.
 */
async function moveMember(bed: SwarmTestBed, service: string, to: SwarmNode): Promise<void> {
  const others = bed.nodes.filter((node) => node !== to);
  for (const node of others) await setAvailability(bed.manager, node.name, "pause");
  try {
    const current = await inspectService(bed.manager, service);
    const spec = current.Spec as SwarmService["Spec"] & {
      TaskTemplate: { ForceUpdate?: number };
    };
    spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
    await bed.manager.getService(service).update({ version: current.Version.Index, ...spec });
    await waitFor(`${service} to run on ${to.name} alone`, 120_000, 500, async () => {
      const running = (await memberPlacement(bed.manager)).filter((p) => p.service === service);
      return running.length === 1 && running[0].node === to.name ? true : undefined;
    });
  } finally {
    for (const node of others) await setAvailability(bed.manager, node.name, "active");
  }
  // The old task drains (its desired state is already shutdown, and it still answers as the
  // member), and the proxies keep its address until a connect to it fails: wait until it is gone.
  const nodeId = (await listNodes(bed.manager)).find((n) => n.Description.Hostname === to.name)?.ID;
  await waitFor(`${service}'s old task to stop`, 60_000, 500, async () => {
    const tasks = await listTasks(bed.manager, { filters: JSON.stringify({ service: [service] }) });
    const running = tasks.filter((task) => task.Status.State === "running");
    return running.length === 1 && running[0].NodeID === nodeId ? true : undefined;
  });
}

const short = (service: string) => service.slice(PREFIX.length + 1);

/** A session whose ROUTEID pins it to `member`: fresh sessions until one lands there. */
async function sessionPinnedTo(url: string, member: string): Promise<HttpSession> {
  const replies: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    const session = new HttpSession(url, 3_000);
    const reply = await session.get("/api/animals/");
    if (reply.status === 200 && reply.servedBy === member && session.cookie) return session;
    replies.push(`${reply.status} ${reply.servedBy === null ? "-" : short(reply.servedBy)}`);
  }
  const seen = [...tally(replies)].map(([reply, n]) => `${n}× ${reply}`).join(", ");
  throw new Error(`no new session landed on ${member} in 40 tries through ${url}: ${seen}`);
}

/**
 * Waits until every node's proxy deals new sessions to every member: their health checks passed
 * everywhere. A member's task that Swarm restarted (its health probe timed out under load, and the
 * app's drain then exits 0: the task ends "complete" and is started again elsewhere) is out of
 * rotation until its new task answers, and may run on another node. Returns how long it took.
 */
async function everyMemberServed(nodes: readonly SwarmNode[], timeoutMs: number): Promise<number> {
  const started = performance.now();
  const expected = [
    ...Array.from({ length: MEMBERS.static }, (_, i) => `${PREFIX}-static-${i + 1}`),
    ...Array.from({ length: MEMBERS.dynamic }, (_, i) => `${PREFIX}-dynamic-${i + 1}`),
  ];
  await waitFor("every member served through every node's proxy", timeoutMs, 1_000, async () => {
    const missing: string[] = [];
    for (const node of nodes) {
      const seen = new Set<string | null>();
      // New sessions are dealt in turn (byrequests): two rounds reach every member in rotation.
      for (let i = 0; i < 2 * Math.max(MEMBERS.static, MEMBERS.dynamic); i++) {
        for (const path of ["/", "/api/animals/"]) {
          seen.add(
            (await new HttpSession(node.proxyUrl, 3_000).get(path).catch(() => null))?.servedBy ??
              null,
          );
        }
      }
      missing.push(...expected.filter((m) => !seen.has(m)).map((m) => `${short(m)}@${node.name}`));
    }
    if (missing.length > 0) throw new Error(`not served: ${missing.join(", ")}`);
    return true;
  });
  return (performance.now() - started) / 1000;
}

describeWithDocker("losing a worker node of the swarm", () => {
  let bed: SwarmTestBed;
  let stack: DeployedStack | undefined;
  let config: Record<string, string | number>;
  let victim: SwarmNode;

  beforeAll(async () => {
    bed = await startSwarmTestBed();
    await bed.loadImages(BASE_IMAGES);
    const started = performance.now();
    config = {
      // The offline base images, as deployStack takes them: the later `up` builds from them too.
      ...(await baseImageConfig(bed.manager)),
      deployTarget: "swarm",
      registry: bed.registry,
      staticBackends: MEMBERS.static,
      dynamicBackends: MEMBERS.dynamic,
      proxyPort: NODE_PROXY_PORT,
    };
    stack = await deployStack({
      stack: STACK,
      config,
      engine: { docker: bed.manager, host: bed.managerHost },
    });
    console.log(`[node loss] deployed in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }, 900_000);

  afterAll(async () => {
    if (stack) await stack.harness.destroy().catch((error) => console.error(error));
    if (bed) await bed.remove();
  }, 300_000);

  it("no 5xx, no path without a 200 for over 1.5 s, no failure but the requests in flight at the cut, pinned sessions served by a live member within 2 s", async () => {
    // `up` waited for every node's proxy (src/swarm/proxyReady.ts).
    for (const node of bed.nodes) {
      const replies = await Promise.all(
        ["/", "/api/animals/"].map((path) => new HttpSession(node.proxyUrl, 3_000).get(path)),
      );
      expect(
        replies.map((reply) => reply.status),
        `${node.name} when up returned`,
      ).toEqual([200, 200]);
    }
    // Full strength first: a member Swarm restarted since the deploy may have moved.
    const settled = await everyMemberServed(bed.nodes, 120_000);
    // The worker to lose: the one with the most dynamic members, given two if it has fewer.
    let before = await memberPlacement(bed.manager);
    expect(before.length, "every member runs one task").toBe(MEMBERS.static + MEMBERS.dynamic);
    const dynamicOn = (node: string) =>
      before.filter((p) => p.node === node && p.role === "dynamic");
    victim = [...bed.workers].sort(
      (a, b) => dynamicOn(b.name).length - dynamicOn(a.name).length,
    )[0];
    let moves = 0;
    for (const p of before.filter((p) => p.role === "dynamic" && p.node !== victim.name)) {
      if (dynamicOn(victim.name).length >= LOST_DYNAMIC) break;
      await moveMember(bed, p.service, victim);
      moves++;
      before = await memberPlacement(bed.manager);
    }
    // Every proxy serves the moved members at their new address (health checks passed).
    const moved = moves > 0 ? await everyMemberServed(bed.nodes, 120_000) : 0;
    before = await memberPlacement(bed.manager);
    console.log(
      `[node loss] every member served ${settled.toFixed(1)}s after up returned, ${moved.toFixed(1)}s after the moves; ` +
        `placement: ${before.map((p) => `${short(p.service)}@${p.node}`).join(", ")}`,
    );
    const lost = before.filter((p) => p.node === victim.name);
    const lostDynamic = lost.filter((p) => p.role === "dynamic");
    expect(lostDynamic.length, `dynamic members on ${victim.name}`).toBeGreaterThanOrEqual(
      LOST_DYNAMIC,
    );
    const live = bed.nodes.filter((node) => node !== victim);

    // On each live node's proxy: new sessions on both paths; through the first, a session pinned
    // to each lost dynamic member.
    const pollers: { node: SwarmNode; poller: RecordingPoller }[] = [];
    for (const [index, node] of live.entries()) {
      const targets: PollTarget[] = [
        { label: `${node.name} / (new session)`, path: "/" },
        { label: `${node.name} /api/animals/ (new session)`, path: "/api/animals/" },
      ];
      if (index === 0) {
        for (const p of lostDynamic) {
          targets.push({
            label: `pinned to lost ${short(p.service)}`,
            path: "/api/animals/",
            session: await sessionPinnedTo(node.proxyUrl, p.service),
          });
        }
      }
      pollers.push({
        node,
        poller: startRecordingPoller(node.proxyUrl, targets, {
          intervalMs: 50,
          maxSeconds: 240,
          mode: "open",
        }),
      });
    }
    // One clock for all: the first poller's (they started within milliseconds of each other).
    const clock = pollers[0].poller;
    const offsets = pollers.map(({ poller }) => poller.now() - clock.now());
    const allSamples = () =>
      pollers.flatMap(({ poller }, i) =>
        poller.samples.map((s) => ({
          ...s,
          sentAt: s.sentAt - offsets[i],
          doneAt: s.doneAt - offsets[i],
        })),
      );
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // Times count from the stop call (t = 0); the node is gone when the call returns (cutAt).
      const stopCalledAt = clock.now();
      await bed.stopNode(victim.name);
      const cutAt = clock.now();

      const downAt = bed
        .waitForNodeState(victim.name, "down", 90_000)
        .then(() => clock.now() - stopCalledAt);
      const rescheduledAt = await waitFor(
        "the lost members running on live nodes",
        180_000,
        500,
        async () => {
          const now = await memberPlacement(bed.manager);
          const back = lost.every((p) =>
            now.some((q) => q.service === p.service && q.node !== victim.name),
          );
          return back ? clock.now() - stopCalledAt : undefined;
        },
      );
      const servedAgain = await waitFor(
        "the proxies to serve every lost member again",
        120_000,
        250,
        async () => {
          const samples = allSamples();
          const times = lost.map((p) => {
            const path = p.role === "static" ? "/ (new session)" : "/api/animals/ (new session)";
            const sample = samples.find(
              (s) => s.label.endsWith(path) && s.sentAt > cutAt && s.ok && s.servedBy === p.service,
            );
            return sample && sample.doneAt - stopCalledAt;
          });
          return times.every((t) => t !== undefined) ? times : undefined;
        },
      );
      const fullStrength = Math.max(rescheduledAt, ...servedAgain);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await Promise.all(pollers.map(({ poller }) => poller.stop()));
      const endAt = clock.now();
      const samples = allSamples();

      const rows = summarize(samples, stopCalledAt, endAt);
      const failed = samples.filter((s) => !s.ok);
      // In flight at the cut: sent before the node was gone, still open when the stop began, and
      // then failed or held for half a second (a request on a live member takes milliseconds).
      const caught = (s: Sample) =>
        s.sentAt < cutAt &&
        s.doneAt > stopCalledAt &&
        (!s.ok || s.doneAt - Math.max(s.sentAt, stopCalledAt) > 0.5);
      const inFlight = samples.filter(caught);
      const outcomes = new Map<string, number>();
      for (const s of inFlight) {
        const outcome = s.ok ? "200 after failover" : s.outcome;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      const at = (s: Sample) => `${s.label} +${(s.sentAt - stopCalledAt).toFixed(2)}s ${s.outcome}`;
      const pinned = lostDynamic.map((p) => {
        const label = `pinned to lost ${short(p.service)}`;
        const first = samples
          .filter((s) => s.label === label && s.sentAt >= cutAt && s.ok)
          .sort((a, b) => a.doneAt - b.doneAt)[0];
        return { label, at: first ? first.doneAt - stopCalledAt : undefined, by: first?.servedBy };
      });
      const slow = samples.filter((s) => s.ok && s.sentAt >= cutAt && s.doneAt - s.sentAt > 0.5);
      console.log(
        [
          `[node loss] lost ${victim.name} (${lost.map((p) => short(p.service)).join(", ")}); clients on ${live.map((n) => n.name).join(" and ")}, every 50 ms, open loop; load average ${loadavg()
            .map((l) => l.toFixed(1))
            .join(" ")}`,
          `  node Down after ${(await downAt).toFixed(1)}s; lost members running elsewhere after ${rescheduledAt.toFixed(1)}s; ` +
            `served again after ${servedAgain.map((t) => t.toFixed(1)).join("/")}s; full strength after ${fullStrength.toFixed(1)}s`,
          ...pinned.map(
            (p) => `  ${p.label}: first 200 after ${p.at?.toFixed(2) ?? "never"}s, from ${p.by}`,
          ),
          `  | client | requests | failed | HTTP 5xx | longest gap |`,
          `  | --- | --- | --- | --- | --- |`,
          ...rows.map(
            (row) =>
              `  | ${row.label} | ${row.requests} | ${row.failed} | ${row.serverErrors} | ${row.longestGap.toFixed(2)}s |`,
          ),
          `  in flight to the lost node at the cut: ${inFlight.length} (${[...outcomes].map(([o, n]) => `${n} ${o}`).join(", ")})`,
          `  HTTP 5xx: ${samples.filter(isServerError).map(at).join("; ") || "none"}`,
          `  the cut took ${(cutAt - stopCalledAt).toFixed(2)}s; 200s slower than 0.5 s after the cut: ${slow.length}` +
            ` (longest ${Math.max(0, ...slow.map((s) => s.doneAt - s.sentAt)).toFixed(2)}s)`,
          `  failures: ${failed.length}: ${failed.slice(0, 6).map(at).join("; ")}`,
        ].join("\n"),
      );

      // A request in flight when the node's processes were killed may get a reset, which
      // mod_proxy_http answers with a 502 on a client connection's first request (docs/swarm.md):
      // reported above. Every other request gets no 5xx.
      expect(
        samples.filter((s) => isServerError(s) && !caught(s)).map(at),
        "HTTP 5xx to requests not in flight at the cut",
      ).toHaveLength(TARGETS.serverErrors);
      for (const row of rows.filter((r) => r.label.includes("(new session)"))) {
        expect(row.longestGap, `${row.label}: longest run without a 200`).toBeLessThanOrEqual(
          TARGETS.longestGapS,
        );
      }
      expect(
        failed.filter((s) => !caught(s)).map(at),
        "failed requests that were not in flight at the cut",
      ).toEqual([]);
      expect(
        Math.max(0, ...slow.map((s) => s.doneAt - s.sentAt)),
        "longest wait for a 200 sent after the cut",
      ).toBeLessThanOrEqual(TARGETS.longestAnsweredWaitS);
      for (const p of pinned) {
        expect(p.at, `${p.label} got a 200`).toBeDefined();
        expect(p.at as number, `${p.label}: first 200`).toBeLessThanOrEqual(
          TARGETS.pinnedSessionServedWithinS,
        );
        expect(p.by, `${p.label} served by a live member`).not.toBe(
          `${PREFIX}-${p.label.slice("pinned to lost ".length)}`,
        );
      }
      expect(fullStrength).toBeLessThan(TARGETS.fullStrengthWithinS);
    } finally {
      await Promise.all(pollers.map(({ poller }) => poller.stop()));
    }
  }, 600_000);

  it("an `up` that changes the proxy while the node is down fails, naming the node", async () => {
    const started = performance.now();
    const failure = await stack!.harness
      .up({ stack: STACK, config: { ...config, serverName: "loss.res.ch" } })
      .then(
        () => undefined,
        (error: Error) => error,
      );
    console.log(
      `[node loss] up with ${victim.name} down: ${((performance.now() - started) / 1000).toFixed(1)}s, ${failure?.message}`,
    );
    // The provider's convergence timeout on that node's check (DidNotConvergeError), nothing else.
    expect(failure?.message).toMatch(
      new RegExp(`proxy-ready-${victim.name}: Service with ID \\(\\w+\\) did not converge after `),
    );
    for (const node of bed.nodes.filter((n) => n !== victim)) {
      expect(failure?.message, `${node.name}'s proxy took the change`).not.toContain(
        `proxy-ready-${node.name}`,
      );
    }
  }, 600_000);

  it("once the node is back, the same `up` succeeds: it waits for that node's proxy too", async () => {
    const back = await bed.startNode(victim.name, 120_000);
    const started = performance.now();
    const { plan } = await stack!.harness.up({
      stack: STACK,
      config: { ...config, serverName: "loss.res.ch" },
    });
    // Its check had not settled: the program raised its forceUpdate, so the provider updated it
    // and waited (the bridge's empty update after the failed one would return at once).
    const took = (performance.now() - started) / 1000;
    console.log(
      `[node loss] ${victim.name} Ready ${back.toFixed(1)}s after its start; the up then took ${took.toFixed(1)}s: ` +
        plan.steps
          .map((s) => `${s.op} ${s.name} ${((s.ended - s.started) / 1000).toFixed(1)}s`)
          .join(", "),
    );
    // `up` returned: the returned node's proxy reports the configuration the others run.
    const reported = await Promise.all(
      bed.nodes.map(async (node) => {
        const response = await fetch(`${node.proxyUrl}/proxy-healthz`, {
          signal: AbortSignal.timeout(3_000),
        });
        return response.headers.get("x-proxy-config")?.replace(/^[^-]+-/, "");
      }),
    );
    expect(new Set(reported).size, `digests reported: ${reported.join(", ")}`).toBe(1);
    expect(reported[0]).toMatch(/^[0-9a-f]{16}$/);
  }, 600_000);
});
