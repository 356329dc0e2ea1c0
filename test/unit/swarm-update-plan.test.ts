// Swarm mode, `pulumi up` after `pulumi up`: the real index.ts with `deployTarget: swarm` run twice
// through the harness's update engine over its in-memory provider, asserting on the plan. The
// service and secret rules are in test/support/harness/resources/{service,secret}.ts, each citing
// terraform-provider-docker v4.5.0.
import { appendFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { PropertyMap } from "../support/harness/propertyMap";
import { editedContext, type EditedContext } from "../support/harness/editedContext";
import { MemoryStack } from "../support/harness/memoryProvider";
import { SECRET, secret } from "../support/harness/resources/secret";
import { SERVICE, service } from "../support/harness/resources/service";
import { diffInputs, UNKNOWN } from "../support/harness/updateRules";
import type { ProxyCheckState, SwarmNode } from "../../src/swarm/swarmNodes";
import { createTestCa, type IssuedCertificate } from "../support/testCa";

vi.mock("../../src/engineNetworks", () => ({
  listEngineNetworks: async () => ({ networks: [] }),
}));
/** What the manager reports of node 2 besides its name: its state and its proxy checks. */
const node2 = vi.hoisted(
  (): Pick<SwarmNode, "state"> & { proxyChecks: Record<string, ProxyCheckState> } => ({
    state: "ready",
    proxyChecks: {},
  }),
);
vi.mock("../../src/swarm/swarmNodes", () => ({
  listSwarmNodes: async () => ({
    nodes: [1, 2, 3].map((n) => ({
      id: `id${n}`,
      hostname: `node-${n}`,
      labels: {},
      availability: "active",
      state: "ready",
      platform: { os: "linux", architecture: "x86_64" },
      proxyChecks: {},
      ...(n === 2 ? node2 : {}),
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
  node2.state = "ready";
  node2.proxyChecks = {};
});

async function deployed() {
  const stack = new MemoryStack("swarm");
  const secrets = { balancerManagerPassword: PASSWORD };
  await stack.up({ config: SWARM, secrets });
  return { stack, secrets };
}

describe("the provider's diff of a deployed service against new inputs (docker_service v4.5.0)", () => {
  const member = {
    name: "m",
    taskSpec: {
      containerSpec: { image: "r/m@sha256:1", env: { PORT: "3000" }, stopGracePeriod: "10s" },
      networksAdvanceds: [{ id: "net-1" }],
      restartPolicy: { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" },
    },
    mode: { replicated: { replicas: 1 } },
    updateConfig: { order: "start-first", maxFailureRatio: "0" },
    endpointSpec: { mode: "dnsrr" },
  };
  /** The state Create leaves: what Read reports for the service Swarm made of these inputs. */
  const deployedAs = (inputs: PropertyMap) =>
    service.memory.create(memory, inputs, "id-m") as pulumi.Unwrap<docker.ServiceArgs>;
  const memory = { nextAddress: () => "10.99.0.10", resolveContext: (p: string) => p };
  const withTaskSpec = (change: Record<string, unknown>) => ({
    ...member,
    taskSpec: { ...member.taskSpec, ...change },
  });
  const withContainerSpec = (change: Record<string, unknown>) =>
    withTaskSpec({ containerSpec: { ...member.taskSpec.containerSpec, ...change } });
  const diffFrom = (deployed: PropertyMap, news: PropertyMap) =>
    diffInputs(SERVICE, "m", deployedAs(deployed), news);

  it("the state is the provider's read-back, not the inputs: the attachment as `id`, Swarm's runtime, Go durations", () => {
    const state = deployedAs(member);
    expect(state.taskSpec.networksAdvanceds).toEqual([{ id: "net-1", driverOpts: [] }]);
    expect(state.taskSpec.runtime).toBe("container");
    expect(state.taskSpec.forceUpdate).toBe(0);
    expect(state.taskSpec.containerSpec.healthcheck, "an empty HealthConfig, read back").toEqual({
      interval: "0s",
      timeout: "0s",
      startPeriod: "0s",
      retries: 0,
    });
    expect(state.updateConfig?.maxFailureRatio, "strconv.FormatFloat(…, 'f', 1, 64)").toBe("0.0");
    expect(state.updateConfig?.monitor, "the schema's default").toBe("5s");
  });

  it("the same inputs again: no change", () => {
    expect(diffFrom(member, member)).toMatchObject({ changedKeys: [], replaceKeys: [] });
  });

  it("a network attachment by `name` reads back as `id`: every run replaces the service", () => {
    const byName = withTaskSpec({ networksAdvanceds: [{ name: "net-1" }] });
    expect(deployedAs(byName).taskSpec.networksAdvanceds).toEqual([
      { id: "net-1", driverOpts: [] },
    ]);
    expect(diffFrom(byName, byName).replaceKeys).toEqual(["taskSpec"]);
  });

  it.each([
    ["delay", { condition: "any", maxAttempts: 0, window: "0s" }],
    ["window", { condition: "any", delay: "5s", maxAttempts: 0 }],
  ])(
    'a restart policy without %s is sent as 0 and read back as "0s": every run updates the service',
    (_, restartPolicy) => {
      const partial = withTaskSpec({ restartPolicy });
      expect(deployedAs(partial).taskSpec.restartPolicy).toMatchObject({
        // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- vitest types its asymmetric matchers `any`
        delay: expect.any(String),
      });
      const diff = diffFrom(partial, partial);
      expect(diff.changedKeys).toEqual(["taskSpec"]);
      expect(diff.replaceKeys).toEqual([]);
    },
  );

  it("a restart policy without max_attempts reads back 0, which is no change", () => {
    const partial = withTaskSpec({
      restartPolicy: { condition: "any", delay: "5s", window: "0s" },
    });
    expect(diffFrom(partial, partial).changedKeys).toEqual([]);
  });

  it.each([
    ["a new image", withContainerSpec({ image: "r/m@sha256:2" })],
    ["a new env", withContainerSpec({ env: { PORT: "3001" } })],
    ["a new stop grace period", withContainerSpec({ stopGracePeriod: "20s" })],
    ["a secret reference", withContainerSpec({ secrets: [{ secretId: "s2", fileName: "f" }] })],
    ["a placement constraint", withTaskSpec({ placement: { constraints: ["node.role==worker"] } })],
  ])("%s updates the service in place (task_spec is not ForceNew)", (_, news) => {
    const diff = diffFrom(member, news);
    expect(diff.changedKeys).toEqual(["taskSpec"]);
    expect(diff.replaceKeys).toEqual([]);
  });

  it.each([
    ["replicas", { mode: { replicated: { replicas: 2 } } }, "mode"],
    // The provider's diff: an update, which Swarm then refuses (a service can't change its mode).
    ["global", { mode: { global: true } }, "mode"],
    ["the update policy", { updateConfig: { order: "stop-first" } }, "updateConfig"],
    ["the rollback policy", { rollbackConfig: { order: "start-first" } }, "rollbackConfig"],
    ["the endpoint mode", { endpointSpec: { mode: "vip" } }, "endpointSpec"],
    ["the convergence wait", { convergeConfig: { timeout: "1m" } }, "convergeConfig"],
  ])("%s: %j updates %s in place", (_, change, key) => {
    const diff = diffFrom(member, { ...member, ...change });
    expect(diff.changedKeys).toEqual([key]);
    expect(diff.replaceKeys, "mode's ForceNew is its count's only (diffList)").toEqual([]);
  });

  it('max_failure_ratio "0" against the read-back "0.0" is no change (suppressEquivalentFloatRatio)', () => {
    const state = deployedAs(member);
    expect(state.updateConfig?.maxFailureRatio).toBe("0.0");
    expect(diffInputs(SERVICE, "m", state, member).changedKeys).toEqual([]);
  });

  it.each([
    ["the service name", { ...member, name: "n" }, "name"],
    ["its network", withTaskSpec({ networksAdvanceds: [{ id: "net-2" }] }), "taskSpec"],
    [
      "a network alias",
      withTaskSpec({ networksAdvanceds: [{ id: "net-1", aliases: ["x"] }] }),
      "taskSpec",
    ],
    ["container labels", withContainerSpec({ labels: [{ label: "a", value: "1" }] }), "taskSpec"],
  ])("a change of %s replaces the service", (_, news, key) => {
    const diff = diffFrom(member, news);
    expect(diff.replaceKeys).toEqual([key]);
    expect(diff.deleteBeforeReplace, "an explicit name: the bridge asks delete-first").toBe(true);
  });

  it("labels left out keep their value (Optional+Computed)", () => {
    const labelled = { ...member, labels: [{ label: "a", value: "1" }] };
    expect(diffFrom(labelled, member).changedKeys).toEqual([]);
  });

  it("a wholly unknown taskSpec (its network being replaced) is an update, not a replacement", () => {
    // calculateDependentReplacements makes the whole input unknown; diffList reports only its
    // count as computed, with task_spec's own ForceNew (false).
    const diff = diffFrom(member, { ...member, taskSpec: UNKNOWN });
    expect(diff.changedKeys).toEqual(["taskSpec"]);
    expect(diff.replaceKeys).toEqual([]);
  });

  it.each([
    ["name", "name"],
    ["mode", "mode"],
  ])("an unknown %s (ForceNew) is a replacement", (key, replaced) => {
    expect(diffFrom(member, { ...member, [key]: UNKNOWN }).replaceKeys).toEqual([replaced]);
  });

  it.each(["name", "data", "labels"])("a secret's %s is ForceNew", (key) => {
    const secretInputs = { name: "s", data: "YQ==", labels: [{ label: "a", value: "1" }] };
    const state = secret.memory.create(memory, secretInputs, "id-s");
    const changed = { ...secretInputs, [key]: key === "labels" ? [] : "Yg==" };
    const diff = diffInputs(SECRET, "s", state, changed);
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

  it("a node back with its check not settled (an `up` failed on it): only that check is updated, forced, so `up` waits for that node's proxy again", async () => {
    const { stack, secrets } = await deployed();
    node2.proxyChecks = {
      "http-infra-swarm-proxy-ready-node-2": { forceUpdate: 0, settled: false },
    };
    node2.state = "down";
    const whileDown = await stack.up({ config: SWARM, secrets });
    expect(whileDown.plan.steps, "while the node is down: nothing to wait for").toEqual([]);
    node2.state = "ready";
    const { plan } = await stack.up({ config: SWARM, secrets });
    expect(plan.update).toEqual(["proxy-ready-node-2"]);
    expect(plan.keys["proxy-ready-node-2"]).toEqual(["taskSpec"]);
    expect(plan.same).toEqual(without("proxy-ready-node-2"));
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

describe("swarm mode with tlsMode given: what `pulumi up` does to a deployed stack", () => {
  const ca = createTestCa();
  const first = ca.issue({ names: ["www.example.test"] });
  const renewed = ca.issue({ names: ["www.example.test"] });
  afterAll(() => ca.dispose());
  const TLS_SECRETS = ["tls-certificate", "tls-private-key"];
  const withTls = (issued: IssuedCertificate) => ({
    config: { ...SWARM, tlsMode: "given", tlsCertificate: issued.chain },
    secrets: { balancerManagerPassword: PASSWORD, tlsPrivateKey: issued.privateKey },
  });

  it("turning it on creates the chain's and the key's secrets, then updates the proxy and the checks, nothing else", async () => {
    const { stack } = await deployed();
    const { plan } = await stack.up(withTls(first));
    expect(plan.create).toEqual(TLS_SECRETS);
    expect(plan.update).toEqual(PROXY);
    expect(plan.replace).toEqual([]);
    expect(plan.same).toEqual(without(...PROXY));
    const steps = ops(plan.steps);
    for (const secretStep of TLS_SECRETS.map((name) => `create ${name}`)) {
      expect(steps.indexOf(secretStep), secretStep).toBeLessThan(steps.indexOf("update proxy"));
    }
  });

  it("a second run with the same certificate is all unchanged: the three secret references (owned by www-data) read back as sent", async () => {
    const { stack } = await deployed();
    await stack.up(withTls(first));
    const proxyState = stack.engine.resources.find((s) => s.name === "proxy")!;
    const read = (proxyState.outputs as pulumi.Unwrap<docker.ServiceArgs>).taskSpec.containerSpec
      .secrets;
    // flattenServiceSecrets: every field back, the schema's defaults for the ids.
    expect(read?.map((s) => [s.fileName, s.fileMode, s.fileUid, s.fileGid])).toEqual([
      ["/run/secrets/balancer-manager-password", 0o400, "33", "33"],
      ["/run/secrets/tls-certificate.pem", 0o444, "33", "33"],
      ["/run/secrets/tls-private-key.pem", 0o400, "33", "33"],
    ]);
    const { plan } = await stack.up(withTls(first));
    expect(plan.steps).toEqual([]);
    expect(plan.same).toEqual([...everything, ...TLS_SECRETS].sort());
  });

  it("a renewed certificate and key: new secrets first, the proxy and every node's check move to them, the old secrets go last", async () => {
    const { stack } = await deployed();
    await stack.up(withTls(first));
    const { plan } = await stack.up(withTls(renewed));
    expect(plan.replace).toEqual(TLS_SECRETS);
    expect(plan.update).toEqual(PROXY);
    expect(plan.same).toEqual(without(...PROXY));
    const steps = ops(plan.steps);
    expect(steps.slice(0, 3)).toEqual([
      "create-replacement tls-certificate",
      "create-replacement tls-private-key",
      "update proxy",
    ]);
    for (const check of CHECKS) {
      expect(steps.indexOf(`update ${check}`), check).toBeGreaterThan(
        steps.indexOf("update proxy"),
      );
    }
    expect(steps.slice(-2).sort()).toEqual(
      TLS_SECRETS.map((name) => `delete-replaced ${name}`).sort(),
    );
  });

  it("turning it off again: the proxy stops mounting the secrets before they are deleted", async () => {
    const { stack, secrets } = await deployed();
    await stack.up(withTls(first));
    const { plan } = await stack.up({ config: SWARM, secrets });
    expect(plan.update).toEqual(PROXY);
    expect(plan.delete).toEqual(TLS_SECRETS);
    const steps = ops(plan.steps);
    for (const name of TLS_SECRETS) {
      expect(steps.indexOf(`delete ${name}`), name).toBeGreaterThan(steps.indexOf("update proxy"));
    }
  });

  it("Swarm refuses to delete a secret the proxy mounts: a secret replaced delete-first would fail the run", async () => {
    const { stack } = await deployed();
    await stack.up(withTls(first));
    const key = stack.engine.resources.find((s) => s.name === "tls-private-key")!;
    await expect(stack.provider.delete(key)).rejects.toThrow(
      /^secret 'http-infra-swarm-tls-private-key-[0-9a-f]{12}' is in use by the following service: http-infra-swarm-proxy$/,
    );
  });
});
