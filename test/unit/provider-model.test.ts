// The harness's provider model against what pulumi-docker (bridging terraform-provider-docker
// v4.5.0) really does, rule by rule, on the in-memory provider: the diff's prior state, refresh,
// a create that fails after the container exists, the network's delete retry, and image digests.
// Each rule cites its upstream code where it is implemented (test/support/harness/resources/).
import { describe, expect, it, vi } from "vitest";
import { UpdateEngine, type ResourceState } from "../support/harness/engine";
import { CONTAINER, IMAGE, NETWORK } from "../support/harness/inputs";
import { MemoryProvider, MemoryStack } from "../support/harness/memoryProvider";
import { FAILED_TO_BE_HEALTHY, nanoCpusAsDecimal } from "../support/harness/resources/container";
import {
  createServiceSpec,
  flattenService,
  planService,
  SERVICE,
  storedService,
  type ServiceInputs,
} from "../support/harness/resources/service";
import { cpusAsProviderReadsThem, nanoCpus, providerKeepsCpus } from "../../src/cpuLimit";
import { PROXY_CHECK_LIMITS, runtimeLimits } from "../../src/hardening";
import { containerSpecHardening, taskSpecHardening } from "../../src/swarm/hardening";
import { validateSettings } from "../../src/settings";
import { waitForState } from "../support/harness/resources/engineApi";
import { InitializationError } from "../support/harness/resources/types";
import { diffInputs } from "../support/harness/updateRules";
import type { Registration } from "../support/pulumiProgram";
import type { PropertyMap } from "../support/harness/propertyMap";

const urn = (type: string, name: string) => `urn:pulumi:unit::http-infra::${type}::${name}`;
const registration = (
  type: string,
  name: string,
  propertyDependencies: Record<string, string[]> = {},
): Registration => ({
  urn: urn(type, name),
  parent: "",
  deleteBeforeReplace: undefined,
  dependencies: [...new Set(Object.values(propertyDependencies).flat())],
  propertyDependencies,
});

/** One run of the engine over `resources`, registered in order; returns the plan. */
async function run(
  engine: UpdateEngine,
  resources: { type: string; name: string; inputs: Record<string, unknown> }[],
) {
  engine.beginRun();
  try {
    for (const resource of resources) {
      await engine.register(
        { type: resource.type, name: resource.name, inputs: resource.inputs, custom: true },
        registration(resource.type, resource.name),
      );
    }
  } catch (error) {
    engine.abortRun();
    throw error;
  }
  return engine.finishRun();
}

/** A MemoryProvider whose Read reports what a test says Docker reports now. */
class DriftingProvider extends MemoryProvider {
  drift: (state: ResourceState) => PropertyMap | undefined = (state) => state.outputs;
  override async read(state: ResourceState) {
    return (await super.read(state)) && this.drift(state);
  }
}

describe("the diff's prior state is what Read returned (old outputs), not the old inputs", () => {
  it("a gateway Docker reports in ipam_config after a refresh replaces the network (kreuzwerker issue 54)", async () => {
    const provider = new DriftingProvider();
    const engine = new UpdateEngine(provider);
    const network = { name: "net", ipamConfigs: [{ subnet: "10.1.2.0/24" }] };
    await run(engine, [{ type: NETWORK, name: "network", inputs: network }]);
    provider.drift = (state) => ({
      ...state.outputs,
      ipamConfigs: [{ subnet: "10.1.2.0/24", gateway: "10.1.2.1" }],
    });
    expect(await engine.refresh()).toEqual({ changed: ["network"], gone: [] });
    const plan = await run(engine, [{ type: NETWORK, name: "network", inputs: network }]);
    expect(plan.replace).toEqual(["network"]);
    expect(plan.keys.network).toEqual(["ipamConfigs"]);
  });

  it("a port Docker reports twice (0.0.0.0 and ::) replaces the container that set it once", async () => {
    const provider = new DriftingProvider();
    const engine = new UpdateEngine(provider);
    const proxy = {
      name: "proxy",
      image: "sha256:abc",
      ports: [{ internal: 80, external: 8080 }],
    };
    await run(engine, [{ type: CONTAINER, name: "proxy", inputs: proxy }]);
    // Nothing changed yet: the check's defaults (ip 0.0.0.0, tcp) are what Read reports too.
    expect((await run(engine, [{ type: CONTAINER, name: "proxy", inputs: proxy }])).same).toEqual([
      "proxy",
    ]);
    provider.drift = (state) => ({
      ...state.outputs,
      ports: [
        { internal: 80, external: 8080, ip: "0.0.0.0", protocol: "tcp" },
        { internal: 80, external: 8080, ip: "::", protocol: "tcp" },
      ],
    });
    await engine.refresh();
    const plan = await run(engine, [{ type: CONTAINER, name: "proxy", inputs: proxy }]);
    expect(plan.replace).toEqual(["proxy"]);
    expect(plan.keys.proxy).toEqual(["ports"]);
  });

  it("a stopped container (Read: must_run false) is started by an update, not replaced", async () => {
    const provider = new DriftingProvider();
    const engine = new UpdateEngine(provider);
    const member = { name: "member", image: "sha256:abc", restart: "unless-stopped" };
    await run(engine, [{ type: CONTAINER, name: "member", inputs: member }]);
    provider.drift = (state) => ({ ...state.outputs, mustRun: false, exitCode: 137 });
    await engine.refresh();
    const plan = await run(engine, [{ type: CONTAINER, name: "member", inputs: member }]);
    expect(plan.update).toEqual(["member"]);
    expect(plan.keys.member).toEqual(["mustRun"]);
  });

  it("what Read reports for attributes the program leaves out is no change: zero values, the image's USER", () => {
    // schema.go diffString compares an unset attribute as its zero value; `user` has a
    // DiffSuppressFunc for an unset new value.
    const network = { name: "net", attachable: false, options: {}, ipamDriver: "default" };
    expect(diffInputs(NETWORK, "network", network, { name: "net" }).changedKeys).toEqual([]);
    const member = { name: "m", image: "sha256:abc", user: "node", command: ["node", "server.js"] };
    expect(
      diffInputs(CONTAINER, "m", member, { name: "m", image: "sha256:abc" }).changedKeys,
    ).toEqual([]);
    expect(
      diffInputs(CONTAINER, "m", member, { name: "m", image: "sha256:abc", user: "root" })
        .replaceKeys,
    ).toEqual(["user"]);
  });

  it("an Image diffs its old inputs: outputs it reports differently change nothing", async () => {
    const provider = new DriftingProvider();
    const engine = new UpdateEngine(provider);
    const image = {
      imageName: "unit/static",
      skipPush: true,
      build: { context: "docker-images/apache-php-image" },
    };
    await run(engine, [{ type: IMAGE, name: "image", inputs: image }]);
    provider.drift = (state) => ({ ...state.outputs, build: { context: "elsewhere" } });
    await engine.refresh();
    expect((await run(engine, [{ type: IMAGE, name: "image", inputs: image }])).same).toEqual([
      "image",
    ]);
  });
});

describe("least privilege as Read reports it back", () => {
  it("the program spells every CPU limit the way Read reports cpus (it is ForceNew)", () => {
    // helpers.go nanoInt64ToDecimalString over the NanoCpus Docker stores for the program's value:
    // any other spelling would replace the container on every run.
    let kept = 0;
    for (let hundredths = 1; hundredths <= 256 * 100; hundredths++) {
      const cpus = hundredths / 100;
      // The program's spelling is the provider's, for every value...
      expect(cpusAsProviderReadsThem(cpus), String(cpus)).toBe(nanoCpusAsDecimal(nanoCpus(cpus)));
      if (!providerKeepsCpus(cpus)) continue;
      // ...and for every value the settings accept, writing it and reading it back is stable.
      kept++;
      const written = cpusAsProviderReadsThem(cpus);
      expect(nanoCpusAsDecimal(nanoCpus(Number(written))), written).toBe(written);
    }
    expect(kept).toBeGreaterThan(25_000);
    expect(nanoCpusAsDecimal(1_000_000_000)).toBe("1.0");
    expect(nanoCpusAsDecimal(10_000_000_000)).toBe("10.");
    expect(nanoCpusAsDecimal(500_000_000)).toBe("0.5");
    expect(nanoCpusAsDecimal(1_250_000_000)).toBe("1.25");
    // Read reports these as other numbers: the settings refuse them.
    expect(nanoCpusAsDecimal(50_000_000)).toBe("0.1");
    expect(nanoCpusAsDecimal(10_050_000_000)).toBe("10.1");
  });

  it("a container whose Read reports its limits, mounts and capabilities as sent is unchanged", async () => {
    const provider = new DriftingProvider();
    const engine = new UpdateEngine(provider);
    const member = {
      name: "m",
      image: "sha256:abc",
      readOnly: true,
      mounts: [{ target: "/run/apache2", type: "tmpfs", tmpfsOptions: { sizeBytes: 4194304 } }],
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      memory: 256,
      memorySwap: 256,
      cpus: "1.0",
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
    };
    await run(engine, [{ type: CONTAINER, name: "member", inputs: member }]);
    // getDockerContainerMounts: source "" and read_only false for a tmpfs, and its mode as 0;
    // capabilities: add as an empty set.
    provider.drift = (state) => ({
      ...state.outputs,
      mounts: [
        {
          target: "/run/apache2",
          type: "tmpfs",
          source: "",
          readOnly: false,
          tmpfsOptions: { sizeBytes: 4194304, mode: 0 },
        },
      ],
      capabilities: { drops: ["ALL"] },
    });
    await engine.refresh();
    const plan = await run(engine, [{ type: CONTAINER, name: "member", inputs: member }]);
    expect(plan.same).toEqual(["member"]);
  });

  it("memory_swap left out while Docker reports twice the memory would be a change on every run", () => {
    // resourceDockerContainerCreate: without memory_swap Docker stores 2 × memory (or -1 with no
    // swap accounting), Read reports it, and memory_swap is neither Computed nor suppressed.
    const olds = { name: "m", image: "i", memory: 256, memorySwap: 512 };
    const diff = diffInputs(CONTAINER, "m", olds, { name: "m", image: "i", memory: 256 });
    expect(diff).toMatchObject({ changedKeys: ["memorySwap"], replaceKeys: [] });
  });

  it("a service's hardening read back (flattenContainerSpec, flattenTaskResources, flattenTaskLogDriver) equals what the program sends", () => {
    const settings = validateSettings({ deployTarget: "swarm" });
    const roles = [
      ...(["proxy", "static", "dynamic"] as const).map((role) => ({
        role,
        containerSpec: containerSpecHardening(role),
        task: taskSpecHardening(runtimeLimits(settings, role)),
      })),
      {
        role: "proxy-ready",
        containerSpec: containerSpecHardening("proxyCheck"),
        task: taskSpecHardening(PROXY_CHECK_LIMITS),
      },
    ];
    for (const { role, containerSpec, task } of roles) {
      const inputs = {
        name: role,
        taskSpec: { ...task, containerSpec: { ...containerSpec, image: "img:1" } },
      } as ServiceInputs;
      const plannedState = planService(undefined, inputs);
      const spec = createServiceSpec(plannedState, {});
      // What a manager stores for that spec, read back through the provider's flatteners.
      const read = flattenService(storedService("id", spec), {}) as {
        taskSpec: { containerSpec: Record<string, unknown> } & Record<string, unknown>;
      };
      // Read fills the zero values the program leaves out (a tmpfs' source, read_only and mode).
      const { mounts, ...rest } = containerSpec;
      expect(read.taskSpec.containerSpec, role).toMatchObject({
        ...rest,
        ...(mounts.length > 0 && {
          mounts: mounts.map((mount) => ({
            ...mount,
            source: "",
            readOnly: false,
            tmpfsOptions: { ...mount.tmpfsOptions, mode: 0 },
          })),
        }),
      });
      if (mounts.length === 0) expect(read.taskSpec.containerSpec.mounts, role).toBeUndefined();
      expect(read.taskSpec.resources, role).toEqual(task.resources);
      expect(read.taskSpec.logDriver, role).toEqual(task.logDriver);
      expect(spec.TaskTemplate.Resources?.Limits?.NanoCPUs, role).toBe(
        nanoCpus(role === "proxy-ready" ? PROXY_CHECK_LIMITS.cpus : 1),
      );
      // ...so the next run's diff finds nothing to change.
      const outputs = { ...read, convergeConfig: plannedState.convergeConfig };
      const next = inputs as unknown as PropertyMap;
      expect(diffInputs(SERVICE, role, outputs, next).changedKeys, role).toEqual([]);
    }
  });
});

describe("refresh (pulumi refresh, pulumi up --refresh)", () => {
  it("a resource Read reports gone leaves the state, and the next up creates it again", async () => {
    const provider = new DriftingProvider();
    const engine = new UpdateEngine(provider);
    const member = { name: "member", image: "sha256:abc" };
    await run(engine, [{ type: CONTAINER, name: "member", inputs: member }]);
    // Removed outside Pulumi (docker rm): the pretend engine no longer has it.
    provider.live.clear();
    expect(await engine.refresh()).toEqual({ changed: [], gone: ["member"] });
    expect(engine.resources).toEqual([]);
    expect(
      (await run(engine, [{ type: CONTAINER, name: "member", inputs: member }])).create,
    ).toEqual(["member"]);
  });

  it("on the real program, a refresh that reads back what was deployed leaves the next up all unchanged", async () => {
    const stack = new MemoryStack();
    const first = await stack.up();
    expect(await stack.engine.refresh()).toEqual({ changed: [], gone: [] });
    const second = await stack.up();
    expect(second.plan.same).toEqual(first.plan.create);
  });
});

describe("a container that fails its healthcheck (resourceDockerContainerCreate's wait)", () => {
  /** Fails the create of `failing` after the container exists, as the provider's wait does. */
  class UnhealthyProvider extends MemoryProvider {
    failing = new Set<string>();
    override async create(type: string, name: string, inputs: PropertyMap) {
      const created = await super.create(type, name, inputs);
      if (!this.failing.has(name)) return created;
      // The bridge's state for a failed create: the id and the config, no network_data.
      throw new InitializationError(created.id, { ...inputs }, [FAILED_TO_BE_HEALTHY]);
    }
  }

  it("first up fails and keeps the container in the state; the next unchanged up updates it (clearing the error) and leaves it", async () => {
    const provider = new UnhealthyProvider();
    provider.failing.add("member");
    const engine = new UpdateEngine(provider);
    const member = { name: "member", image: "sha256:abc", wait: true, waitTimeout: 60 };
    await expect(
      run(engine, [{ type: CONTAINER, name: "member", inputs: member }]),
    ).rejects.toThrow(FAILED_TO_BE_HEALTHY);
    const [kept] = engine.resources;
    expect(kept?.name, "the container stays in the state").toBe("member");
    expect(kept.initErrors).toEqual([FAILED_TO_BE_HEALTHY]);
    expect(kept.outputs.networkDatas, "a failed create set no network_data").toBeUndefined();
    const id = kept.id;

    // step_generator.go: no diff, but InitErrors → an (empty) update step, which succeeds.
    provider.failing.clear();
    const second = await run(engine, [{ type: CONTAINER, name: "member", inputs: member }]);
    expect(second.update).toEqual(["member"]);
    expect(second.keys.member).toEqual([]);
    expect(provider.calls.filter((call) => call.name === "member").map((c) => c.op)).toEqual([
      "create",
      "update",
    ]);
    const [after] = engine.resources;
    expect(after.id, "the same container").toBe(id);
    expect(after.initErrors).toBeUndefined();
    expect(after.outputs, "the bridge's Update with no diff returns the old state").toEqual(
      kept.outputs,
    );
    const third = await run(engine, [{ type: CONTAINER, name: "member", inputs: member }]);
    expect(third.same).toEqual(["member"]);
  });
});

describe("the network's delete retry (resourceDockerNetworkDelete's StateChangeConf)", () => {
  const conf = {
    delaySeconds: 0.2,
    minTimeoutSeconds: 0.5,
    maxWaitSeconds: 1,
    timeoutSeconds: 3,
    target: "removed",
  };

  it("retries while the network has active endpoints, then fails with the SDK's timeout error", async () => {
    // Vitest's fake clock (setTimeout and Date.now): the schedule is the model's, not the
    // machine's. On real timers a busy CI machine fired a wait 0.2 s late.
    vi.useFakeTimers();
    try {
      const attempts: number[] = [];
      const started = Date.now();
      const failed = expect(
        waitForState(conf, async () => {
          attempts.push((Date.now() - started) / 1000);
          return "pending";
        }),
      ).rejects.toThrow(
        "timeout while waiting for state to become 'removed' (last state: 'pending', timeout: 3s)",
      );
      await vi.runAllTimersAsync();
      await failed;
      // Delay, then at once, then waits of max(2×, minTimeout) held under maxWait: 0.2, 0.7, 1.7, 2.7.
      expect(attempts.map((t) => Math.round(t * 10) / 10)).toEqual([0.2, 0.7, 1.7, 2.7]);
      expect((Date.now() - started) / 1000).toBeGreaterThanOrEqual(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("succeeds on the first attempt after the last endpoint left", async () => {
    let calls = 0;
    await waitForState(conf, async () => (++calls < 3 ? "pending" : "removed"));
    expect(calls).toBe(3);
  });
});

describe("image digests in the unit model (skipPush: repoDigest is the local image id)", () => {
  const context = "docker-images/apache-php-image";

  /** One run: an image, and a container fed by its repoDigest (as the program feeds members). */
  const deploy = async (engine: UpdateEngine, build: Record<string, unknown>) => {
    engine.beginRun();
    const built = await engine.register(
      {
        type: IMAGE,
        name: "image",
        inputs: { imageName: "unit/static", skipPush: true, build: { context, ...build } },
        custom: true,
      },
      registration(IMAGE, "image"),
    );
    await engine.register(
      {
        type: CONTAINER,
        name: "member",
        inputs: { name: "member", image: built.outputs.repoDigest as string },
        custom: true,
      },
      registration(CONTAINER, "member", { image: [urn(IMAGE, "image")] }),
    );
    return engine.finishRun();
  };

  it("a rebuild of the same content keeps repoDigest, so the container it feeds is not replaced", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, { dockerfile: `${context}/Dockerfile` });
    // The same Dockerfile, named another way: `build` changed (a rebuild), its content did not.
    const plan = await deploy(engine, { dockerfile: `${context}/./Dockerfile` });
    expect(plan.update).toEqual(["image"]);
    expect(plan.same).toEqual(["member"]);
  });

  it("a changed build arg is new content: a new digest, and the container is replaced", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, { args: { BASE_IMAGE: "a" } });
    const plan = await deploy(engine, { args: { BASE_IMAGE: "b" } });
    expect(plan.update).toEqual(["image"]);
    expect(plan.replace).toEqual(["member"]);
  });
});
