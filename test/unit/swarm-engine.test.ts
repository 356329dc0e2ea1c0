// The engine rules a swarm stack runs into, on synthetic services driven straight through the
// harness's engine over its in-memory provider: a service update Swarm rolled back, a network
// replaced under its services (replaceWith), and runs that stop half-way through a replacement.
// Each rule cites pulumi/pulumi, pulumi-terraform-bridge or terraform-provider-docker at its code in
// test/support/harness/.
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { PropertyMap } from "../support/harness/propertyMap";
import { describe, expect, it } from "vitest";
import { UpdateEngine, type ResourceState } from "../support/harness/engine";
import { MemoryProvider } from "../support/harness/memoryProvider";
import { NETWORK } from "../support/harness/resources/network";
import { SECRET } from "../support/harness/resources/secret";
import { SERVICE } from "../support/harness/resources/service";
import { InitializationError } from "../support/harness/resources/types";
import type { InputDiff } from "../support/harness/updateRules";
import type { Registration } from "../support/pulumiProgram";

const urn = (type: string, name: string) => `urn:pulumi:unit::http-infra::${type}::${name}`;
/** A service's inputs or outputs, shaped as @pulumi/docker types a Service's args. */
const asService = (map: PropertyMap) => map as pulumi.Unwrap<docker.ServiceArgs>;
const ops = (steps: { op: string; name: string }[]) => steps.map((s) => `${s.op} ${s.name}`);

interface Declared {
  type: string;
  name: string;
  inputs: (outputs: Record<string, PropertyMap>) => Record<string, unknown>;
  dependsOn?: Record<string, string[]>;
  deleteBeforeReplace?: boolean;
  replaceWith?: string[];
}

/** One run of the engine over `resources`, registered in order; outputs feed later inputs. */
async function run(engine: UpdateEngine, resources: Declared[]) {
  engine.beginRun();
  const outputs: Record<string, PropertyMap> = {};
  try {
    for (const resource of resources) {
      const propertyDependencies = Object.fromEntries(
        Object.entries(resource.dependsOn ?? {}).map(([key, names]) => [
          key,
          names.map((name) => urn(resources.find((r) => r.name === name)!.type, name)),
        ]),
      );
      const registration: Registration = {
        urn: urn(resource.type, resource.name),
        parent: "",
        deleteBeforeReplace: resource.deleteBeforeReplace,
        dependencies: [...new Set(Object.values(propertyDependencies).flat())],
        propertyDependencies,
        replaceWith: (resource.replaceWith ?? []).map((name) =>
          urn(resources.find((r) => r.name === name)!.type, name),
        ),
      };
      const result = await engine.register(
        {
          type: resource.type,
          name: resource.name,
          inputs: resource.inputs(outputs),
          custom: true,
        },
        registration,
      );
      outputs[resource.name] = { ...result.outputs, id: result.id };
    }
  } catch (error) {
    engine.abortRun();
    throw error;
  }
  return engine.finishRun();
}

const service = (name: string, image: string, network?: string): Declared => ({
  type: SERVICE,
  name,
  inputs: (outputs) => ({
    name,
    taskSpec: {
      containerSpec: { image },
      ...(network && { networksAdvanceds: [{ id: outputs[network].id as string }] }),
      restartPolicy: { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" },
    },
    mode: { replicated: { replicas: 1 } },
    endpointSpec: { mode: "dnsrr" },
    convergeConfig: { timeout: "3m" },
  }),
  ...(network && { dependsOn: { taskSpec: [network] } }),
  deleteBeforeReplace: true,
});

describe("a service update Swarm rolled back (the provider's Update fails after ServiceUpdate)", () => {
  const ROLLED_BACK = "service rollback completed: update rolled back due to failure";

  /**
   * The service's Update fails for the images in `broken`, as resourceDockerServiceUpdate does
   * once Swarm rolled back: the bridge returns the planned state with an initialization error.
   * Read reports what Swarm runs: the image of its last good spec.
   */
  class RollingBackProvider extends MemoryProvider {
    broken = new Set<string>();
    running = new Map<string, string>();
    serviceUpdates = 0;
    override async create(type: string, name: string, inputs: PropertyMap) {
      const created = await super.create(type, name, inputs);
      if (type === SERVICE)
        this.running.set(created.id, asService(inputs).taskSpec.containerSpec.image);
      return created;
    }
    override async update(old: ResourceState, inputs: PropertyMap, diff: InputDiff) {
      const outputs = await super.update(old, inputs, diff);
      if (old.type !== SERVICE || diff.changedKeys.length === 0) return outputs;
      this.serviceUpdates += 1;
      const image = asService(inputs).taskSpec.containerSpec.image;
      if (this.broken.has(image)) throw new InitializationError(old.id!, outputs, [ROLLED_BACK]);
      this.running.set(old.id!, image);
      return outputs;
    }
    override async read(state: ResourceState) {
      const outputs = await super.read(state);
      if (!outputs || state.type !== SERVICE) return outputs;
      const image = this.running.get(state.id!)!;
      const { taskSpec } = asService(outputs);
      return {
        ...outputs,
        taskSpec: { ...taskSpec, containerSpec: { ...taskSpec.containerSpec, image } },
      };
    }
  }

  const image = (engine: UpdateEngine) =>
    asService(engine.resources.find((r) => r.name === "member")!.outputs).taskSpec.containerSpec
      .image;

  it("the failed up stores the new image with InitErrors; the next unchanged up makes an empty update and succeeds while Swarm runs the old one", async () => {
    const provider = new RollingBackProvider();
    const engine = new UpdateEngine(provider);
    await run(engine, [service("member", "r/m@sha256:good")]);
    provider.broken.add("r/m@sha256:bad");

    await expect(run(engine, [service("member", "r/m@sha256:bad")])).rejects.toThrow(ROLLED_BACK);
    const [failed] = engine.resources;
    expect(failed.initErrors).toEqual([ROLLED_BACK]);
    expect(asService(failed.inputs).taskSpec.containerSpec.image, "the new inputs").toBe(
      "r/m@sha256:bad",
    );
    expect(image(engine), "the planned outputs, not read back").toBe("r/m@sha256:bad");
    expect(provider.running.get(failed.id!), "what Swarm runs").toBe("r/m@sha256:good");

    // continueStepsFromDiff: no diff, InitErrors → an update step; the bridge's Update without a
    // Terraform diff returns the old state: no ServiceUpdate, success, the errors cleared.
    const updatesBefore = provider.serviceUpdates;
    const again = await run(engine, [service("member", "r/m@sha256:bad")]);
    expect(again.update).toEqual(["member"]);
    expect(again.keys.member).toEqual([]);
    expect(provider.serviceUpdates, "no ServiceUpdate").toBe(updatesBefore);
    expect(engine.resources[0].initErrors).toBeUndefined();
    expect(provider.running.get(failed.id!), "Swarm still runs the old image").toBe(
      "r/m@sha256:good",
    );
    expect((await run(engine, [service("member", "r/m@sha256:bad")])).same).toEqual(["member"]);
  });

  it("a refresh after the rollback reads the old image back and clears the errors: the next up tries the new image again, and fails again", async () => {
    const provider = new RollingBackProvider();
    const engine = new UpdateEngine(provider);
    await run(engine, [service("member", "r/m@sha256:good")]);
    provider.broken.add("r/m@sha256:bad");
    await expect(run(engine, [service("member", "r/m@sha256:bad")])).rejects.toThrow(ROLLED_BACK);

    // RefreshStep.Apply: the outputs Read reports, `var initErrors []string` (none).
    expect(await engine.refresh()).toEqual({ changed: ["member"], gone: [] });
    expect(engine.resources[0].initErrors).toBeUndefined();
    expect(image(engine)).toBe("r/m@sha256:good");

    await expect(run(engine, [service("member", "r/m@sha256:bad")])).rejects.toThrow(ROLLED_BACK);
    // With the image fixed, the update goes through.
    const fixed = await run(engine, [service("member", "r/m@sha256:fixed")]);
    expect(fixed.update).toEqual(["member"]);
    expect(provider.running.get(engine.resources[0].id!)).toBe("r/m@sha256:fixed");
  });
});

describe("a network replaced under its services", () => {
  const network = (subnet: string): Declared => ({
    type: NETWORK,
    name: "net",
    inputs: () => ({ name: "net", driver: "overlay", ipamConfigs: [{ subnet }] }),
    deleteBeforeReplace: true,
  });
  const stack = (subnet: string, replaceWith: boolean) => [
    network(subnet),
    { ...service("member", "r/m@sha256:1", "net"), ...(replaceWith && { replaceWith: ["net"] }) },
  ];

  it("without replaceWith the service is only updated (its unknown task_spec is no ForceNew change), and Swarm refuses to delete the network it uses", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await run(engine, stack("10.1.0.0/24", false));
    await expect(run(engine, stack("10.2.0.0/24", false))).rejects.toThrow(
      /network net-\d+ is in use by service member/,
    );
    expect(engine.resources.map((r) => r.name).sort(), "both still exist").toEqual([
      "member",
      "net",
    ]);
  });

  it("with replaceWith the service joins the network's delete-before-replace chain: deleted first, created after it", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await run(engine, stack("10.1.0.0/24", true));
    const plan = await run(engine, stack("10.2.0.0/24", true));
    expect(plan.replace).toEqual(["member", "net"]);
    expect(ops(plan.steps)).toEqual([
      "delete-replaced member",
      "delete-replaced net",
      "create-replacement net",
      "create-replacement member",
    ]);
    const [net, member] = engine.resources;
    expect(asService(member.outputs).taskSpec.networksAdvanceds?.[0].id).toBe(net.id);
  });

  it("an unchanged network leaves the service alone, replaceWith or not", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await run(engine, stack("10.1.0.0/24", true));
    expect((await run(engine, stack("10.1.0.0/24", true))).same).toEqual(["member", "net"]);
  });

  it("a chain that stops at the network's delete keeps the deleted service pending replacement; the next chain deletes it again, and the provider fails on an object that is gone", async () => {
    /** Refuses the first delete of the network, as a manager does while a task still uses it. */
    class StubbornProvider extends MemoryProvider {
      refusals = 1;
      override async delete(state: ResourceState) {
        if (state.type === NETWORK && this.refusals-- > 0) {
          throw new Error(`network ${state.id} is in use by task t1`);
        }
        return super.delete(state);
      }
    }
    const provider = new StubbornProvider();
    const engine = new UpdateEngine(provider);
    await run(engine, stack("10.1.0.0/24", true));
    await expect(run(engine, stack("10.2.0.0/24", true))).rejects.toThrow(/in use by task/);
    const member = engine.resources.find((r) => r.name === "member")!;
    expect(member.pendingReplacement, "deleted, kept in the state").toBe(true);
    expect(await engine.refresh(), "RefreshStep skips pending replacements").toEqual({
      changed: [],
      gone: [],
    });
    // DeleteStep.Apply has no check for PendingReplacement: the chain deletes the service again.
    await expect(run(engine, stack("10.2.0.0/24", true))).rejects.toThrow(/member: no such object/);
  });
});

describe("a create-before-delete replacement whose run stops before the old one is deleted", () => {
  const secret = (data: string): Declared => ({
    type: SECRET,
    name: "secret",
    inputs: () => ({ name: `secret-${data}`, data }),
    deleteBeforeReplace: false,
  });
  const user = (image: string): Declared => ({
    ...service("proxy", image),
    inputs: (outputs) => ({
      ...service("proxy", image).inputs(outputs),
      labels: [{ label: "secret", value: outputs.secret.id as string }],
    }),
    dependsOn: { labels: ["secret"] },
  });

  it("the state keeps the replacement and marks the old one for deletion: the next run deletes it after its program, and creates nothing twice", async () => {
    class FailingUpdates extends MemoryProvider {
      failing = false;
      override async update(old: ResourceState, inputs: PropertyMap, diff: InputDiff) {
        if (this.failing) throw new Error(`${old.name}: the update failed`);
        return super.update(old, inputs, diff);
      }
    }
    const provider = new FailingUpdates();
    const engine = new UpdateEngine(provider);
    await run(engine, [secret("YQ=="), user("r/p@sha256:1")]);
    provider.failing = true;
    await expect(run(engine, [secret("Yg=="), user("r/p@sha256:1")])).rejects.toThrow(
      "the update failed",
    );
    const secrets = engine.resources.filter((r) => r.name === "secret");
    expect(secrets.map((r) => [r.inputs.name as string, r.delete === true])).toEqual([
      ["secret-Yg==", false],
      ["secret-YQ==", true],
    ]);

    provider.failing = false;
    provider.calls.length = 0;
    const plan = await run(engine, [secret("Yg=="), user("r/p@sha256:1")]);
    expect(plan.same).toEqual(["secret"]);
    expect(ops(plan.steps)).toEqual(["update proxy", "delete-replaced secret"]);
    expect(engine.resources.filter((r) => r.name === "secret")).toHaveLength(1);
  });
});
