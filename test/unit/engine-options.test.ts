// The harness engine's resource options, one rule per test, on synthetic resources driven straight
// through the engine (test/support/harness/engine.ts, resourceOptions.ts, engineVersion.ts). Each
// rule cites the pulumi/pulumi code it follows at the code; these tests pin what it does.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { shouldTriggerReplace, UpdateEngine } from "../support/harness/engine";
import {
  MODELLED_PULUMI_VERSION,
  validatePulumiVersionRange,
} from "../support/harness/engineVersion";
import { CONTAINER } from "../support/harness/inputs";
import { MemoryProvider, MemoryStack } from "../support/harness/memoryProvider";
import {
  readReplacementTrigger,
  type ReplacementTrigger,
} from "../support/harness/resourceOptions";
import { UNKNOWN } from "../support/harness/updateRules";
import type { Registration } from "../support/pulumiProgram";

const urn = (name: string) => `urn:pulumi:unit::http-infra::${CONTAINER}::${name}`;
const ops = (steps: { op: string; name: string }[]) => steps.map((s) => `${s.op} ${s.name}`);

interface FrontOptions {
  envs?: string[];
  ignoreChanges?: string[];
  trigger?: ReplacementTrigger;
  deleteBeforeReplace?: boolean;
}

/**
 * One run of a two-container program: `member` (delete-before-replace, its image from `image`) and
 * `front`, whose `envs` come from member's outputs (a property dependency), like the proxy's.
 */
async function deploy(
  engine: UpdateEngine,
  image: string,
  front: FrontOptions = {},
  dryRun = false,
) {
  engine.beginRun({ dryRun });
  const member = await engine.register(
    { type: CONTAINER, name: "member", custom: true, inputs: { name: "member", image } },
    {
      urn: urn("member"),
      parent: "",
      deleteBeforeReplace: true,
      dependencies: [],
      propertyDependencies: {},
    },
  );
  const registration: Registration = {
    urn: urn("front"),
    parent: "",
    // Absent: delete-before-replace, like the proxy; present but undefined: left unset.
    deleteBeforeReplace: "deleteBeforeReplace" in front ? front.deleteBeforeReplace : true,
    dependencies: [urn("member")],
    propertyDependencies: { envs: [urn("member")] },
    ignoreChanges: front.ignoreChanges,
    replacementTrigger: front.trigger,
  };
  await engine.register(
    {
      type: CONTAINER,
      name: "front",
      custom: true,
      inputs: { name: "front", image: "front-image", envs: front.envs ?? [`MEMBER=${member.id}`] },
    },
    registration,
  );
  return engine.finishRun();
}

const front = (engine: UpdateEngine) => engine.resources.find((r) => r.name === "front")!;
const trigger = (value: unknown, secret = false): ReplacementTrigger => ({ value, secret });

describe("ignoreChanges", () => {
  it("an ignored input keeps its old value: no diff, and the state keeps the old value", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { envs: ["A=1"], ignoreChanges: ["envs"] });
    const frontId = front(engine).id;
    const plan = await deploy(engine, "v1", { envs: ["A=2"], ignoreChanges: ["envs"] });
    expect(plan.same).toEqual(["front", "member"]);
    expect(front(engine).id).toBe(frontId);
    expect(front(engine).inputs.envs, "processIgnoreChanges: the old value").toEqual(["A=1"]);
  });

  it("without it, the same change replaces (envs is ForceNew)", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { envs: ["A=1"] });
    const plan = await deploy(engine, "v1", { envs: ["A=2"] });
    expect(plan.replace).toEqual(["front"]);
  });

  it("calculateDependentReplacements passes the dependent's stored ignoreChanges: a replaced member does not delete the front first", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { envs: ["A=1"], ignoreChanges: ["envs"] });
    const plan = await deploy(engine, "v2", { envs: ["A=1"], ignoreChanges: ["envs"] });
    expect(ops(plan.steps)).toEqual(["delete-replaced member", "create-replacement member"]);
    expect(plan.same).toEqual(["front"]);
  });

  it("without a stored ignoreChanges, the replaced member drags the front into the delete chain", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { envs: ["A=1"] });
    // Added only in this run: calculateDependentReplacements reads the state, not the new goal.
    const plan = await deploy(engine, "v2", { envs: ["A=1"], ignoreChanges: ["envs"] });
    expect(ops(plan.steps)).toEqual([
      "delete-replaced front",
      "delete-replaced member",
      "create-replacement member",
      "create-replacement front",
    ]);
    expect(plan.keys.front).toEqual(["envs"]);
  });

  it("any replacement is checked from the program's own inputs: the ignored input's new value goes in", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { envs: ["A=1"], ignoreChanges: ["envs"], trigger: trigger("t1") });
    const plan = await deploy(engine, "v1", {
      envs: ["A=2"],
      ignoreChanges: ["envs"],
      trigger: trigger("t2"),
    });
    expect(plan.replace).toEqual(["front"]);
    expect(front(engine).inputs.envs).toEqual(["A=2"]);
  });
});

describe("replacementTrigger", () => {
  it("shouldTriggerReplace: unknowns always fire, nulls never, otherwise a changed value", () => {
    expect(shouldTriggerReplace(trigger(UNKNOWN), trigger("a"))).toBe(true);
    expect(shouldTriggerReplace(trigger({ digest: UNKNOWN }), undefined)).toBe(true);
    expect(shouldTriggerReplace(undefined, trigger("a"))).toBe(false);
    expect(shouldTriggerReplace(trigger("a"), undefined)).toBe(false);
    expect(shouldTriggerReplace(trigger("a"), trigger("a"))).toBe(false);
    expect(shouldTriggerReplace(trigger("a", true), trigger("a")), "secretness is unwrapped").toBe(
      false,
    );
    expect(shouldTriggerReplace(trigger(["a", 1]), trigger(["a", 2]))).toBe(true);
  });

  it("reads the trigger the SDK serialized: secrets and output values unwrapped, unknown outputs UNKNOWN", () => {
    const sig = "4dabf18193072939515e22adb298388d";
    expect(readReplacementTrigger(null)).toBeUndefined();
    expect(readReplacementTrigger("abc")).toEqual({ value: "abc", secret: false });
    expect(
      readReplacementTrigger({ [sig]: "1b47061264138c4ac30d75fd1eb44270", value: "abc" }),
    ).toEqual({ value: "abc", secret: true });
    expect(
      readReplacementTrigger({
        [sig]: "d0e6a833031e9bbcd3f4e8bde6ca49a4",
        value: "abc",
        secret: true,
        dependencies: ["urn:a"],
      }),
    ).toEqual({ value: "abc", secret: true });
    expect(
      readReplacementTrigger({
        [sig]: "d0e6a833031e9bbcd3f4e8bde6ca49a4",
        dependencies: ["urn:a"],
      }),
    ).toEqual({ value: UNKNOWN, secret: false });
    expect(readReplacementTrigger("04da6b54-80e4-46f7-96ec-b56ff0331ba9")?.value).toBe(UNKNOWN);
  });

  it("a changed trigger replaces with no provider diff, and the program's deleteBeforeReplace decides the order", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { trigger: trigger("t1") });
    const plan = await deploy(engine, "v1", { trigger: trigger("t2") });
    expect(plan.replace).toEqual(["front"]);
    expect(plan.keys.front).toEqual(["replacementTrigger"]);
    expect(ops(plan.steps)).toEqual(["delete-replaced front", "create-replacement front"]);
  });

  it("a fired trigger gets no DeleteBeforeReplace from the provider: left unset, it is create-before-delete", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { trigger: trigger("t1"), deleteBeforeReplace: undefined });
    // The container's provider would answer delete-before-replace from its Diff, but the Diff is
    // skipped: the replacement is created first, and clashes on its name as with Docker.
    await expect(
      deploy(engine, "v1", { trigger: trigger("t2"), deleteBeforeReplace: undefined }),
    ).rejects.toThrow(/front already exists/);
    engine.abortRun();
  });

  it("an unchanged trigger leaves the resource alone", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { trigger: trigger("t1") });
    const plan = await deploy(engine, "v1", { trigger: trigger("t1") });
    expect(plan.same).toEqual(["front", "member"]);
  });

  it("an unknown trigger reads as a replace in preview, and changes nothing", async () => {
    const provider = new MemoryProvider();
    const engine = new UpdateEngine(provider);
    await deploy(engine, "v1", { trigger: trigger("t1") });
    const snapshot = structuredClone(engine.resources);
    const calls = provider.calls.length;
    const plan = await deploy(engine, "v1", { trigger: trigger(UNKNOWN) }, true);
    expect(plan.replace).toEqual(["front"]);
    expect(provider.calls.length, "no provider call in preview").toBe(calls);
    expect(engine.resources).toEqual(snapshot);
  });

  it("an unknown trigger in `pulumi up` is an error naming the resource", async () => {
    const engine = new UpdateEngine(new MemoryProvider());
    await deploy(engine, "v1", { trigger: trigger("t1") });
    await expect(deploy(engine, "v1", { trigger: trigger(UNKNOWN) })).rejects.toThrow(
      `replacement trigger contains unknowns for ${urn("front")}`,
    );
    engine.abortRun();
  });
});

describe("preview", () => {
  it("an input unknown in preview forces a replacement (ForceNew) and stays unknown in the outputs", async () => {
    const provider = new MemoryProvider();
    const engine = new UpdateEngine(provider);
    await deploy(engine, "v1", { envs: ["A=1"] });
    engine.beginRun({ dryRun: true });
    const member = await engine.register(
      { type: CONTAINER, name: "member", custom: true, inputs: { name: "member", image: "v1" } },
      {
        urn: urn("member"),
        parent: "",
        deleteBeforeReplace: true,
        dependencies: [],
        propertyDependencies: {},
      },
    );
    // The mock runtime hands the engine the SDK's own `unknown` for an input not known yet; read
    // as an object it would look like a nested input the harness does not implement (labels).
    const front = await engine.register(
      {
        type: CONTAINER,
        name: "front",
        custom: true,
        inputs: {
          name: "front",
          image: "front-image",
          envs: pulumi.unknown,
          labels: pulumi.unknown,
        },
      },
      {
        urn: urn("front"),
        parent: "",
        deleteBeforeReplace: true,
        dependencies: [urn("member")],
        propertyDependencies: { envs: [urn("member")] },
      },
    );
    const plan = await engine.finishRun();
    expect(member.id).toBeDefined();
    expect(plan.replace).toEqual(["front"]);
    expect(plan.keys.front).toEqual(["envs", "labels"]);
    expect(pulumi.isUnknown(front.outputs.envs), "envs is unknown to the program").toBe(true);
  });
});

describe("requirePulumiVersion", () => {
  it("the modelled engine answers as the CLI does", () => {
    expect(() => validatePulumiVersionRange(">=3.226.0", "3.226.0")).not.toThrow();
    expect(() => validatePulumiVersionRange(">=3.226.0", "3.225.9")).toThrow(
      'Pulumi CLI version 3.225.9 does not satisfy the version range ">=3.226.0"',
    );
    expect(() => validatePulumiVersionRange(">=3.0.0 <3.100.0", MODELLED_PULUMI_VERSION)).toThrow(
      /does not satisfy/,
    );
    expect(() => validatePulumiVersionRange("3.x || 4.x", "3.226.0")).toThrow(/not modelled/);
  });

  it("the program refuses an engine older than 3.226.0, and runs on the modelled one", async () => {
    await expect(
      new MemoryStack("old-engine").up({
        engineVersion: "3.225.0",
        config: { networkSubnet: "10.251.9.0/24" },
      }),
    ).rejects.toThrow('Pulumi CLI version 3.225.0 does not satisfy the version range ">=3.226.0"');
    const { plan } = await new MemoryStack("new-engine").up({
      config: { networkSubnet: "10.251.9.0/24" },
    });
    expect(plan.create).toContain("proxy");
  });
});

describe("options the harness does not model", () => {
  const program = path.resolve("test/support/fixtures/optionProgram.ts");

  // The option as the fixture sets it → what the harness's error must say.
  it.each([
    ["protect", "resource option protect"],
    ["retainOnDelete", "resource option retainOnDelete"],
    ["deletedWith", "resource option deletedWith"],
    ["replaceOnChanges", "resource option replaceOnChanges"],
    ["additionalSecretOutputs", "resource option additionalSecretOutputs"],
    ["customTimeouts", "resource option customTimeouts"],
    ["hideDiffs", "resource option hideDiffs"],
    ["import", "resource option import"],
    ["version", "resource option version (the harness models pulumi-docker v5.x)"],
    ["pluginDownloadURL", "resource option pluginDownloadURL"],
    ["transforms", "resource option transforms"],
    ["envVarMappings", "resource option envVarMappings"],
    ["ignoreChanges (a nested path)", 'ignoreChanges path "labels[0].value"'],
  ])("%s makes the harness throw, naming it", async (option, message) => {
    await expect(new MemoryStack().up({ program, config: { option } })).rejects.toThrow(message);
  });

  it("the fixture runs without any of them", async () => {
    const { plan } = await new MemoryStack().up({ program, config: { option: "none" } });
    expect(plan.create).toEqual(["other", "subject"]);
  });

  it("an alias that names a resource in the state throws (aliases are not modelled)", async () => {
    const stack = new MemoryStack();
    await stack.up({ program, config: { option: "none" } });
    await expect(stack.up({ program, config: { option: "aliases" } })).rejects.toThrow(
      /alias docker:index\/network:Network::subject .* not modelled/,
    );
  });
});
