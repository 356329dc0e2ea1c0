// Swarm mode end to end: the real index.ts with `deployTarget: swarm`, applied by the harness to the
// three-node test bed (test/support/swarm/testBed.ts), which the suite starts and removes. All
// traffic goes to 127.0.0.1 (each node's host-mode ports are published there by the bed). The last
// change turns HTTPS on (tlsMode given) with the network replacement that re-creates every service.
// Required in CI. Stack swarm-e2e, on the bed's ports (swarmTestBed in test/support/ports.ts).
import { X509Certificate } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, expect, it } from "vitest";
import { baseImageConfig, deployStack, describeWithDocker } from "../support/e2eStack";
import { expectLeastPrivilege, swarmTaskContainers } from "../support/cisCheck";
import { formatDowntime, startDowntimeProbe } from "../support/downtimeProbe";
import { HARNESS_LABEL, type DockerHarness } from "../support/harness/dockerHarness";
import { editedContext, type EditedContext } from "../support/harness/editedContext";
import type { Plan } from "../support/harness/engine";
import type { PropertyMap } from "../support/harness/propertyMap";
import { inspectService, listNodes, listTasks } from "../support/harness/resources/engineApi";
import { SECRET } from "../support/harness/resources/secret";
import {
  createServiceSpec,
  flattenService,
  planService,
  SERVICE,
  storedService,
  type InspectedService,
  type ServiceInputs,
} from "../support/harness/resources/service";
import { diffInputs } from "../support/harness/updateRules";
import { HttpSession, tally } from "../support/httpSession";
import { keyMaterial } from "../support/secretLeaks";
import { execInContainer } from "../support/swarm/exec";
import {
  listTestbedLeftovers,
  NODE_HTTPS_PORT,
  NODE_PROXY_PORT,
  startSwarmTestBed,
  type SwarmTestBed,
} from "../support/swarm/testBed";
import { waitFor } from "../support/swarm/wait";
import { createTestCa } from "../support/testCa";
import { httpsGet, plainGet } from "../support/tlsClient";

const STACK = "swarm-e2e";
const PREFIX = `http-infra-${STACK}`;
const PASSWORD = "swarm-manager-password";
const DYNAMIC_CONTEXT = "docker-images/express-image";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// HTTPS with a given certificate (tlsMode given), for the phase that turns it on.
const TLS_NAME = "swarm.res.ch";
const ca = createTestCa();
const issued = ca.issue({ names: [TLS_NAME, "127.0.0.1"] });
const keyBody = keyMaterial(issued.privateKey);
const tlsConfig = { tlsMode: "given", tlsCertificate: issued.chain, httpsPort: NODE_HTTPS_PORT };
const tlsSecrets = { tlsPrivateKey: issued.privateKey };

describeWithDocker("swarm mode on a three-node swarm", () => {
  let bed: SwarmTestBed;
  let harness: DockerHarness;
  let config: Record<string, string | number>;
  const secrets = { balancerManagerPassword: PASSWORD };
  const edits: EditedContext[] = [];
  let destroyed = false;

  /** Build contexts edited so far: every later `up` builds from them too, as a user's repo would. */
  let contextOverrides: Record<string, string> = {};
  const up = (change: Record<string, string | number> = {}, extraSecrets = {}) =>
    harness.up({
      stack: STACK,
      config: { ...config, ...change },
      secrets: { ...secrets, ...extraSecrets },
      contextOverrides,
    });

  /** A node's proxy answers /proxy-healthz, and / through the balancer. */
  const proxyAnswers = (url: string) =>
    waitFor(`the proxy at ${url}`, 120_000, 500, async () => {
      const reply = await new HttpSession(url, 2_000).get("/");
      return reply.status === 200 ? true : undefined;
    });

  /** The proxy service's rolling update, started by the last `up`, has finished on every node. */
  const proxyRolledOut = () =>
    waitFor("the proxy service's update to complete", 180_000, 500, async () => {
      const service = await inspectService(bed.manager, `${PREFIX}-proxy`);
      const state = service.UpdateStatus?.State;
      if (state === "rollback_completed" || state === "paused") {
        throw new Error(`proxy update ${state}: ${service.UpdateStatus?.Message}`);
      }
      return state === undefined || state === "completed" ? true : undefined;
    });

  /** Each member service's node, by service name. */
  async function memberNodes(): Promise<Map<string, string>> {
    const nodes = await listNodes(bed.manager);
    const tasks = await listTasks(bed.manager, { filters: { "desired-state": ["running"] } });
    const services = await bed.manager.listServices();
    const nameOf = (id: string) => services.find((s) => s.ID === id)?.Spec?.Name ?? id;
    const byService = new Map<string, string>();
    for (const task of tasks) {
      const name = nameOf(task.ServiceID);
      if (!/-(static|dynamic)-\d+$/.test(name)) continue;
      byService.set(name, nodes.find((n) => n.ID === task.NodeID)?.Description?.Hostname ?? "");
    }
    return byService;
  }

  const touched = (plan: Plan) => [...plan.create, ...plan.update, ...plan.replace, ...plan.delete];
  /** The proxy and the check on each node that `up` waits for (src/swarm/proxyReady.ts). */
  const proxyResources = () => ["proxy", ...bed.nodes.map((node) => `proxy-ready-${node.name}`)];

  /** What each node's proxy reports on /proxy-healthz (X-Proxy-Config), by node name. */
  const reportedConfigs = async (): Promise<Record<string, string>> =>
    Object.fromEntries(
      await Promise.all(
        bed.nodes.map(async (node) => {
          const response = await fetch(`${node.proxyUrl}/proxy-healthz`, {
            signal: AbortSignal.timeout(2_000),
          }).catch(() => undefined);
          const reported = response?.headers.get("x-proxy-config") ?? "no answer";
          return [node.name, reported] as const;
        }),
      ),
    );

  /** What the last `up` rolled out: each node's id and the digest in the proxy's PROXY_CONFIG_ID. */
  const expectedConfigs = async () => {
    const service = await inspectService(bed.manager, `${PREFIX}-proxy`);
    const id = (service.Spec.TaskTemplate.ContainerSpec.Env ?? [])
      .find((line) => line.startsWith("PROXY_CONFIG_ID="))
      ?.slice("PROXY_CONFIG_ID=".length);
    const digest = id?.replace("{{.Node.ID}}-", "");
    const nodes = await listNodes(bed.manager);
    return Object.fromEntries(
      bed.nodes.map((node) => {
        const swarmNode = nodes.find((n) => n.Description.Hostname === node.name);
        return [node.name, `${swarmNode?.ID}-${digest}`];
      }),
    );
  };

  beforeAll(async () => {
    bed = await startSwarmTestBed();
    const bases = await baseImageConfig();
    // Builds run on the manager (DOCKER_HOST): it needs the base images; workers pull ours.
    await bed.loadImages([...new Set(Object.values(bases))], { to: "manager" });
    config = { ...bases, deployTarget: "swarm", registry: bed.registry };
    const deployStarted = performance.now();
    const deployed = await deployStack({
      stack: STACK,
      config,
      secrets,
      engine: { docker: bed.manager, host: bed.managerHost },
    });
    harness = deployed.harness;
    // `up` waited for each node's proxy (its check): every one runs the configuration already.
    expect(await reportedConfigs()).toEqual(await expectedConfigs());
    await Promise.all(bed.nodes.map((node) => proxyAnswers(node.proxyUrl)));
    console.log(
      `[e2e timings] ${STACK} (load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}): ` +
        `first up ${((performance.now() - deployStarted) / 1000).toFixed(1)}s; ` +
        Object.entries({ ...bed.timings, ...harness.timings })
          .map(([phase, s]) => `${phase} ${s.toFixed(1)}s`)
          .join(", "),
    );
  }, 900_000);

  afterAll(async () => {
    ca.dispose();
    for (const edit of edits) edit.remove();
    if (harness && !destroyed) await harness.destroy().catch(() => undefined);
    if (bed) await bed.remove();
  }, 300_000);

  it("through every node's proxy: / round-robin over the static members, /api/animals/ sticky over the dynamic ones", async () => {
    const staticMembers = [`${PREFIX}-static-1`, `${PREFIX}-static-2`];
    const dynamicMembers = [`${PREFIX}-dynamic-1`, `${PREFIX}-dynamic-2`];
    for (const node of bed.nodes) {
      const pages = [];
      for (let i = 0; i < 6; i++) pages.push(await new HttpSession(node.proxyUrl).get("/"));
      for (const page of pages) expect(page.status, node.name).toBe(200);
      const servedBy = tally(pages.map((page) => page.servedBy));
      expect([...servedBy.keys()].sort(), `${node.name}: static members`).toEqual(staticMembers);
      expect([...servedBy.values()], `${node.name}: round-robin`).toEqual([3, 3]);

      const newSessions = [];
      for (let i = 0; i < 4; i++) {
        newSessions.push(await new HttpSession(node.proxyUrl).get("/api/animals/"));
      }
      for (const reply of newSessions) {
        expect(reply.status, node.name).toBe(200);
        const { animals } = JSON.parse(reply.body) as { animals: unknown };
        expect(animals, `${node.name}: the Express API`).toBeInstanceOf(Array);
      }
      const dealt = tally(newSessions.map((reply) => reply.servedBy));
      expect([...dealt.keys()].sort(), `${node.name}: dynamic members`).toEqual(dynamicMembers);
      expect([...dealt.values()], `${node.name}: new sessions dealt in turn`).toEqual([2, 2]);

      const session = new HttpSession(node.proxyUrl);
      const first = await session.get("/api/animals/");
      expect(session.cookie, `${node.name}: a ROUTEID cookie`).toMatch(/^\.[12]$/);
      for (let i = 0; i < 5; i++) {
        expect((await session.get("/api/animals/")).servedBy, `${node.name}: sticky`).toBe(
          first.servedBy,
        );
      }
    }
  });

  it("every task's container on every node runs with least privilege: each CIS rule, or a stated exception", async () => {
    // 4 members, and a proxy and its check on each of the 3 nodes, as each node's engine
    // inspects them.
    expectLeastPrivilege(
      await swarmTaskContainers(bed.nodes, PREFIX),
      { target: "swarm", proxyPort: NODE_PROXY_PORT },
      10,
    );
  });

  it("every service and secret reads back as declared: the state is the provider's Read of the real object, the in-memory model agrees, and the next up does nothing", async () => {
    // The first deploy's run is still open: the refresh closes it, then reads every resource.
    const before = new Map(harness.state.map((s) => [s.name, JSON.stringify(s.outputs)]));
    const refreshed = await harness.refresh();
    for (const name of refreshed.changed) {
      const now = JSON.stringify(harness.state.find((s) => s.name === name)?.outputs);
      console.log(`[swarm] refresh changed ${name}: ${before.get(name)} → ${now}`);
    }
    expect(refreshed, "a refresh right after the deploy").toEqual({ changed: [], gone: [] });
    const own = { [HARNESS_LABEL]: STACK };
    for (const state of harness.state.filter((s) => s.type === SERVICE)) {
      const real = (await bed.manager.getService(state.id!).inspect()) as InspectedService;
      const read = flattenService(real, own);
      const { convergeConfig: _notRead, ...outputs } = state.outputs;
      expect(outputs, `${state.name}: its state is ServiceInspect, flattened`).toEqual(read);
      // The unit tests' model of what Swarm stores for the provider's spec, with the platforms
      // the Docker client found in the registry at create (QueryRegistry).
      const spec = createServiceSpec(planService(undefined, state.inputs as ServiceInputs), {});
      spec.TaskTemplate.Placement.Platforms = real.Spec.TaskTemplate?.Placement?.Platforms ?? [];
      expect(
        flattenService(storedService(state.id!, spec), {}),
        `${state.name}: the in-memory model of Swarm (resources/service.ts storedService) ` +
          `against ${JSON.stringify(real)}`,
      ).toEqual(read);
      expect(diffInputs(SERVICE, state.name, state.outputs, state.inputs).changedKeys).toEqual([]);
    }
    const [secret] = harness.state.filter((s) => s.type === SECRET);
    const inspected = await bed.manager.getSecret(secret.id!).inspect();
    expect(secret.outputs.name).toBe(inspected.Spec?.Name);
    expect(diffInputs(SECRET, secret.name, secret.outputs, secret.inputs).changedKeys).toEqual([]);
    const { plan } = await up();
    expect(plan.steps, "no provider call").toEqual([]);
    expect(plan.same).toHaveLength(harness.state.length);
  }, 120_000);

  it("a session pinned through one node's proxy stays on its member through another node's", async () => {
    const [first, second] = bed.nodes;
    const session = new HttpSession(first.proxyUrl);
    const pinned = (await session.get("/api/animals/")).servedBy;
    const cookie = session.cookie!;
    const elsewhere = new HttpSession(second.proxyUrl);
    const reply = await elsewhere.get("/api/animals/", { cookie: `ROUTEID=${cookie}` });
    expect(reply.servedBy).toBe(pinned);
  });

  it("the members run on at least two nodes", async () => {
    const nodes = await memberNodes();
    expect(nodes.size, [...nodes].join(", ")).toBe(4);
    expect(new Set(nodes.values()).size, [...nodes].join(", ")).toBeGreaterThanOrEqual(2);
  });

  it("the balancer-manager is behind the secret's password, which docker service inspect never shows", async () => {
    const url = bed.nodes[2].proxyUrl;
    expect((await new HttpSession(url).get("/balancer-manager")).status).toBe(401);
    const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;
    const manager = await new HttpSession(url).get("/balancer-manager", { authorization: auth });
    expect(manager.status).toBe(200);
    expect(manager.body).toContain(`${PREFIX}-dynamic-2`);
    const inspected = JSON.stringify(await inspectService(bed.manager, `${PREFIX}-proxy`));
    expect(inspected).not.toContain(PASSWORD);
    expect(inspected).toContain("BALANCER_MANAGER_PASSWORD_FILE");
  });

  it("an API edit while a client polls a node's proxy: 0 failed requests, the proxy service untouched", async () => {
    const proxyBefore = await inspectService(bed.manager, `${PREFIX}-proxy`);
    const edit = editedContext(DYNAMIC_CONTEXT, (dir) =>
      appendFileSync(path.join(dir, "app.js"), "\n// edited by swarm-stack.test.ts\n"),
    );
    edits.push(edit);
    const probe = startDowntimeProbe(bed.nodes[1].proxyUrl, { intervalMs: 50, maxSeconds: 300 });
    contextOverrides = { ...contextOverrides, [DYNAMIC_CONTEXT]: edit.directory };
    const upStarted = performance.now();
    let upTook = 0;
    const applied = up().then(async (result) => {
      upTook = (performance.now() - upStarted) / 1000;
      // `up` returned: convergeConfig made the provider wait until each member's replica runs the
      // new image (resourceDockerServiceUpdateRefreshFunc counts running tasks; Swarm may still
      // be in its monitor window, UpdateStatus "updating").
      const digest = harness.state.find((s) => s.name === "dynamic-image")?.outputs
        .repoDigest as unknown;
      for (const member of ["dynamic-1", "dynamic-2"]) {
        const tasks = await listTasks(bed.manager, {
          filters: { service: [`${PREFIX}-${member}`], "desired-state": ["running"] },
        });
        expect(
          tasks.map((task) => [task.Spec?.ContainerSpec?.Image, task.Status?.State]),
          `${member} when up returned`,
        ).toEqual([[digest, "running"]]);
      }
      // Past the rollout: the old tasks are gone, requests now reach the new ones only.
      await sleep(3_000);
      return result;
    });
    // The probe stops whatever happens to the update, so it never outlives the test.
    const report = await applied.then(
      () => probe.stop(),
      () => probe.stop(),
    );
    const { plan } = await applied;
    console.log(formatDowntime(`${STACK} API edit via ${bed.nodes[1].name}`, report));
    console.log(
      `[swarm] API edit (load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(
          " ",
        )}): up took ${upTook.toFixed(1)}s; ${plan.steps.map((s) => `${s.op} ${s.name} ${((s.ended - s.started) / 1000).toFixed(1)}s`).join(", ")}`,
    );
    expect(plan.update).toEqual(["dynamic-1", "dynamic-2", "dynamic-image"]);
    expect(plan.replace).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(report.failed, report.failures.join("; ")).toBe(0);
    const proxyAfter = await inspectService(bed.manager, `${PREFIX}-proxy`);
    expect(proxyAfter.Version.Index, "the proxy service was not updated").toBe(
      proxyBefore.Version.Index,
    );
    // The members run the new image, by digest in the registry.
    const image = (await inspectService(bed.manager, `${PREFIX}-dynamic-1`)).Spec.TaskTemplate
      .ContainerSpec.Image;
    expect(image).toMatch(new RegExp(`^${bed.registry}/${PREFIX}-dynamic@sha256:[a-f0-9]{64}$`));
    expect(image).toBe(harness.state.find((s) => s.name === "dynamic-image")?.outputs.repoDigest);
    // The new tasks have new addresses. Well past the health checks' window (hcfails=3 every 2 s),
    // every node's proxy still deals new sessions to both members: a connect to an old address
    // failed and it looked the name up again, health checks included (each answering as its name).
    await sleep(12_000);
    for (const node of bed.nodes) {
      const dealt = new Set<string | null>();
      for (let i = 0; i < 4; i++) {
        dealt.add((await new HttpSession(node.proxyUrl).get("/api/animals/")).servedBy);
      }
      expect([...dealt].sort(), `${node.name} after the rollout`).toEqual([
        `${PREFIX}-dynamic-1`,
        `${PREFIX}-dynamic-2`,
      ]);
    }
  }, 300_000);

  it("an image that can't start: Swarm rolls back, `up` fails with the provider's message, the old task keeps serving", async () => {
    const broken = editedContext(DYNAMIC_CONTEXT, (dir) => {
      const server = path.join(dir, "server.js");
      writeFileSync(
        server,
        `process.exit(3); // broken on purpose\n${readFileSync(server, "utf8")}`,
      );
    });
    edits.push(broken);
    const before = (await inspectService(bed.manager, `${PREFIX}-dynamic-1`)).Spec.TaskTemplate
      .ContainerSpec.Image;
    const probe = startDowntimeProbe(bed.nodes[2].proxyUrl, { intervalMs: 50, maxSeconds: 240 });
    const failure = await harness
      .up({
        stack: STACK,
        config,
        secrets,
        contextOverrides: { ...contextOverrides, [DYNAMIC_CONTEXT]: broken.directory },
      })
      .then(
        () => undefined,
        (error: Error) => error,
      );
    const report = await probe.stop();
    console.log(formatDowntime(`${STACK} broken image via ${bed.nodes[2].name}`, report));
    console.log(`[swarm] broken image: ${failure?.message}`);
    // resourceDockerServiceUpdateRefreshFunc: UpdateStatus rollback_started, then
    // rollback_completed → "service rollback completed: <Swarm's message>".
    expect(failure?.message).toMatch(
      /^docker:index\/service:Service dynamic-1: service rollback completed: /,
    );
    // The provider reports the rollback as soon as the old task runs alone (rollback_started and
    // the replicas running); Swarm marks it completed a moment later.
    const after = await waitFor("dynamic-1's rollback to complete", 60_000, 500, async () => {
      const service = await inspectService(bed.manager, `${PREFIX}-dynamic-1`);
      return service.UpdateStatus?.State === "rollback_completed" ? service : undefined;
    });
    // Rolled back to the spec before: the image the service ran, and the old task kept serving.
    expect(after.Spec.TaskTemplate.ContainerSpec.Image).toBe(before);
    expect(report.failed, report.failures.join("; ")).toBe(0);

    // The engine stored the new inputs and the planned outputs, with the error (the bridge's
    // initializationError, step.go UpdateStep.Apply): the state names the broken image, while
    // Swarm runs the old one. A plain `up` of the same code would make an empty update and report
    // success for this member (the unit tests show it).
    const member = () => harness.state.find((s) => s.name === "dynamic-1")!;
    /** A service's image in its inputs or outputs (both shaped as @pulumi/docker's ServiceArgs). */
    const imageIn = (map: PropertyMap) =>
      (map as pulumi.Unwrap<docker.ServiceArgs>).taskSpec.containerSpec.image;
    expect(member().initErrors?.[0]).toMatch(/^service rollback completed: /);
    const recorded = imageIn(member().outputs);
    expect(recorded, "the state: the broken image").toBe(imageIn(member().inputs));
    expect(recorded).not.toBe(before);

    // `up --refresh` with the working code: the refresh reads the running spec back (the old
    // image) and clears the error; the services have nothing to redo.
    const refreshed = await harness.refresh();
    expect(refreshed.changed).toContain("dynamic-1");
    expect(member().initErrors).toBeUndefined();
    expect(imageIn(member().outputs)).toBe(before);
    const { plan } = await harness.up({ stack: STACK, config, secrets, contextOverrides });
    expect(touched(plan).filter((name) => name !== "dynamic-image")).toEqual([]);
  }, 300_000);

  it("a change of the proxy's settings: one node's proxy restarts at a time while the others keep answering", async () => {
    // Every node polled together, every 50 ms: per node, its longest run without an answer.
    const started = performance.now();
    const rounds: { at: number; ok: boolean[] }[] = [];
    let polling = true;
    const poller = (async () => {
      for (let round = 0; polling && round < 6_000; round++) {
        const at = (performance.now() - started) / 1000;
        const ok = await Promise.all(
          bed.nodes.map((node) =>
            new HttpSession(node.proxyUrl, 1_000)
              .get("/")
              .then((reply) => reply.status === 200)
              .catch(() => false),
          ),
        );
        rounds.push({ at, ok });
        await sleep(50);
      }
    })();
    let plan: Plan | undefined;
    let whenUpReturned: Record<string, string> | undefined;
    try {
      ({ plan } = await up({ serverName: "swarm.res.ch" }));
      const upTook = (performance.now() - started) / 1000;
      // How long `up` waited for the checks: from the proxy's update returning to the last check.
      const proxyStep = plan.steps.find((s) => s.name === "proxy");
      const checksEnded = Math.max(
        ...plan.steps.filter((s) => s.name.startsWith("proxy-ready-")).map((s) => s.ended),
      );
      console.log(
        `[swarm] proxy settings change (load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")}): ` +
          `up took ${upTook.toFixed(1)}s, the checks ` +
          `${((checksEnded - (proxyStep?.ended ?? 0)) / 1000).toFixed(1)}s after the proxy's update; ` +
          plan.steps
            .map((s) => `${s.op} ${s.name} ${((s.ended - s.started) / 1000).toFixed(1)}s`)
            .join(", "),
      );
      // `up` returned: each node's check converged, so each node's proxy runs the new settings.
      whenUpReturned = await reportedConfigs();
      await proxyRolledOut();
      // Every node answers again before the poller stops.
      await Promise.all(bed.nodes.map((node) => proxyAnswers(node.proxyUrl)));
      await sleep(1_000);
    } finally {
      polling = false;
      await poller;
    }
    expect(plan.update).toEqual(proxyResources());
    expect(touched(plan)).toEqual(proxyResources());
    expect(whenUpReturned, "every node's proxy when `up` returned").toEqual(
      await expectedConfigs(),
    );

    const gaps = bed.nodes.map((node, index) => {
      let longest = 0;
      let since: number | undefined;
      for (const round of rounds) {
        if (!round.ok[index]) since ??= round.at;
        else if (since !== undefined) {
          longest = Math.max(longest, round.at - since);
          since = undefined;
        }
      }
      return { node: node.name, gap: longest, failed: rounds.filter((r) => !r.ok[index]).length };
    });
    console.log(
      `[swarm] proxy settings change, ${rounds.length} rounds: ` +
        gaps.map((g) => `${g.node} gap ${g.gap.toFixed(2)}s (${g.failed} failed)`).join(", "),
    );
    const allDown = rounds.filter((round) => round.ok.every((ok) => !ok));
    expect(
      allDown.map((r) => r.at.toFixed(2)),
      "rounds where no node answered",
    ).toEqual([]);
    // Each node's proxy was restarted (stop-first: its port is free for a moment) and came back.
    for (const round of rounds.slice(-3)) expect(round.ok).toEqual([true, true, true]);
    const proxy = await inspectService(bed.manager, `${PREFIX}-proxy`);
    expect(proxy.Spec.TaskTemplate.ContainerSpec.Env).toContain("SERVER_NAME=swarm.res.ch");
  }, 300_000);

  it("scaling the static pool out and in changes only the affected member service and the proxy", async () => {
    const out = await up({ serverName: "swarm.res.ch", staticBackends: 3 });
    expect(out.plan.create).toEqual(["static-3"]);
    expect(touched(out.plan).sort()).toEqual([...proxyResources(), "static-3"]);
    await proxyRolledOut();
    await Promise.all(bed.nodes.map((node) => proxyAnswers(node.proxyUrl)));
    const servedBy = new Set<string | null>();
    for (let i = 0; i < 9; i++)
      servedBy.add((await new HttpSession(bed.nodes[0].proxyUrl).get("/")).servedBy);
    expect(servedBy).toContain(`${PREFIX}-static-3`);

    const back = await up({ serverName: "swarm.res.ch" });
    expect(back.plan.delete).toEqual(["static-3"]);
    expect(touched(back.plan).sort()).toEqual([...proxyResources(), "static-3"]);
    const services = (await bed.manager.listServices()).map((s) => s.Spec?.Name).sort();
    expect(services).toEqual(
      [
        "dynamic-1",
        "dynamic-2",
        "proxy",
        ...bed.nodes.map((node) => `proxy-ready-${node.name}`),
        "static-1",
        "static-2",
      ].map((n) => `${PREFIX}-${n}`),
    );
  }, 300_000);

  it("a changed networkSubnet, with HTTPS turned on in the same up: the overlay and every service on it replaced, services first, and every node serves the given certificate", async () => {
    const network = () => harness.state.find((s) => s.name === "network")!;
    const subnet = () =>
      (network().outputs as pulumi.Unwrap<docker.NetworkArgs>).ipamConfigs?.[0].subnet;
    const current = subnet()!;
    const octets = current.split(".").map(Number);
    const next = `${octets[0]}.${octets[1]}.${(octets[2] + 1) % 256}.0/24`;
    // Every service is replaced anyway: the certificate comes with it at no extra rollout.
    const change = { serverName: TLS_NAME, networkSubnet: next, ...tlsConfig };
    const { plan } = await up(change, tlsSecrets);
    console.log(
      `[swarm] networkSubnet change with HTTPS: ${plan.steps.map((s) => `${s.op} ${s.name} ${((s.ended - s.started) / 1000).toFixed(1)}s`).join(", ")}`,
    );
    const services = ["dynamic-1", "dynamic-2", ...proxyResources(), "static-1", "static-2"];
    expect(plan.replace).toEqual([...services, "network"].sort());
    expect(plan.create).toEqual(["tls-certificate", "tls-private-key"]);
    const steps = plan.steps.map((step) => `${step.op} ${step.name}`);
    // replaceWith puts every service into the network's delete-before-replace chain.
    for (const service of services) {
      expect(steps.indexOf(`delete-replaced ${service}`), service).toBeLessThan(
        steps.indexOf("delete-replaced network"),
      );
      expect(steps.indexOf(`create-replacement ${service}`), service).toBeGreaterThan(
        steps.indexOf("create-replacement network"),
      );
    }
    expect(subnet()).toBe(next);
    // `up` waited for each node's check, which asks over plain HTTP: it got the new digest.
    expect(await reportedConfigs()).toEqual(await expectedConfigs());

    const started = performance.now();
    const leaf = new X509Certificate(issued.leaf).serialNumber;
    for (const node of bed.nodes) {
      const https = (path: string) =>
        httpsGet({ port: node.httpsPort, path, ca: ca.root, servername: TLS_NAME });
      const page = await waitFor(`HTTPS on ${node.name}`, 60_000, 500, () =>
        https("/").then(
          (reply) => (reply.status === 200 ? reply : undefined),
          () => undefined,
        ),
      );
      expect(page.authorized, `${node.name}: the chain verifies against the CA`).toBe(true);
      expect(page.serial, node.name).toBe(leaf);
      expect((await https("/api/animals/")).status, `${node.name}: the API`).toBe(200);
      const plain = await plainGet({ port: Number(new URL(node.proxyUrl).port), path: "/x" });
      expect(plain.status, `${node.name}: plain HTTP redirects`).toBe(301);
      expect(plain.headers.location).toBe(`https://127.0.0.1:${NODE_HTTPS_PORT}/x`);
    }

    // The key: in no service spec, in no task's environment; a root-only file in the task.
    const inspected = JSON.stringify(await inspectService(bed.manager, `${PREFIX}-proxy`));
    expect(inspected).not.toContain(keyBody);
    expect(inspected).toContain("TLS_PRIVATE_KEY_FILE=/run/secrets/tls-private-key.pem");
    const node = bed.nodes[1];
    const [task] = await node.api.listContainers({
      filters: JSON.stringify({ label: [`com.docker.swarm.service.name=${PREFIX}-proxy`] }),
    });
    const probe = await execInContainer(node.api, task.Id, [
      "sh",
      "-c",
      "tr '\\0' '\\n' < /proc/1/environ; stat -c '%a %U' /run/secrets/tls-private-key.pem",
    ]);
    expect(probe.stdout).toContain("TLS_PRIVATE_KEY_FILE=/run/secrets/tls-private-key.pem");
    expect(probe.stdout).not.toContain(keyBody);
    expect(
      probe.stdout,
      "the key file is Apache's user's alone (www-data: no root process)",
    ).toContain("400 www-data");
    const secretNames = (await bed.manager.listSecrets()).map((secret) => secret.Spec?.Name);
    expect(secretNames).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${PREFIX}-tls-certificate-[0-9a-f]{12}$`)),
        expect.stringMatching(new RegExp(`^${PREFIX}-tls-private-key-[0-9a-f]{12}$`)),
      ]),
    );
    console.log(
      `[swarm] HTTPS checked on ${bed.nodes.length} nodes in ${((performance.now() - started) / 1000).toFixed(1)}s`,
    );
    // Nothing left to do: the replacements and the three secret references read back as declared.
    const again = await up(change, tlsSecrets);
    expect(again.plan.steps).toEqual([]);
  }, 300_000);

  it("destroy leaves no service, secret or network of the stack on any node, and the bed leaves nothing on the host", async () => {
    destroyed = true;
    const left = await harness.destroy();
    expect(left.services, "services left").toBeUndefined();
    expect(left.secrets, "secrets left").toBeUndefined();
    // The overlay is gone from the manager when destroy returns: with stop_grace_period set, the
    // provider's deleteService waited for the services' containers there before the network's
    // delete. Containers on the workers stop on their own, within seconds.
    expect((await bed.manager.listNetworks()).map((n) => n.Name)).not.toContain(`${PREFIX}-net`);
    const settled = await waitFor("the stack's containers to go", 60_000, 500, async () => {
      const now = await harness.leftovers();
      return now.containers.length === 0 ? now : undefined;
    });
    expect(settled).toEqual({ containers: [], networks: [] });
    expect(await bed.manager.listServices()).toEqual([]);
    expect((await bed.manager.listSecrets()).map((s) => s.Spec?.Name)).toEqual([]);
    // A removed service's containers stop on their nodes shortly after the call returns.
    for (const node of bed.nodes) {
      await waitFor(`${node.name} to run no container of the stack`, 60_000, 500, async () => {
        const containers = await node.api.listContainers({ all: true });
        return containers.some((c) => c.Names.some((n) => n.includes(PREFIX))) ? undefined : true;
      });
      const networks = (await node.api.listNetworks()).map((n) => n.Name);
      expect(networks, node.name).not.toContain(`${PREFIX}-net`);
    }
    expect(await bed.remove()).toEqual([]);
    expect(await listTestbedLeftovers(bed.host)).toEqual([]);
  }, 180_000);
});
