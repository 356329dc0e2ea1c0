// `pulumi up --refresh` end to end: the stack deployed on Docker through the harness, then Docker
// changed under it (a member stopped, a member removed, the engine itself restarted, as a host
// reboot does), then `up` with a refresh first. The refresh runs the provider's Read on every
// resource (resourceDockerContainerRead, resourceDockerNetworkRead in
// test/support/harness/resources/) and the diff compares the new inputs with what Read reported,
// so what Docker reports after a reboot (kreuzwerker/terraform-provider-docker issue 54: a
// gateway appearing in ipam_config replaced every resource) shows up here as it would for a user.
// Required in CI.
import { afterAll, beforeAll, expect, it } from "vitest";
import { ownEngine, restartOwnEngine } from "../support/dockerEngine";
import { baseImageConfig, describeWithDocker, formatTimings } from "../support/e2eStack";
import { DockerHarness } from "../support/harness/dockerHarness";
import { HttpSession } from "../support/httpSession";
import { HOST_PORTS } from "../support/ports";

const STACK = "e2e-refresh";
const PORT = HOST_PORTS.refresh.ports.proxy;
const URL = `http://127.0.0.1:${PORT}/`;

describeWithDocker("pulumi up --refresh (e2e-refresh)", () => {
  const harness = new DockerHarness(STACK);
  let config: Record<string, string | number> = {};
  const name = (role: string, index?: number) =>
    `http-infra-${STACK}-${role}${index === undefined ? "" : `-${index}`}`;
  const stateId = (resource: string) => harness.state.find((r) => r.name === resource)?.id;
  const ipamConfig = async () =>
    JSON.stringify((await harness.docker.getNetwork(name("net")).inspect()).IPAM?.Config);

  /** Every path answers through the proxy (bounded: 60 tries, 1 s apart). */
  const serving = async () => {
    for (let attempt = 0; attempt < 60; attempt++) {
      const replies = await Promise.all([
        new HttpSession(URL).get("/").catch(() => undefined),
        new HttpSession(URL).get("/api/animals/").catch(() => undefined),
      ]);
      if (replies.every((reply) => reply?.status === 200)) return true;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return false;
  };

  beforeAll(async () => {
    config = { ...(await baseImageConfig(harness.docker)), proxyPort: PORT };
    await harness.up({ stack: STACK, config });
  }, 600_000);

  afterAll(async () => {
    expect(await harness.destroy(), "nothing left behind").toEqual({
      containers: [],
      networks: [],
    });
    console.log(formatTimings(STACK, harness.timings));
  }, 300_000);

  it("right after a deploy, a refresh reads back what the deploy recorded, and up --refresh touches nothing", async () => {
    expect(await harness.refresh()).toEqual({ changed: [], gone: [] });
    const { plan } = await harness.up({ stack: STACK, config, refresh: true });
    expect(plan.steps, "no provider step").toEqual([]);
    expect(plan.same).toHaveLength(11);
  });

  it("a member stopped outside Pulumi: up --refresh starts it in place and leaves the proxy; the next up --refresh changes nothing", async () => {
    const before = stateId("static-1");
    const proxyBefore = stateId("proxy");
    await harness.docker.getContainer(name("static", 1)).stop({ t: 5 });
    // Read of a stopped container: must_run false (an update starts it again) and network_data
    // with an empty address, which the update keeps (resourceDockerContainerUpdate reads nothing
    // back). The pool then reads the member's fixed address from what it asked for
    // (networksAdvanced, src/proxyEnvironment.ts ipOnNetwork): the proxy's envs and their digest
    // stay the same, so the proxy is left running.
    const { plan } = await harness.up({ stack: STACK, config, refresh: true });
    expect(plan.update, "must_run false → true").toEqual(["static-1"]);
    expect([...plan.create, ...plan.replace, ...plan.delete]).toEqual([]);
    expect(stateId("static-1"), "the same container").toBe(before);
    expect(stateId("proxy"), "the same proxy").toBe(proxyBefore);
    const info = await harness.docker.getContainer(name("static", 1)).inspect();
    expect(info.State.Running, "started by the update").toBe(true);
    const next = await harness.up({ stack: STACK, config, refresh: true });
    expect(next.plan.steps, "no provider step").toEqual([]);
    expect(await serving(), "both paths answer").toBe(true);
  }, 180_000);

  it("a member removed outside Pulumi: Read drops it from the state, and up --refresh creates it again", async () => {
    await harness.docker.getContainer(name("dynamic", 2)).remove({ force: true });
    const { plan } = await harness.up({ stack: STACK, config, refresh: true });
    expect(plan.create).toEqual(["dynamic-2"]);
    // Its fixed address comes back with it: the proxy's environment is the same.
    expect(plan.replace).toEqual([]);
    expect(await serving(), "both paths answer").toBe(true);
  }, 300_000);

  const engine = ownEngine();
  const notOurs = "why" in engine ? engine.why : undefined;
  if (notOurs) console.warn(`[e2e] the engine-restart refresh test is skipped: ${notOurs}`);
  // Skipped (saying why) only where restarting the engine would hit a daemon this suite doesn't own.
  it.skipIf(notOurs !== undefined)(
    "after an engine restart, up --refresh replaces no network and no container",
    async () => {
      const ids = Object.fromEntries(harness.state.map((r) => [r.name, r.id]));
      const before = await ipamConfig();
      const seconds = await restartOwnEngine((engine as { pid: number }).pid);
      const after = await ipamConfig();
      console.log(
        `[e2e] engine restarted in ${seconds.toFixed(1)}s; the network's IPAM.Config before: ` +
          `${before}, after: ${after}`,
      );
      const refreshed = await harness.refresh();
      console.log(`[e2e] refresh after the restart: ${JSON.stringify(refreshed)}`);
      const { plan } = await harness.up({ stack: STACK, config });
      console.log(`[e2e] up after the restart: ${JSON.stringify({ ...plan, steps: undefined })}`);
      expect(plan.replace, "replaced after the restart").toEqual([]);
      expect(plan.create, "created after the restart").toEqual([]);
      expect(plan.delete, "deleted after the restart").toEqual([]);
      for (const resource of harness.state) {
        expect(resource.id, resource.name).toBe(ids[resource.name]);
      }
      expect(await serving(), "both paths answer").toBe(true);
    },
    300_000,
  );
});
