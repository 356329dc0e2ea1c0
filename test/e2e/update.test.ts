// `pulumi up` after `pulumi up`, end to end: one stack deployed on the Docker engine through the
// harness, then updated again and again (no-op, scaling, edited images, proxy settings) while a
// client polls through the proxy on 127.0.0.1. Each step checks the plan the way a reader checks
// `pulumi preview`, then the engine and the proxy. Required in CI.
import { appendFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { baseImageConfig, describeWithDocker, formatTimings } from "../support/e2eStack";
import { formatDowntime, startDowntimeProbe, type DowntimeReport } from "../support/downtimeProbe";
import { DockerHarness, HARNESS_LABEL } from "../support/harness/dockerHarness";
import { DockerProvider } from "../support/harness/dockerProvider";
import { UpdateEngine, type Plan } from "../support/harness/engine";
import { CONTAINER } from "../support/harness/inputs";
import { editedContext, type EditedContext } from "../support/harness/editedContext";
import { HttpSession } from "../support/httpSession";
import { HOST_PORTS } from "../support/ports";
import { proxyMetClosedMember } from "../support/proxyErrorLog";

const STACK = "e2e-update";
const PORT = HOST_PORTS.update.ports.proxy;
const URL = `http://127.0.0.1:${PORT}/`;
const PASSWORD = "e2e-update-manager-password";
const STATIC_CONTEXT = "docker-images/apache-php-image";
const DYNAMIC_CONTEXT = "docker-images/express-image";
const LANDING_MARKER = "<!-- e2e-update: landing page edited -->";
const API_MARKER = "// e2e-update: API edited";

describeWithDocker("pulumi up after pulumi up (e2e-update)", () => {
  const harness = new DockerHarness(STACK);
  const edits: EditedContext[] = [];
  let config: Record<string, string | number> = {};
  let secrets: Record<string, string> | undefined;
  let contextOverrides: Record<string, string> = {};
  let destroyed = false;

  const name = (role: string, index?: number) =>
    `http-infra-${STACK}-${role}${index === undefined ? "" : `-${index}`}`;

  /** Every container of the stack on the engine: name → id and start time. */
  const containers = async () => {
    const listed = await harness.docker.listContainers({
      all: true,
      filters: { label: [`${HARNESS_LABEL}=${STACK}`] },
    });
    const result: Record<string, { id: string; startedAt: string }> = {};
    for (const summary of listed) {
      const info = await harness.docker.getContainer(summary.Id).inspect();
      result[info.Name.replace(/^\//, "")] = { id: info.Id, startedAt: info.State.StartedAt };
    }
    return result;
  };

  /** `pulumi up` with the current settings while the probe polls; returns plan and downtime. */
  const up = async (label: string): Promise<{ plan: Plan; downtime: DowntimeReport }> => {
    const probe = startDowntimeProbe(URL);
    let plan: Plan;
    try {
      ({ plan } = await harness.up({ stack: STACK, config, secrets, contextOverrides }));
    } finally {
      console.log(formatDowntime(label, await probe.stop()));
    }
    const downtime = await probe.stop();
    const summary = (["create", "update", "replace", "delete"] as const)
      .map((op) => `${op} [${plan[op].join(", ")}]`)
      .join(", ");
    console.log(`[plan] ${label}: ${summary}`);
    return { plan, downtime };
  };

  /**
   * Every member serves: fresh requests reach each static and each dynamic backend. A proxy just
   * created finds its members by health check (hcinterval=2), so this keeps asking for up to 20 s.
   */
  const expectEveryMemberServes = async (statics: number, dynamics: number) => {
    const expected = {
      "/": Array.from({ length: statics }, (_, i) => name("static", i + 1)),
      "/api/animals/": Array.from({ length: dynamics }, (_, i) => name("dynamic", i + 1)),
    };
    for (const [route, members] of Object.entries(expected)) {
      const seen = new Set<string>();
      const deadline = performance.now() + 20_000;
      for (let i = 0; i < 400 && seen.size < members.length && performance.now() < deadline; i++) {
        const reply = await new HttpSession(URL).get(route);
        expect(reply.status, `${route} request ${i + 1}`).toBe(200);
        if (reply.servedBy) seen.add(reply.servedBy);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect([...seen].sort(), `members serving ${route}`).toEqual([...members].sort());
    }
  };

  /** The members the proxy is configured with, read from its environment. */
  const proxyMembers = async () => {
    const info = await harness.docker.getContainer(name("proxy")).inspect();
    return (info.Config.Env ?? []).filter((e) => /^(STATIC|DYNAMIC)_APP_\d+=/.test(e)).length;
  };

  beforeAll(async () => {
    config = { ...(await baseImageConfig(harness.docker)), proxyPort: PORT };
    await harness.up({ stack: STACK, config });
  }, 900_000);

  afterAll(async () => {
    for (const edit of edits) edit.remove();
    // After a failed test, the destroy test never ran: leave nothing behind anyway.
    if (!destroyed) await harness.destroy();
    console.log(formatTimings(STACK, harness.timings));
  }, 300_000);

  it("a second run with nothing changed: all unchanged, no container restarted", async () => {
    const before = await containers();
    const { plan, downtime } = await up("no-op");
    expect(plan.same.length).toBe(harness.state.length);
    expect([...plan.create, ...plan.update, ...plan.replace, ...plan.delete]).toEqual([]);
    expect(plan.steps, "no provider call").toEqual([]);
    expect(await containers(), "same ids and start times").toEqual(before);
    expect(downtime.failed, downtime.failures.join("; ")).toBe(0);
  }, 300_000);

  it("2+2 → 3+4 → 1+1 → 2+2: every member serves, removed ones are gone, only the proxy is replaced", async () => {
    let previous = { statics: 2, dynamics: 2 };
    for (const [statics, dynamics] of [
      [3, 4],
      [1, 1],
      [2, 2],
    ]) {
      const before = await containers();
      config = { ...config, staticBackends: statics, dynamicBackends: dynamics };
      const { plan } = await up(
        `${previous.statics}+${previous.dynamics} → ${statics}+${dynamics}`,
      );
      const members = (role: string, from: number, to: number) =>
        Array.from({ length: Math.max(0, to - from) }, (_, i) => `${role}-${from + i + 1}`);
      expect(plan.create).toEqual(
        [
          ...members("static", previous.statics, statics),
          ...members("dynamic", previous.dynamics, dynamics),
        ].sort(),
      );
      expect(plan.delete).toEqual(
        [
          ...members("static", statics, previous.statics),
          ...members("dynamic", dynamics, previous.dynamics),
        ].sort(),
      );
      expect(plan.replace, "only the proxy, for its envs").toEqual(["proxy"]);
      expect(plan.keys.proxy, "the envs digest fired the trigger").toEqual(["replacementTrigger"]);
      expect(plan.update).toEqual([]);

      const after = await containers();
      // Members that stay were not touched; removed ones are gone from the engine.
      for (const role of ["static", "dynamic"] as const) {
        const count = role === "static" ? statics : dynamics;
        const was = role === "static" ? previous.statics : previous.dynamics;
        for (let i = 1; i <= Math.min(count, was); i++) {
          expect(after[name(role, i)], `${name(role, i)} untouched`).toEqual(before[name(role, i)]);
        }
        for (let i = count + 1; i <= was; i++) {
          expect(after[name(role, i)], `${name(role, i)} removed`).toBeUndefined();
        }
      }
      expect(await proxyMembers(), "the proxy lists exactly the members").toBe(statics + dynamics);
      await expectEveryMemberServes(statics, dynamics);
      previous = { statics, dynamics };
    }
  }, 900_000);

  /**
   * A rebuilt backend image rolls through its pool: each member is stopped gracefully and
   * re-created, one at a time (member i+1 waits for member i), while the proxy keeps running (the
   * same container: ignoreChanges on envs, the trigger unchanged as the addresses are fixed) and
   * no polled request fails. Each stopped member drained first, so the proxy had taken it out
   * before it closed: no request of the proxy met it closed (`since`: when the `up` began).
   */
  const expectRolled = async (
    role: "static" | "dynamic",
    plan: Plan,
    downtime: DowntimeReport,
    before: Awaited<ReturnType<typeof containers>>,
    since: number,
  ) => {
    const other = role === "static" ? "dynamic" : "static";
    expect(plan.update).toEqual([`${role}-image`]);
    expect(plan.replace, "only the rebuilt image's members").toEqual([`${role}-1`, `${role}-2`]);
    expect([...plan.create, ...plan.delete]).toEqual([]);
    const at = (op: string, member: string) =>
      plan.steps.find((step) => step.op === op && step.name === member)!;
    expect(
      at("delete-replaced", `${role}-2`).started,
      `${role}-2 is stopped only once ${role}-1 is back`,
    ).toBeGreaterThanOrEqual(at("create-replacement", `${role}-1`).ended);
    const after = await containers();
    expect(after[name("proxy")], "the proxy: same container, not restarted").toEqual(
      before[name("proxy")],
    );
    for (const i of [1, 2]) {
      expect(after[name(other, i)], `${other}-${i} untouched`).toEqual(before[name(other, i)]);
      expect(after[name(role, i)].id, `${role}-${i} replaced`).not.toBe(before[name(role, i)].id);
    }
    expect(downtime.failed, downtime.failures.join("; ")).toBe(0);
    expect(
      await proxyMetClosedMember(harness.docker.getContainer(name("proxy")), since),
      "the proxy's error log: requests that met a member closed",
    ).toEqual([]);
  };

  it("an edited landing page rolls the static members one at a time: proxy untouched, no request fails", async () => {
    const before = await containers();
    const edit = editedContext(STATIC_CONTEXT, (dir) =>
      appendFileSync(path.join(dir, "index.php"), `\n${LANDING_MARKER}\n`),
    );
    edits.push(edit);
    contextOverrides = { ...contextOverrides, [STATIC_CONTEXT]: edit.directory };
    const since = Math.floor(Date.now() / 1000);
    const { plan, downtime } = await up("landing page edited (static image rebuilt)");
    await expectRolled("static", plan, downtime, before, since);
    const page = await new HttpSession(URL).get("/");
    expect(page.body).toContain(LANDING_MARKER);
    await expectEveryMemberServes(2, 2);
  }, 900_000);

  it("an edited API rolls the dynamic members one at a time: proxy untouched, no request fails", async () => {
    const before = await containers();
    const edit = editedContext(DYNAMIC_CONTEXT, (dir) =>
      appendFileSync(path.join(dir, "app.js"), `\n${API_MARKER}\n`),
    );
    edits.push(edit);
    contextOverrides = { ...contextOverrides, [DYNAMIC_CONTEXT]: edit.directory };
    const since = Math.floor(Date.now() / 1000);
    const { plan, downtime } = await up("API edited (dynamic image rebuilt)");
    await expectRolled("dynamic", plan, downtime, before, since);
    await expectEveryMemberServes(2, 2);
  }, 900_000);

  it("serverName changed, then the manager password set: only the proxy is replaced", async () => {
    for (const [label, change] of [
      ["serverName changed", () => (config = { ...config, serverName: "updated.res.ch" })],
      ["balancer-manager password set", () => (secrets = { balancerManagerPassword: PASSWORD })],
    ] as const) {
      const before = await containers();
      change();
      const { plan } = await up(label);
      expect(plan.replace, label).toEqual(["proxy"]);
      expect([...plan.create, ...plan.update, ...plan.delete], label).toEqual([]);
      const after = await containers();
      for (const [container, state] of Object.entries(before)) {
        if (container === name("proxy")) expect(after[container].id).not.toBe(state.id);
        else expect(after[container], `${container} untouched`).toEqual(state);
      }
    }
    const manager = await new HttpSession(URL).get("/balancer-manager");
    expect(manager.status, "the manager now asks for the password").toBe(401);
    await expectEveryMemberServes(2, 2);
  }, 900_000);

  it("a changed restart policy is updated in place: same container, new policy (provider's ContainerUpdate)", async () => {
    // The program has no setting that changes only `restart`, so this drives the harness's engine
    // and Docker provider directly with one container of the stack's static image.
    const provider = new DockerProvider(harness.docker, { [HARNESS_LABEL]: STACK }, (_, work) =>
      work(),
    );
    const engine = new UpdateEngine(provider);
    const image = harness.state.find((r) => r.name === "static-image")!.outputs
      .repoDigest as string;
    const containerName = `http-infra-${STACK}-restart-probe`;
    const deploy = async (restart: string) => {
      engine.beginRun();
      await engine.register(
        {
          type: CONTAINER,
          name: "restart-probe",
          custom: true,
          inputs: { name: containerName, image, restart, wait: true, waitTimeout: 120 },
        },
        {
          urn: `urn:pulumi:${STACK}::http-infra::${CONTAINER}::restart-probe`,
          parent: "",
          deleteBeforeReplace: undefined,
          dependencies: [],
          propertyDependencies: {},
        },
      );
      return engine.finishRun();
    };
    try {
      await deploy("no");
      const before = await harness.docker.getContainer(containerName).inspect();
      const plan = await deploy("unless-stopped");
      expect(plan.update).toEqual(["restart-probe"]);
      expect(plan.keys["restart-probe"]).toEqual(["restart"]);
      const after = await harness.docker.getContainer(containerName).inspect();
      expect(after.Id, "the same container").toBe(before.Id);
      expect(after.State.StartedAt, "not restarted").toBe(before.State.StartedAt);
      expect(after.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    } finally {
      await engine.destroy();
    }
  }, 300_000);

  it("destroy leaves nothing on the engine", async () => {
    destroyed = true;
    expect(await harness.destroy()).toEqual({ containers: [], networks: [] });
    const network = await harness.docker
      .getNetwork(`http-infra-${STACK}-net`)
      .inspect()
      .catch(() => undefined);
    expect(network, "the stack's network").toBeUndefined();
  }, 300_000);
});
