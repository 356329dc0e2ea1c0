// `pulumi up` after `pulumi up`, read like `pulumi preview`: the real index.ts run twice through the
// harness's update engine over an in-memory provider (no Docker), asserting on the plan. The rules
// themselves (test/support/harness/updateRules.ts, engine.ts) cite the upstream code they model.
import { writeFileSync, appendFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { editedContext, type EditedContext } from "../support/harness/editedContext";
import { UpdateEngine } from "../support/harness/engine";
import { CONTAINER, IMAGE, NETWORK } from "../support/harness/inputs";
import { MemoryProvider, MemoryStack } from "../support/harness/memoryProvider";
import { contextDigest } from "../support/harness/resources/image";
import { diffInputs } from "../support/harness/updateRules";
import type { Registration } from "../support/pulumiProgram";

const PASSWORD = "unit-manager-password";
const everything = [
  "dynamic",
  "dynamic-1",
  "dynamic-2",
  "dynamic-image",
  "network",
  "proxy",
  "proxy-image",
  "static",
  "static-1",
  "static-2",
  "static-image",
];
const without = (...names: string[]) => everything.filter((name) => !names.includes(name));
const ops = (steps: { op: string; name: string }[]) => steps.map((s) => `${s.op} ${s.name}`);
/** The proxy as the engine's state holds it after a run. */
const proxyState = (stack: MemoryStack) => stack.engine.resources.find((r) => r.name === "proxy")!;
const proxyEnv = (stack: MemoryStack) =>
  Object.fromEntries(
    (proxyState(stack).inputs.envs as string[]).map(
      (line) => line.split("=", 2) as [string, string],
    ),
  );

const edits: EditedContext[] = [];
afterEach(() => {
  for (const edit of edits.splice(0)) edit.remove();
});

describe("the Docker provider's diff of two inputs", () => {
  it("a changed env list forces a container replacement (env is ForceNew)", () => {
    const diff = diffInputs(CONTAINER, "proxy", { envs: ["A=1"] }, { envs: ["A=2"] });
    expect(diff).toEqual({
      changedKeys: ["envs"],
      replaceKeys: ["envs"],
      deleteBeforeReplace: true,
    });
  });

  it("a changed restart policy is an in-place update", () => {
    const diff = diffInputs(CONTAINER, "c", { restart: "no" }, { restart: "unless-stopped" });
    expect(diff.changedKeys).toEqual(["restart"]);
    expect(diff.replaceKeys).toEqual([]);
  });

  it("env and labels are sets: reordering them changes nothing", () => {
    const olds = {
      envs: ["A=1", "B=2"],
      labels: [
        { label: "a", value: "1" },
        { label: "b", value: "2" },
      ],
    };
    const news = {
      envs: ["B=2", "A=1"],
      labels: [
        { label: "b", value: "2" },
        { label: "a", value: "1" },
      ],
    };
    expect(diffInputs(CONTAINER, "c", olds, news).changedKeys).toEqual([]);
  });

  it("a computed attribute left out keeps its value; a plain one left out is a change", () => {
    expect(diffInputs(CONTAINER, "c", { envs: ["A=1"] }, {}).changedKeys).toEqual([]);
    expect(diffInputs(CONTAINER, "c", { ports: [{ internal: 80 }] }, {}).replaceKeys).toEqual([
      "ports",
    ]);
  });

  it("every network property is ForceNew, and a network with a set name is replaced delete-before-replace", () => {
    // pulumi-docker auto-names `name` (SetAutonaming); a name the program sets makes the bridge
    // answer delete-before-replace (nameRequiresDeleteBeforeReplace), even when the name changes.
    const renamed = diffInputs(NETWORK, "network", { name: "a" }, { name: "b" });
    expect(renamed).toEqual({
      changedKeys: ["name"],
      replaceKeys: ["name"],
      deleteBeforeReplace: true,
    });
    const relabelled = diffInputs(
      NETWORK,
      "network",
      { name: "a" },
      { name: "a", labels: [{ label: "x", value: "1" }] },
    );
    expect(relabelled.replaceKeys).toEqual(["labels"]);
    expect(relabelled.deleteBeforeReplace, "a named network").toBe(true);
  });

  it("an image is never replaced: a changed build is an update (a rebuild)", () => {
    const diff = diffInputs(
      IMAGE,
      "i",
      { build: { args: { A: "1" } } },
      { build: { args: { A: "2" } } },
    );
    expect(diff.changedKeys).toEqual(["build"]);
    expect(diff.replaceKeys).toEqual([]);
  });

  it("a change the harness has no rule for throws, naming the property", () => {
    expect(() => diffInputs(CONTAINER, "static-1", { shmSize: 64 }, { shmSize: 128 })).toThrow(
      /Container input "shmSize" of static-1 changed and the harness has no update rule/,
    );
  });

  it("a changed memory limit is an in-place update; a changed CPU limit replaces the container", () => {
    // memory and memory_swap are in resourceDockerContainerUpdate's attrs (ContainerUpdate); cpus
    // is ForceNew in resource_docker_container.go.
    const memory = diffInputs(
      CONTAINER,
      "c",
      { memory: 256, memorySwap: 256 },
      { memory: 512, memorySwap: 512 },
    );
    expect(memory).toMatchObject({ changedKeys: ["memory", "memorySwap"], replaceKeys: [] });
    const cpus = diffInputs(CONTAINER, "c", { cpus: "1.0" }, { cpus: "0.5" });
    expect(cpus).toMatchObject({ changedKeys: ["cpus"], replaceKeys: ["cpus"] });
  });

  it("every other least-privilege input is ForceNew", () => {
    const olds = {
      readOnly: false,
      mounts: [{ target: "/tmp", type: "tmpfs", tmpfsOptions: { sizeBytes: 1 } }],
      capabilities: { drops: ["NET_RAW"] },
      securityOpts: [],
      logDriver: "json-file",
      logOpts: { "max-size": "10m" },
    };
    const news = {
      readOnly: true,
      mounts: [{ target: "/tmp", type: "tmpfs", tmpfsOptions: { sizeBytes: 2 } }],
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      logDriver: "local",
      logOpts: { "max-size": "20m" },
    };
    const diff = diffInputs(CONTAINER, "c", olds, news);
    expect(diff.replaceKeys.sort()).toEqual(Object.keys(news).sort());
  });

  it("mounts and security options are sets: reordering them changes nothing", () => {
    const tmpfs = (target: string) => ({ target, type: "tmpfs", tmpfsOptions: { sizeBytes: 1 } });
    const diff = diffInputs(
      CONTAINER,
      "c",
      { mounts: [tmpfs("/a"), tmpfs("/b")], securityOpts: ["x", "y"] },
      { mounts: [tmpfs("/b"), tmpfs("/a")], securityOpts: ["y", "x"] },
    );
    expect(diff.changedKeys).toEqual([]);
  });

  it("the context digest changes with a file's content and stays put otherwise", () => {
    const context = "docker-images/apache-php-image";
    const dockerfile = path.join(context, "Dockerfile");
    const before = contextDigest(context, dockerfile);
    expect(contextDigest(context, dockerfile)).toBe(before);
    const copy = editedContext(context, () => {});
    edits.push(copy);
    expect(contextDigest(copy.directory, path.join(copy.directory, "Dockerfile"))).toBe(before);
    appendFileSync(path.join(copy.directory, "index.php"), "\n<!-- edited -->\n");
    expect(contextDigest(copy.directory, path.join(copy.directory, "Dockerfile"))).not.toBe(before);
  });

  it("files .dockerignore excludes are not part of the digest", () => {
    const context = "docker-images/express-image";
    const copy = editedContext(context, () => {});
    edits.push(copy);
    const before = contextDigest(copy.directory, path.join(copy.directory, "Dockerfile"));
    writeFileSync(path.join(copy.directory, "npm-debug.log"), "ignored");
    expect(contextDigest(copy.directory, path.join(copy.directory, "Dockerfile"))).toBe(before);
  });
});

describe("the engine's steps, on synthetic resources", () => {
  // A two-resource graph driven straight through the engine: a network and a container whose
  // `networksAdvanced` comes from it, so replacement order can be read off the provider calls.
  const urn = (type: string, name: string) => `urn:pulumi:unit::http-infra::${type}::${name}`;
  const registration = (
    type: string,
    name: string,
    propertyDependencies: Record<string, string[]> = {},
    deleteBeforeReplace?: boolean,
  ): Registration => ({
    urn: urn(type, name),
    parent: "",
    deleteBeforeReplace,
    dependencies: [...new Set(Object.values(propertyDependencies).flat())],
    propertyDependencies,
  });
  const deploy = async (
    engine: UpdateEngine,
    network: Record<string, unknown>,
    options: { networkDbr?: boolean; containerDbr?: boolean; containerName?: string } = {},
  ) => {
    engine.beginRun();
    await engine.register(
      { type: NETWORK, name: "network", inputs: network, custom: true },
      registration(NETWORK, "network", {}, options.networkDbr),
    );
    await engine.register(
      {
        type: CONTAINER,
        name: "app",
        inputs: {
          name: options.containerName ?? "app",
          image: "img",
          networksAdvanced: [{ name: network.name }],
        },
        custom: true,
      },
      registration(
        CONTAINER,
        "app",
        { networksAdvanced: [urn(NETWORK, "network")] },
        options.containerDbr,
      ),
    );
    return engine.finishRun();
  };

  it("create-before-delete (the program's deleteBeforeReplace: false): the replacement exists before the old one goes, at the very end", async () => {
    const provider = new MemoryProvider();
    const engine = new UpdateEngine(provider);
    await deploy(engine, { name: "net-a" });
    provider.calls.length = 0;
    // A container replaced create-before-delete needs a name of its own: Docker names are unique.
    const plan = await deploy(
      engine,
      { name: "net-b" },
      { networkDbr: false, containerDbr: false, containerName: "app-b" },
    );
    expect(plan.replace).toEqual(["app", "network"]);
    expect(ops(plan.steps)).toEqual([
      "create-replacement network",
      "create-replacement app",
      "delete-replaced app",
      "delete-replaced network",
    ]);
  });

  it("create-before-delete with a fixed container name fails as Docker does (Conflict)", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, { name: "net-a" });
    await expect(
      deploy(engine, { name: "net-b" }, { networkDbr: false, containerDbr: false }),
    ).rejects.toThrow(/app already exists/);
    engine.abortRun();
  });

  it("delete-before-replace deletes the dependents the provider would replace first", async () => {
    const provider = new MemoryProvider();
    const engine = new UpdateEngine(provider);
    await deploy(engine, { name: "net" });
    const plan = await deploy(
      engine,
      { name: "net", labels: [{ label: "x", value: "1" }] },
      {
        networkDbr: true,
      },
    );
    // calculateDependentReplacements: app's networksAdvanced is fed by the network and is
    // ForceNew, so app is deleted before the network and re-created after it ("recreating").
    expect(ops(plan.steps)).toEqual([
      "delete-replaced app",
      "delete-replaced network",
      "create-replacement network",
      "create-replacement app",
    ]);
    expect(plan.replace).toEqual(["app", "network"]);
    expect(plan.keys).toMatchObject({ network: ["labels"], app: ["networksAdvanced"] });
  });

  it("destroy deletes dependents before what they depend on", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, { name: "net" });
    const plan = await engine.destroy();
    expect(ops(plan.steps)).toEqual(["delete app", "delete network"]);
  });
});

describe("pulumi up after pulumi up, on the real program", () => {
  it("a second run with nothing changed is all unchanged and calls no provider", async () => {
    const stack = new MemoryStack();
    const first = await stack.up();
    expect(first.plan.create).toEqual(everything);
    const calls = stack.provider.calls.length;
    const second = await stack.up();
    expect(second.plan.same).toEqual(everything);
    expect(second.plan.steps).toEqual([]);
    expect(stack.provider.calls.length, "provider calls").toBe(calls);
    expect(second.run.outputs).toEqual(first.run.outputs);
  });

  it("scaling out 2+2 → 3+4 creates the new members and replaces only the proxy, with the fresh envs", async () => {
    const stack = new MemoryStack();
    await stack.up();
    const { plan } = await stack.up({ config: { staticBackends: 3, dynamicBackends: 4 } });
    expect(plan.create).toEqual(["dynamic-3", "dynamic-4", "static-3"]);
    expect(plan.replace).toEqual(["proxy"]);
    // envs is ignored; the digest of them (the replacementTrigger) changed.
    expect(plan.keys.proxy).toEqual(["replacementTrigger"]);
    expect(Object.keys(proxyEnv(stack)).filter((key) => key.endsWith("_APP_4"))).toEqual([
      "DYNAMIC_APP_4",
    ]);
    expect(proxyEnv(stack).STATIC_APP_3, "the new static member").toBeDefined();
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([]);
    // The proxy goes only once every new member exists.
    const lastMemberCreated = Math.max(
      ...plan.steps.filter((s) => s.op === "create").map((s) => s.ended),
    );
    const proxyDeleted = plan.steps.find((s) => s.name === "proxy" && s.op === "delete-replaced")!;
    expect(proxyDeleted.started).toBeGreaterThanOrEqual(lastMemberCreated);
  });

  it("scaling in 3+4 → 1+1 deletes the removed members after the new proxy exists", async () => {
    const stack = new MemoryStack();
    await stack.up({ config: { staticBackends: 3, dynamicBackends: 4 } });
    const { plan } = await stack.up({ config: { staticBackends: 1, dynamicBackends: 1 } });
    expect(plan.delete).toEqual(["dynamic-2", "dynamic-3", "dynamic-4", "static-2", "static-3"]);
    expect(plan.replace).toEqual(["proxy"]);
    expect(Object.keys(proxyEnv(stack)).filter((key) => /_APP_\d+$/.test(key))).toEqual([
      "STATIC_APP_1",
      "DYNAMIC_APP_1",
    ]);
    expect(plan.same).toEqual([
      "dynamic",
      "dynamic-1",
      "dynamic-image",
      "network",
      "proxy-image",
      "static",
      "static-1",
      "static-image",
    ]);
    const steps = ops(plan.steps);
    const proxyCreated = steps.indexOf("create-replacement proxy");
    for (const name of plan.delete)
      expect(steps.indexOf(`delete ${name}`)).toBeGreaterThan(proxyCreated);
    // Nothing removed is left on the (pretend) engine.
    const live = [...stack.provider.live.values()].map((o) => o.name);
    expect(live.filter((name) => /-(static|dynamic)-[2-4]$/.test(name))).toEqual([]);
  });

  /**
   * A rebuilt image replaces its pool's members one at a time (member 2 depends on member 1) and
   * leaves the proxy alone: its envs are ignored, so calculateDependentReplacements does not put it
   * in the delete chain, and its trigger (the digest of the same addresses) does not fire.
   */
  const expectRolledAlone = async (
    role: "static" | "dynamic",
    context: string,
    edit: (directory: string) => void,
  ) => {
    const stack = new MemoryStack();
    await stack.up();
    const proxyBefore = proxyState(stack);
    const edited = editedContext(context, edit);
    edits.push(edited);
    const { plan } = await stack.up({ contextOverrides: { [context]: edited.directory } });
    expect(plan.update).toEqual([`${role}-image`]);
    expect(plan.replace, "only the members").toEqual([`${role}-1`, `${role}-2`]);
    expect(plan.same).toEqual(without(`${role}-image`, `${role}-1`, `${role}-2`));
    expect(ops(plan.steps)).toEqual([
      `update ${role}-image`,
      `delete-replaced ${role}-1`,
      `create-replacement ${role}-1`,
      `delete-replaced ${role}-2`,
      `create-replacement ${role}-2`,
    ]);
    expect(proxyState(stack).id, "the same proxy").toBe(proxyBefore.id);
    expect(proxyState(stack).replacementTrigger).toEqual(proxyBefore.replacementTrigger);
    return plan;
  };

  it("an edited landing page rolls the static members one at a time and leaves the proxy", async () => {
    await expectRolledAlone("static", "docker-images/apache-php-image", (dir) =>
      appendFileSync(path.join(dir, "index.php"), "\n<!-- edited -->\n"),
    );
  });

  it("an edited API rolls the dynamic members one at a time and leaves the proxy", async () => {
    await expectRolledAlone("dynamic", "docker-images/express-image", (dir) =>
      appendFileSync(path.join(dir, "app.js"), "\n// edited\n"),
    );
  });

  it("`pulumi preview` of an API edit shows the proxy replaced (its trigger is unknown); `pulumi up` then leaves it", async () => {
    const stack = new MemoryStack();
    await stack.up();
    const before = structuredClone(stack.engine.resources);
    const calls = stack.provider.calls.length;
    const edit = editedContext("docker-images/express-image", (dir) =>
      appendFileSync(path.join(dir, "app.js"), "\n// edited\n"),
    );
    edits.push(edit);
    const contextOverrides = { "docker-images/express-image": edit.directory };
    const preview = await stack.up({ preview: true, contextOverrides });
    expect(preview.plan.replace).toEqual(["dynamic-1", "dynamic-2", "proxy"]);
    expect(preview.plan.keys.proxy).toEqual(["replacementTrigger"]);
    expect(stack.provider.calls.length, "a preview calls no provider").toBe(calls);
    expect(stack.engine.resources, "a preview leaves the state").toEqual(before);

    const { plan } = await stack.up({ contextOverrides });
    expect(plan.replace).toEqual(["dynamic-1", "dynamic-2"]);
    expect(plan.same).toContain("proxy");
  });

  it("a changed serverName, then a password set, replace only the proxy", async () => {
    const stack = new MemoryStack();
    await stack.up();
    const renamed = await stack.up({ config: { serverName: "other.res.ch" } });
    expect(renamed.plan.replace).toEqual(["proxy"]);
    expect(renamed.plan.same).toEqual(without("proxy"));
    expect(proxyEnv(stack).SERVER_NAME, "the fresh envs").toBe("other.res.ch");
    const secured = await stack.up({
      config: { serverName: "other.res.ch" },
      secrets: { balancerManagerPassword: PASSWORD },
    });
    expect(secured.plan.replace).toEqual(["proxy"]);
    expect(secured.plan.keys.proxy).toEqual(["replacementTrigger"]);
    expect(secured.plan.same).toEqual(without("proxy"));
    expect(proxyEnv(stack).BALANCER_MANAGER_PASSWORD, "the fresh envs").toBe(PASSWORD);
    // The trigger holds the password only as part of a hash, and stays a secret in the state.
    const trigger = proxyState(stack).replacementTrigger!;
    expect(trigger.secret, "the trigger is a secret").toBe(true);
    expect(trigger.value).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a changed proxyPort replaces only the proxy (ports is ForceNew)", async () => {
    const stack = new MemoryStack();
    await stack.up();
    const { plan } = await stack.up({ config: { proxyPort: 8081 } });
    expect(plan.replace).toEqual(["proxy"]);
    expect(plan.keys.proxy).toEqual(["ports"]);
    expect((proxyState(stack).inputs.ports as { external: number }[])[0].external).toBe(8081);
    expect(plan.same).toEqual(without("proxy"));
  });

  it("a changed networkSubnet replaces the network, deleting every container on it first", async () => {
    const stack = new MemoryStack();
    await stack.up({ config: { networkSubnet: "10.251.7.0/24" } });
    const { plan } = await stack.up({ config: { networkSubnet: "10.251.8.0/24" } });
    const containers = ["dynamic-1", "dynamic-2", "proxy", "static-1", "static-2"];
    expect(plan.replace).toEqual([...containers, "network"].sort());
    // Delete-before-replace network: calculateDependentReplacements finds every container (its
    // networksAdvanced is fed by the network, and ForceNew); they go first, the proxy before the
    // members whose addresses feed it, and come back after the new network.
    const steps = ops(plan.steps);
    const networkDeleted = steps.indexOf("delete-replaced network");
    for (const name of containers) {
      expect(steps.indexOf(`delete-replaced ${name}`), name).toBeLessThan(networkDeleted);
      expect(steps.indexOf(`create-replacement ${name}`), name).toBeGreaterThan(
        steps.indexOf("create-replacement network"),
      );
    }
    expect(steps.indexOf("delete-replaced proxy")).toBe(0);
    // Re-created from the program's own inputs (continueStepsFromImport, "recreating"): the
    // proxy's envs carry the members' addresses on the new subnet, ignoreChanges or not.
    expect(proxyEnv(stack).STATIC_APP_1).toMatch(/^10\.251\.8\./);
  });

  it("a raised memory limit updates the proxy in place, the same container, and nothing else", async () => {
    const stack = new MemoryStack();
    await stack.up();
    const before = proxyState(stack);
    const { plan } = await stack.up({ config: { proxyMemoryLimitMb: 512 } });
    expect(plan.update).toEqual(["proxy"]);
    expect(plan.keys.proxy).toEqual(["memory", "memorySwap"]);
    expect(plan.same).toEqual(without("proxy"));
    expect(proxyState(stack).id, "the same container").toBe(before.id);
    expect(proxyState(stack).outputs.memory).toBe(512);
  });

  it("a changed CPU limit of the static members rolls them one at a time and leaves the proxy", async () => {
    const stack = new MemoryStack();
    await stack.up();
    const proxyBefore = proxyState(stack);
    const { plan } = await stack.up({ config: { staticCpuLimit: "0.5" } });
    expect(plan.replace).toEqual(["static-1", "static-2"]);
    expect(plan.keys["static-1"]).toEqual(["cpus"]);
    expect(ops(plan.steps)).toEqual([
      "delete-replaced static-1",
      "create-replacement static-1",
      "delete-replaced static-2",
      "create-replacement static-2",
    ]);
    expect(proxyState(stack).id, "the same proxy").toBe(proxyBefore.id);
  });

  it("each pool member depends on the one before it and stops with a grace period", async () => {
    const stack = new MemoryStack();
    const { plan } = await stack.up({ config: { staticBackends: 3, dynamicBackends: 2 } });
    const state = (name: string) => stack.engine.resources.find((r) => r.name === name)!;
    for (const [member, previous] of [
      ["static-2", "static-1"],
      ["static-3", "static-2"],
      ["dynamic-2", "dynamic-1"],
    ]) {
      expect(state(member).dependencies, member).toContain(state(previous).urn);
    }
    expect(state("static-1").dependencies.some((urn) => urn.includes("Container"))).toBe(false);
    for (const member of ["static-1", "static-2", "static-3", "dynamic-1", "dynamic-2"]) {
      // Room for the member's drain and close (test/unit/drain-timing.test.ts).
      expect(state(member).inputs.destroyGraceSeconds, member).toBe(20);
    }
    // A first deploy therefore creates a pool's members one after another.
    const at = (name: string) => plan.steps.find((step) => step.name === name)!;
    expect(at("static-2").started).toBeGreaterThanOrEqual(at("static-1").ended);
    expect(at("static-3").started).toBeGreaterThanOrEqual(at("static-2").ended);
  });

  it("destroy deletes every container before the network, and leaves nothing", async () => {
    const stack = new MemoryStack();
    await stack.up();
    const plan = await stack.engine.destroy();
    const steps = ops(plan.steps);
    expect(steps.at(-1)).toBe("delete network");
    expect(stack.engine.resources).toEqual([]);
    expect([...stack.provider.live.values()].filter((o) => o.type !== IMAGE)).toEqual([]);
  });
});
