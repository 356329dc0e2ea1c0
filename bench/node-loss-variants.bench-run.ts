// Node loss, reproduced on one engine with the real images, one proxy variant at a time: how
// docs/swarm.md's "Node loss" comparison was made. A node that dies takes its tasks with it and
// says nothing: no FIN, no RST, no ICMP, while the swarm's DNS still names the lost tasks until the
// manager has marked the node down. Here three members (dynamic-2, dynamic-3, static-2) play the
// lost node's tasks:
//   cut        every packet in or out of them is dropped (iptables in their network namespace);
//   +12 s      they leave the network, so their names stop resolving (the manager marked the node
//              down; measured 10.7-14.6 s on the test swarm);
//   +20 s      new containers with the same names start at new addresses (rescheduled);
//   +35 s      the end.
// A client polls the proxy every 50 ms, open loop, on `/` and `/api/animals/` with a new session
// each time, and with sessions pinned to dynamic-2 (lost) and dynamic-1 (live). Runs only when
// NODE_LOSS_VARIANTS names the variants (it builds an image per variant and takes a minute each):
//
//   NODE_LOSS_VARIANTS=ttl5,pooled,pooled-timeout2,pooled-keepalive,per-request-retry5,per-request \
//     npx vitest run --config bench/vitest.config.ts bench/node-loss-variants.bench-run.ts
//
// Traffic goes to 127.0.0.1 only, bounded in count and time.
import Docker from "dockerode";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildImage } from "../test/support/harness/build";
import { HttpSession } from "../test/support/httpSession";
import { HOST_PORTS } from "../test/support/ports";
import { ensureTestbedImage, TESTBED_IMAGES } from "../test/support/swarm/images";
import {
  isServerError,
  startRecordingPoller,
  summarize,
  type Sample,
} from "../test/support/swarm/recordingPoller";
import { waitFor } from "../test/support/swarm/wait";
import { table } from "./support/report";
import { buildProxyVariant } from "./support/proxyVariant";

const variants = (process.env.NODE_LOSS_VARIANTS ?? "").split(",").filter(Boolean);
const PORT = HOST_PORTS.benchNodeLoss.ports.proxy;
const PREFIX = "http-infra-bench-nodeloss";
const LABEL = "http-infra.bench-nodeloss";
const NETWORK = `${PREFIX}-net`;
const PHP_APACHE = "http-infra-base/php-apache:8.4-bookworm";
const NODE = "http-infra-base/node:22-bookworm-slim";
/** The lost node's tasks. */
const LOST = ["dynamic-2", "dynamic-3", "static-2"];
const TIMELINE = { cutAt: 2, namesGoneAfter: 12, rescheduledAfter: 20, endAfter: 35 };

type Edit = (dir: string) => void;
const edit =
  (from: string | RegExp, to: string): Edit =>
  (dir) => {
    const file = `${dir}/templates/config-template.php`;
    const text = readFileSync(file, "utf8");
    const next = text.replace(from, to);
    if (next === text) throw new Error(`variant edit did not apply: ${from}`);
    writeFileSync(file, next);
  };
/** Appends BalancerMember parameters to every member's options. */
const memberOptions = (extra: string) =>
  edit(/(const MEMBER_OPTIONS = '[^']*')/, `$1 . ' ${extra}'`);

interface Variant {
  what: string;
  env?: Record<string, string>;
  edits?: Edit[];
  sysctls?: Record<string, string>;
}
/** Each variant: the proxy's environment, edits to a copy of its image, its kernel settings. */
const VARIANTS: Record<string, Variant> = {
  ttl5: {
    what: "addressttl=5, pooled connections (swarm mode before)",
    edits: [memberOptions("addressttl=5")],
  },
  pooled: { what: "no addressttl, pooled connections" },
  "pooled-timeout2": {
    what: "no addressttl, pooled, timeout=2 and failontimeout=On",
    edits: [
      edit("timeout=10", "timeout=2"),
      edit(/ProxySet (stickysession=ROUTEID )?lbmethod=byrequests/g, "$& failontimeout=On"),
    ],
  },
  "pooled-keepalive": {
    what: "no addressttl, pooled, TCP keepalive after 1 s idle, 1 probe of 1 s",
    sysctls: {
      "net.ipv4.tcp_keepalive_time": "1",
      "net.ipv4.tcp_keepalive_intvl": "1",
      "net.ipv4.tcp_keepalive_probes": "1",
    },
  },
  "per-request-retry5": {
    what: "a new connection per request (disablereuse=On addressttl=-1), retry=5",
    edits: [memberOptions("disablereuse=On addressttl=-1")],
  },
  "per-request": {
    what: "BALANCER_MEMBER_CONNECTIONS=per-request (disablereuse=On addressttl=-1 retry=60): swarm mode now",
    env: { BALANCER_MEMBER_CONNECTIONS: "per-request" },
  },
  "per-request-ttl5": {
    what: "a new connection per request, addressttl=5 (looked up on the request path)",
    edits: [memberOptions("disablereuse=On addressttl=5")],
  },
};

const docker = new Docker();
const memberName = (member: string) => `${PREFIX}-${member}`;
const memberPort = (member: string) => (member.startsWith("dynamic") ? 3000 : 80);

async function removeAll(): Promise<void> {
  const filters = JSON.stringify({ label: [LABEL] });
  for (const c of await docker.listContainers({ all: true, filters }))
    await docker.getContainer(c.Id).remove({ force: true });
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove();
}

/** A member container: found by its name on the network, and answering as that name. */
async function startMember(member: string, image: string, suffix = ""): Promise<string> {
  const name = memberName(member);
  const container = await docker.createContainer({
    name: `${name}${suffix}`,
    Hostname: name,
    Image: image,
    Env: member.startsWith("dynamic") ? ["PORT=3000"] : [],
    Labels: { [LABEL]: "member" },
    NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: [name] } } },
  });
  await container.start();
  return container.id;
}

async function healthy(id: string, what: string): Promise<void> {
  await waitFor(`${what} healthy`, 90_000, 250, async () =>
    (await docker.getContainer(id).inspect()).State.Health?.Status === "healthy" ? true : undefined,
  );
}

/** Drops every packet in and out of the container's network namespace, as a dead node would. */
async function blackhole(containerId: string): Promise<void> {
  const sidecar = await docker.createContainer({
    Image: TESTBED_IMAGES.node.tag,
    Entrypoint: ["sh", "-c", "iptables -I INPUT -j DROP && iptables -I OUTPUT -j DROP"],
    Labels: { [LABEL]: "blackhole" },
    HostConfig: { NetworkMode: `container:${containerId}`, CapAdd: ["NET_ADMIN"] },
  });
  await sidecar.start();
  const { StatusCode } = (await sidecar.wait()) as { StatusCode: number };
  await sidecar.remove();
  if (StatusCode !== 0) throw new Error(`iptables in ${containerId} exited ${StatusCode}`);
}

async function sessionPinnedTo(url: string, member: string): Promise<HttpSession> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const session = new HttpSession(url, 3_000);
    const reply = await session.get("/api/animals/");
    if (reply.status === 200 && reply.servedBy === memberName(member) && session.cookie)
      return session;
  }
  throw new Error(`no new session landed on ${member} in 40 tries`);
}

interface Outcome {
  variant: string;
  serverErrors: number;
  failed: number;
  failedSentAfterCut: number;
  serverErrorsAfterCut: number;
  inFlightAtCut: number;
  gaps: Record<string, number>;
  pinnedFirstOk: string;
  slow: number;
  log: string;
}

async function runVariant(
  name: string,
  variant: Variant,
  images: { static: string; dynamic: string },
): Promise<Outcome> {
  const proxyImage = await buildProxyVariant(docker, {
    tag: `${PREFIX}-proxy-${name}:latest`,
    baseImage: PHP_APACHE,
    edits: variant.edits ?? [],
  });

  const ids = new Map<string, string>();
  for (const role of ["static", "dynamic"] as const)
    for (const n of [1, 2, 3])
      ids.set(`${role}-${n}`, await startMember(`${role}-${n}`, images[role]));
  for (const [member, id] of ids) await healthy(id, member);

  const env = {
    ...Object.fromEntries(
      [...ids.keys()].map((member) => {
        const [role, n] = member.split("-");
        const key = `${role === "static" ? "STATIC" : "DYNAMIC"}_APP_${n}`;
        return [key, `${memberName(member)}:${memberPort(member)}`];
      }),
    ),
    ...variant.env,
  };
  const proxy = await docker.createContainer({
    name: `${PREFIX}-proxy`,
    Image: proxyImage,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { [LABEL]: "proxy" },
    HostConfig: {
      PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(PORT) }] },
      Sysctls: variant.sysctls,
    },
    NetworkingConfig: { EndpointsConfig: { [NETWORK]: {} } },
  });
  await proxy.start();
  await healthy(proxy.id, "proxy");
  const url = `http://127.0.0.1:${PORT}`;
  // Every member answers through the proxy (health checks passed) before anything happens.
  await waitFor("every member served", 60_000, 100, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      for (const path of ["/", "/api/animals/"]) {
        const reply = await new HttpSession(url, 3_000).get(path);
        if (reply.servedBy) seen.add(reply.servedBy);
      }
    }
    return seen.size === 6 ? true : undefined;
  });

  const poller = startRecordingPoller(
    url,
    [
      { label: "/", path: "/" },
      { label: "/api/animals/", path: "/api/animals/" },
      {
        label: "pinned to lost dynamic-2",
        path: "/api/animals/",
        session: await sessionPinnedTo(url, "dynamic-2"),
      },
      {
        label: "pinned to live dynamic-1",
        path: "/api/animals/",
        session: await sessionPinnedTo(url, "dynamic-1"),
      },
    ],
    { intervalMs: 50, maxSeconds: 60, mode: "open" },
  );
  const until = async (at: number) =>
    new Promise((resolve) => setTimeout(resolve, Math.max(0, (at - poller.now()) * 1000)));
  // The cut takes a moment (a sidecar per lost member): it starts at cutStart, and is complete at
  // cut. Requests sent before `cut` count as caught by it.
  let cutStart = 0;
  let cut = 0;
  try {
    await until(TIMELINE.cutAt);
    const lost = LOST.map((member) => ids.get(member) as string);
    cutStart = poller.now();
    await Promise.all(lost.map(blackhole));
    cut = poller.now();
    await until(cut + TIMELINE.namesGoneAfter);
    await Promise.all(
      lost.map((id) => docker.getNetwork(NETWORK).disconnect({ Container: id, Force: true })),
    );
    await until(cut + TIMELINE.rescheduledAfter);
    await Promise.all(
      LOST.map((member) =>
        startMember(
          member,
          images[member.startsWith("dynamic") ? "dynamic" : "static"],
          "-rescheduled",
        ),
      ),
    );
    await until(cut + TIMELINE.endAfter);
  } finally {
    await poller.stop();
  }
  const samples = poller.samples;
  const rows = summarize(samples, cut, cut + TIMELINE.endAfter);
  // Caught by the cut: sent before it was complete and still open when it began, and then either
  // failed or took over half a second (a request on a live member takes milliseconds).
  const caught = (s: Sample) =>
    s.sentAt < cut &&
    s.doneAt > cutStart &&
    (!s.ok || s.doneAt - Math.max(s.sentAt, cutStart) > 0.5);
  const inFlightAtCut = samples.filter(caught).length;
  const failed = samples.filter((s) => !s.ok);
  const pinned = samples
    .filter((s) => s.label === "pinned to lost dynamic-2" && s.sentAt >= cut && s.ok)
    .sort((a, b) => a.doneAt - b.doneAt)[0];
  const log = await proxy.logs({ stdout: false, stderr: true });
  const codes = new Map<string, number>();
  for (const code of log.toString("utf8").match(/AH\d{5}/g) ?? [])
    codes.set(code, (codes.get(code) ?? 0) + 1);
  await removeAll();
  await docker.createNetwork({ Name: NETWORK, Labels: { [LABEL]: "network" } });
  const slow = samples.filter((s: Sample) => s.ok && s.doneAt - s.sentAt > 0.5).length;
  console.log(
    `[${name}] cut took ${(cut - cutStart).toFixed(2)} s; failures: ${failed
      .slice(0, 10)
      .map((s) => `${s.label} +${(s.sentAt - cut).toFixed(2)}s ${s.outcome}`)
      .join("; ")}`,
  );
  return {
    variant: name,
    serverErrors: samples.filter(isServerError).length,
    failed: failed.length,
    failedSentAfterCut: failed.filter((s) => !caught(s)).length,
    serverErrorsAfterCut: samples.filter((s) => isServerError(s) && !caught(s)).length,
    inFlightAtCut,
    gaps: Object.fromEntries(rows.map((row) => [row.label, row.longestGap])),
    pinnedFirstOk: pinned
      ? `${(pinned.doneAt - cut).toFixed(2)} s, ${pinned.servedBy?.slice(PREFIX.length + 1)}`
      : "never",
    slow,
    log: [...codes].map(([code, n]) => `${code}×${n}`).join(" "),
  };
}

describe.runIf(variants.length > 0)("node loss variants (NODE_LOSS_VARIANTS)", () => {
  it("compares how each proxy variant rides out a lost node", async () => {
    for (const v of variants) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}`);
    await removeAll();
    await ensureTestbedImage(docker, "node");
    const images = {
      static: await buildImage(docker, {
        context: "docker-images/apache-php-image",
        tag: `${PREFIX}-static:latest`,
        args: { BASE_IMAGE: PHP_APACHE },
        labels: {},
      }),
      dynamic: await buildImage(docker, {
        context: "docker-images/express-image",
        tag: `${PREFIX}-dynamic:latest`,
        args: { BASE_IMAGE: NODE },
        labels: {},
      }),
    };
    await docker.createNetwork({ Name: NETWORK, Labels: { [LABEL]: "network" } });
    const outcomes: Outcome[] = [];
    try {
      for (const name of variants) outcomes.push(await runVariant(name, VARIANTS[name], images));
    } finally {
      await removeAll();
    }
    const labels = Object.keys(outcomes[0]?.gaps ?? {});
    console.log(
      `\nlost: ${LOST.join(", ")}; names gone at +${TIMELINE.namesGoneAfter} s, rescheduled at +${TIMELINE.rescheduledAfter} s\n` +
        table(
          [
            "variant",
            "5xx (not in flight at the cut)",
            "failed (not in flight at the cut)",
            "in flight at the cut",
            ...labels.map((l) => `longest gap ${l}`),
            "pinned to lost: first 200",
            "200s slower than 0.5 s",
          ],
          outcomes.map((o) => [
            o.variant,
            `${o.serverErrors} (${o.serverErrorsAfterCut})`,
            `${o.failed} (${o.failedSentAfterCut})`,
            String(o.inFlightAtCut),
            ...labels.map((l) => `${o.gaps[l].toFixed(2)} s`),
            o.pinnedFirstOk,
            String(o.slow),
          ]),
        ) +
        "\n" +
        outcomes
          .map((o) => `${o.variant}: ${VARIANTS[o.variant].what}; proxy log ${o.log}`)
          .join("\n"),
    );
    expect(outcomes).toHaveLength(variants.length);
  });
});
