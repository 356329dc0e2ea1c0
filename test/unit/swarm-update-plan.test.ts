// Swarm mode, `pulumi up` after `pulumi up`: the real index.ts with `deployTarget: swarm` run twice
// through the harness's update engine over its in-memory provider, asserting on the plan. The
// service and secret rules are in test/support/harness/resources/{service,secret}.ts, each citing
// terraform-provider-docker v4.5.0.
import { appendFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { editedContext, type EditedContext } from "../support/harness/editedContext";
import { MemoryStack } from "../support/harness/memoryProvider";
import { SECRET } from "../support/harness/resources/secret";
import { SERVICE } from "../support/harness/resources/service";
import { diffInputs } from "../support/harness/updateRules";

vi.mock("../../src/engineNetworks", () => ({
  listEngineNetworks: async () => ({ networks: [] }),
}));
vi.mock("../../src/swarm/swarmNodes", () => ({
  listSwarmNodes: async () => ({
    nodes: [1, 2, 3].map((n) => ({
      id: `id${n}`,
      hostname: `node-${n}`,
      labels: {},
      availability: "active",
    })),
  }),
}));

const SWARM = { deployTarget: "swarm", registry: "127.0.0.1:5000" };
const PASSWORD = "unit-manager-password";
const everything = [
  "balancer-manager-password",
  "dynamic",
  "dynamic-1",
  "dynamic-2",
  "dynamic-image",
  "network",
  "proxy",
  "proxy-image",
  "proxy-ready-node-1",
  "proxy-ready-node-2",
  "proxy-ready-node-3",
  "static",
  "static-1",
  "static-2",
  "static-image",
];
const without = (...names: string[]) => everything.filter((name) => !names.includes(name));
const ops = (steps: { op: string; name: string }[]) => steps.map((s) => `${s.op} ${s.name}`);
/** The proxy and the check on each node that `up` waits for (src/swarm/proxyReady.ts). */
const PROXY = ["proxy", "proxy-ready-node-1", "proxy-ready-node-2", "proxy-ready-node-3"];
const CHECKS = PROXY.slice(1);

const edits: EditedContext[] = [];
afterEach(() => {
  for (const edit of edits.splice(0)) edit.remove();
});

async function deployed() {
  const stack = new MemoryStack("swarm");
  const secrets = { balancerManagerPassword: PASSWORD };
  await stack.up({ config: SWARM, secrets });
  return { stack, secrets };
}

describe("the provider's diff of two services (docker_service v4.5.0)", () => {
  const member = {
    name: "m",
    taskSpec: {
      containerSpec: { image: "r/m@sha256:1", env: { PORT: "3000" } },
      networksAdvanceds: [{ name: "net-1" }],
    },
    mode: { replicated: { replicas: 1 } },
  };
  const withTaskSpec = (change: Record<string, unknown>) => ({
    ...member,
    taskSpec: { ...member.taskSpec, ...change },
  });
  const withContainerSpec = (change: Record<string, unknown>) =>
    withTaskSpec({ containerSpec: { ...member.taskSpec.containerSpec, ...change } });

  it.each([
    ["a new image", withContainerSpec({ image: "r/m@sha256:2" })],
    ["a new env", withContainerSpec({ env: { PORT: "3001" } })],
    ["container labels", withContainerSpec({ labels: [{ label: "a", value: "1" }] })],
    ["a secret reference", withContainerSpec({ secrets: [{ secretId: "s2", fileName: "f" }] })],
  ])("%s updates the service in place (task_spec is not ForceNew there)", (_, news) => {
    const diff = diffInputs(SERVICE, "m", member, news);
    expect(diff.changedKeys).toEqual(["taskSpec"]);
    expect(diff.replaceKeys).toEqual([]);
  });

  it.each([
    ["replicas", { mode: { replicated: { replicas: 2 } } }, "mode"],
    ["the update policy", { updateConfig: { order: "start-first" } }, "updateConfig"],
    ["the rollback policy", { rollbackConfig: { order: "start-first" } }, "rollbackConfig"],
    ["the endpoint mode", { endpointSpec: { mode: "dnsrr" } }, "endpointSpec"],
    ["the convergence wait", { convergeConfig: { timeout: "1m" } }, "convergeConfig"],
  ])("%s: %j changes %s", (_, change, key) => {
    const diff = diffInputs(SERVICE, "m", member, { ...member, ...change });
    expect(diff.changedKeys).toEqual([key]);
  });

  it("replicas and global are `mode`, which is ForceNew: a replacement", () => {
    const diff = diffInputs(SERVICE, "m", member, { ...member, mode: { global: true } });
    expect(diff.replaceKeys).toEqual(["mode"]);
  });

  it("update, rollback, endpoint and convergence settings update in place", () => {
    const news = {
      ...member,
      updateConfig: { order: "start-first" },
      rollbackConfig: { order: "start-first" },
      endpointSpec: { mode: "dnsrr" },
      convergeConfig: { timeout: "1m" },
    };
    expect(diffInputs(SERVICE, "m", member, news).replaceKeys).toEqual([]);
  });

  it.each([
    ["the service name", { ...member, name: "n" }, "name"],
    ["its network", withTaskSpec({ networksAdvanceds: [{ name: "net-2" }] }), "taskSpec"],
    [
      "a network alias",
      withTaskSpec({ networksAdvanceds: [{ name: "net-1", aliases: ["x"] }] }),
      "taskSpec",
    ],
    ["hosts entries", withContainerSpec({ hosts: [{ host: "a", ip: "10.0.0.1" }] }), "taskSpec"],
    ["sysctls", withContainerSpec({ sysctl: { "net.ipv4.ip_forward": "1" } }), "taskSpec"],
  ])("a change of %s replaces the service", (_, news, key) => {
    const diff = diffInputs(SERVICE, "m", member, news);
    expect(diff.replaceKeys).toEqual([key]);
    expect(diff.deleteBeforeReplace, "an explicit name: the bridge asks delete-first").toBe(true);
  });

  it("labels left out keep their value (Optional+Computed)", () => {
    const labelled = { ...member, labels: [{ label: "a", value: "1" }] };
    expect(diffInputs(SERVICE, "m", labelled, member).changedKeys).toEqual([]);
  });

  it.each(["name", "data", "labels"])("a secret's %s is ForceNew", (key) => {
    const secret = { name: "s", data: "YQ==", labels: [{ label: "a", value: "1" }] };
    const changed = { ...secret, [key]: key === "labels" ? [] : "Yg==" };
    const diff = diffInputs(SECRET, "s", secret, changed);
    expect(diff.replaceKeys).toEqual([key]);
    expect(diff.deleteBeforeReplace, "an explicit name: the bridge asks delete-first").toBe(true);
  });
});

describe("swarm mode: what `pulumi up` does to a deployed stack", () => {
  it("a second run with nothing changed is all unchanged", async () => {
    const { stack, secrets } = await deployed();
    const { plan } = await stack.up({ config: SWARM, secrets });
    expect(plan.same).toEqual(everything);
    expect(plan.steps).toEqual([]);
  });

  it("an edited API rebuilds the dynamic image and updates its member services in place, not the proxy", async () => {
    const { stack, secrets } = await deployed();
    const edit = editedContext("docker-images/express-image", (dir) =>
      appendFileSync(path.join(dir, "app.js"), "\n// edited\n"),
    );
    edits.push(edit);
    const { plan } = await stack.up({
      config: SWARM,
      secrets,
      contextOverrides: { "docker-images/express-image": edit.directory },
    });
    expect(plan.update).toEqual(["dynamic-1", "dynamic-2", "dynamic-image"]);
    expect(plan.replace).toEqual([]);
    expect(plan.same).toEqual(without("dynamic-image", "dynamic-1", "dynamic-2"));
    expect(plan.keys["dynamic-1"]).toEqual(["taskSpec"]);
    // One member after the other (dependsOn): the pool never loses both at once.
    expect(ops(plan.steps)).toEqual([
      "update dynamic-image",
      "update dynamic-1",
      "update dynamic-2",
    ]);
    const [first, second] = plan.steps.slice(1);
    expect(second.started).toBeGreaterThanOrEqual(first.ended);
  });

  it("scaling a pool out and in touches only its new or removed members and the proxy", async () => {
    const { stack, secrets } = await deployed();
    const out = await stack.up({ config: { ...SWARM, staticBackends: 3 }, secrets });
    expect(out.plan.create).toEqual(["static-3"]);
    expect(out.plan.update).toEqual(PROXY);
    expect(out.plan.replace).toEqual([]);
    expect(out.plan.same).toEqual(without(...PROXY));

    const back = await stack.up({ config: SWARM, secrets });
    expect(back.plan.delete).toEqual(["static-3"]);
    expect(back.plan.update).toEqual(PROXY);
    expect(back.plan.same).toEqual(without(...PROXY));
    // The proxy stops naming the member before the member goes.
    const steps = ops(back.plan.steps);
    expect(steps.indexOf("delete static-3")).toBeGreaterThan(steps.indexOf("update proxy"));
  });

  it("a changed serverName updates only the proxy service, then the check on each node, which `up` waits for", async () => {
    const { stack, secrets } = await deployed();
    const { plan } = await stack.up({ config: { ...SWARM, serverName: "other.res.ch" }, secrets });
    expect(plan.update).toEqual(PROXY);
    expect(plan.replace).toEqual([]);
    expect(plan.same).toEqual(without(...PROXY));
    const proxy = plan.steps.find((step) => step.name === "proxy")!;
    for (const check of CHECKS) {
      const step = plan.steps.find((s) => s.name === check)!;
      expect(step.started, `${check} starts after the proxy's update`).toBeGreaterThanOrEqual(
        proxy.ended,
      );
    }
  });

  it("a new password: the new secret first, then the proxy moves to it, then the old secret goes", async () => {
    const { stack } = await deployed();
    const { plan } = await stack.up({
      config: SWARM,
      secrets: { balancerManagerPassword: "another-manager-password" },
    });
    expect(plan.replace).toEqual(["balancer-manager-password"]);
    expect(plan.update).toEqual(PROXY);
    const steps = ops(plan.steps);
    expect(steps.slice(0, 2)).toEqual([
      "create-replacement balancer-manager-password",
      "update proxy",
    ]);
    expect(steps.at(-1)).toBe("delete-replaced balancer-manager-password");
  });

  it("a changed networkSubnet replaces the overlay and every service on it, delete-first", async () => {
    const { stack, secrets } = await deployed();
    const { plan } = await stack.up({
      config: { ...SWARM, networkSubnet: "10.99.0.0/24" },
      secrets,
    });
    expect(plan.replace).toEqual([
      "dynamic-1",
      "dynamic-2",
      "network",
      ...PROXY,
      "static-1",
      "static-2",
    ]);
    const steps = ops(plan.steps);
    expect(steps.indexOf("delete-replaced network")).toBeGreaterThan(
      steps.indexOf("delete-replaced static-1"),
    );
    expect(steps.indexOf("create-replacement network")).toBeLessThan(
      steps.indexOf("create-replacement static-1"),
    );
  });
});
