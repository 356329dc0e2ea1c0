// Node loss on a three-node swarm: the program deployed in swarm mode, a worker that runs members
// stopped hard (docker stop -t 0: a power cut) while a client polls every 50 ms through ANOTHER
// node's proxy. The lost members must come back on the live nodes, sessions pinned (ROUTEID) to a
// lost member must get a 200 from a live one, and the suite measures the failed requests and the
// time to full strength. Required in CI; its own bed and stack (e2e-swarm-loss), on the bed's ports
// (swarmTestBed in test/support/ports.ts).
import type Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { deployStack, describeWithDocker, type DeployedStack } from "../support/e2eStack";
import { HttpSession } from "../support/httpSession";
import {
  startRecordingPoller,
  summarize,
  type PollTarget,
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
/** 3 + 3 members spread over 3 nodes: some worker always runs a dynamic member. */
const MEMBERS = { static: 3, dynamic: 3 };
const BASE_IMAGES = [
  "http-infra-base/php-apache:8.4-bookworm",
  "http-infra-base/node:22-bookworm-slim",
];

/**
 * Targets, from four measured runs on this machine kind (2 cores shared with other suites), with
 * room for a slower CI machine. Measured (runs 1-4): full strength 26.9 / 24.8 / 25.8 / 27.9 s
 * (node Down 12.9 / 10.7 / 11.3 / 14.6 s: Swarm's heartbeat dominates), failed requests 9 / 11 /
 * 9 / 6 of 1500-2200 (requests in flight at the cut, then HTTP 500s on new sessions while a lost
 * member's name has no task), first 200 for a session pinned to a lost member, from a live one:
 * 3.8-4.7 s (run 2), 1.2 s (run 3), 1.1-2.1 s (run 4); run 1 measured it from the wrong moment.
 */
const TARGETS = {
  fullStrengthWithinS: 45,
  pinnedSessionServedWithinS: 10,
  failedRequestsAtMost: 30,
};

interface Placement {
  service: string;
  role: "static" | "dynamic";
  node: string;
}

async function memberPlacement(manager: Docker): Promise<Placement[]> {
  const nodes = await manager.listNodes();
  const hostnameOf = (id: string) => nodes.find((n) => n.ID === id)?.Description?.Hostname;
  const services = await manager.listServices({
    filters: JSON.stringify({ name: [`${PREFIX}-static-`, `${PREFIX}-dynamic-`] }),
  });
  const tasks = await manager.listTasks({
    filters: JSON.stringify({ "desired-state": ["running"] }),
  });
  return services.flatMap((service) => {
    const name: string = service.Spec?.Name ?? "";
    const running = tasks.filter(
      (task) => task.ServiceID === service.ID && task.Status?.State === "running",
    );
    return running.map((task) => ({
      service: name,
      role: name.includes("-dynamic-") ? ("dynamic" as const) : ("static" as const),
      node: hostnameOf(task.NodeID) ?? "?",
    }));
  });
}

/** A session whose ROUTEID pins it to `member`: fresh sessions until one lands there. */
async function sessionPinnedTo(url: string, member: string): Promise<HttpSession> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const session = new HttpSession(url, 3_000);
    const reply = await session.get("/api/animals/");
    if (reply.status === 200 && reply.servedBy === member && session.cookie) return session;
  }
  throw new Error(`no new session landed on ${member} in 40 tries`);
}

const firstOk = (samples: readonly Sample[], label: string, after: number, servedBy?: string) =>
  samples.find(
    (s) =>
      s.label === label &&
      s.sentAt >= after &&
      s.ok &&
      (servedBy === undefined || s.servedBy === servedBy),
  );

describeWithDocker("losing a worker node of the swarm", () => {
  let bed: SwarmTestBed;
  let stack: DeployedStack | undefined;

  beforeAll(async () => {
    bed = await startSwarmTestBed();
    await bed.loadImages(BASE_IMAGES);
    const started = performance.now();
    stack = await deployStack({
      stack: STACK,
      config: {
        deployTarget: "swarm",
        registry: bed.registry,
        staticBackends: MEMBERS.static,
        dynamicBackends: MEMBERS.dynamic,
        proxyPort: NODE_PROXY_PORT,
      },
      engine: { docker: bed.manager, host: bed.managerHost },
    });
    console.log(`[node loss] deployed in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }, 600_000);

  afterAll(async () => {
    if (stack) await stack.harness.destroy().catch((error) => console.error(error));
    if (bed) await bed.remove();
  }, 180_000);

  it("brings the lost members back on live nodes, and serves pinned sessions from a live member", async () => {
    // The proxy is a global service, which the provider can't wait for: wait for each node's.
    for (const node of bed.nodes) {
      await waitFor(`${node.name}'s proxy`, 120_000, 500, async () => {
        const replies = await Promise.all(
          ["/", "/api/animals/"].map((path) => new HttpSession(node.proxyUrl, 3_000).get(path)),
        );
        return replies.every((reply) => reply.status === 200) ? true : undefined;
      });
    }
    const before = await memberPlacement(bed.manager);
    console.log(
      `[node loss] placement: ${before.map((p) => `${p.service.slice(PREFIX.length + 1)}@${p.node}`).join(", ")}`,
    );
    expect(before.length, "every member runs one task").toBe(MEMBERS.static + MEMBERS.dynamic);
    expect(new Set(before.map((p) => p.node)).size, "members spread").toBeGreaterThanOrEqual(2);

    // The worker to lose: one running a dynamic member (so a pinned session loses its member),
    // with the most members.
    const membersOn = (node: string) => before.filter((p) => p.node === node);
    const victim = bed.workers
      .filter((w) => membersOn(w.name).some((p) => p.role === "dynamic"))
      .sort((a, b) => membersOn(b.name).length - membersOn(a.name).length)[0];
    if (!victim) throw new Error(`no worker runs a dynamic member: ${JSON.stringify(before)}`);
    const survivor = bed.nodes.find((n) => n.role === "worker" && n !== victim) as SwarmNode;
    const lost = membersOn(victim.name);
    const lostDynamic = lost.filter((p) => p.role === "dynamic");
    const liveDynamic = before.filter((p) => p.role === "dynamic" && p.node !== victim.name);

    // Sessions pinned to each lost dynamic member (and one to a live member, for contrast), all
    // through the surviving worker's proxy.
    const url = survivor.proxyUrl;
    const targets: PollTarget[] = [
      { label: "static / (new session)", path: "/" },
      { label: "dynamic (new session)", path: "/api/animals/" },
      ...(await Promise.all(
        lostDynamic.map(async (p) => ({
          label: `pinned to lost ${p.service.slice(PREFIX.length + 1)}`,
          path: "/api/animals/",
          session: await sessionPinnedTo(url, p.service),
        })),
      )),
    ];
    if (liveDynamic[0]) {
      targets.push({
        label: `pinned to live ${liveDynamic[0].service.slice(PREFIX.length + 1)}`,
        path: "/api/animals/",
        session: await sessionPinnedTo(url, liveDynamic[0].service),
      });
    }

    const poller = startRecordingPoller(url, targets, { intervalMs: 50, maxSeconds: 240 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // Times count from the stop call (t = 0). Answers count as "after the loss" only when sent
      // after the call returned, when the node's container is gone (docker stop -t 0 kills it).
      const stopCalledAt = poller.now();
      await bed.stopNode(victim.name);
      const cutAt = poller.now();

      const downAt = bed
        .waitForNodeState(victim.name, "down", 90_000)
        .then(() => poller.now() - stopCalledAt);
      // Every lost member running again somewhere else.
      const rescheduledAt = await waitFor(
        "the lost members running on live nodes",
        180_000,
        500,
        async () => {
          const now = await memberPlacement(bed.manager);
          const back = lost.every((p) =>
            now.some((q) => q.service === p.service && q.node !== victim.name),
          );
          return back ? poller.now() - stopCalledAt : undefined;
        },
      );
      // ... and the proxy serving from each of them again.
      const servedAgain = await waitFor(
        "the proxy to serve every lost member again",
        120_000,
        250,
        async () => {
          const times = lost.map((p) => {
            const label = p.role === "static" ? "static / (new session)" : "dynamic (new session)";
            const sample = poller.samples.find(
              (s) => s.label === label && s.sentAt > cutAt && s.ok && s.servedBy === p.service,
            );
            return sample && sample.doneAt - stopCalledAt;
          });
          return times.every((t) => t !== undefined) ? (times as number[]) : undefined;
        },
      );
      const fullStrength = Math.max(rescheduledAt, ...servedAgain);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const samples = await poller.stop();
      const endAt = poller.now();

      const rows = summarize(samples, stopCalledAt, endAt);
      const failed = rows.reduce((sum, row) => sum + row.failed, 0);
      const pinned = lostDynamic.map((p) => {
        const label = `pinned to lost ${p.service.slice(PREFIX.length + 1)}`;
        const first = firstOk(samples, label, cutAt);
        return {
          label,
          at: first ? first.doneAt - stopCalledAt : undefined,
          servedBy: first?.servedBy,
        };
      });
      const report = [
        `[node loss] lost ${victim.name} (${lost.map((p) => p.service.slice(PREFIX.length + 1)).join(", ")}), client on ${survivor.name}'s proxy, every 50 ms`,
        `  node Down after ${(await downAt).toFixed(1)}s; lost members running elsewhere after ${rescheduledAt.toFixed(1)}s; ` +
          `served again after ${servedAgain.map((t) => t.toFixed(1)).join("/")}s; full strength after ${fullStrength.toFixed(1)}s`,
        ...pinned.map(
          (p) =>
            `  ${p.label}: first 200 after ${p.at?.toFixed(2) ?? "never"}s, from ${p.servedBy}`,
        ),
        `  | client (through ${survivor.name}) | requests | failed | failures between | longest gap |`,
        `  | --- | --- | --- | --- | --- |`,
        ...rows.map((row) => {
          const failures = samples.filter(
            (s) => s.label === row.label && !s.ok && s.sentAt >= stopCalledAt,
          );
          const span = failures.length
            ? `+${(failures[0].sentAt - stopCalledAt).toFixed(1)}s and +${(failures[failures.length - 1].sentAt - stopCalledAt).toFixed(1)}s`
            : "-";
          return `  | ${row.label} | ${row.requests} | ${row.failed} | ${span} | ${row.longestGap.toFixed(2)}s |`;
        }),
        `  docker stop -t 0 took ${(cutAt - stopCalledAt).toFixed(2)}s; failed before it: ` +
          `${samples.filter((s) => s.sentAt < stopCalledAt && !s.ok).length} of ` +
          `${samples.filter((s) => s.sentAt < stopCalledAt).length}`,
        `  first failures: ${samples
          .filter((s) => !s.ok)
          .slice(0, 4)
          .map((s) => `${s.label} +${(s.sentAt - stopCalledAt).toFixed(1)}s ${s.outcome}`)
          .join("; ")}`,
      ];
      console.log(report.join("\n"));

      for (const p of pinned) {
        expect(p.at, `${p.label} got a 200`).toBeDefined();
        expect(p.at as number, `${p.label}: first 200`).toBeLessThan(
          TARGETS.pinnedSessionServedWithinS,
        );
      }
      expect(fullStrength).toBeLessThan(TARGETS.fullStrengthWithinS);
      expect(failed).toBeLessThanOrEqual(TARGETS.failedRequestsAtMost);
      // A pinned session's first answer came from a live member: another one, or its own once
      // rescheduled on a live node.
      for (const p of pinned) {
        const own = `${PREFIX}-${p.label.slice("pinned to lost ".length)}`;
        if (p.servedBy === own)
          expect(p.at as number, p.label).toBeGreaterThanOrEqual(rescheduledAt);
      }
    } finally {
      await poller.stop();
    }
  }, 420_000);
});
