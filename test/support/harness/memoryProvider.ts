// The update engine (engine.ts) over an in-memory provider instead of Docker, so unit tests can
// run the real program twice and read the plan, like `pulumi preview` on a deployed stack, with
// nothing but Node. Outputs are shaped as the Docker provider's (dockerProvider.ts) and
// deterministic: an image's repoDigest follows its build inputs (contextDigest, args), a
// container's address is its fixed ipv4Address or the next free one on the network.
import { createHash } from "node:crypto";
import { runProgram, type ProgramRun, type RunProgramOptions } from "../pulumiProgram";
import { UpdateEngine, type Plan, type Provider, type ResourceState } from "./engine";
import { assertImplemented, CONTAINER, IMAGE, NETWORK } from "./inputs";
import {
  changeRules,
  checkImageInputs,
  contextResolver,
  type ContextResolver,
  type InputDiff,
} from "./updateRules";

export interface ProviderCall {
  op: "create" | "update" | "delete";
  name: string;
  id: string;
}

export class MemoryProvider implements Provider {
  readonly calls: ProviderCall[] = [];
  /** What exists on the pretend engine, by id. */
  readonly live = new Map<string, { type: string; name: string }>();
  private sequence = 0;
  private nextHost = 10;
  /** Where each build context is read from (tests point one at an edited copy). */
  resolveContext: ContextResolver = (p) => p;

  check(type: string, name: string, inputs: Record<string, any>) {
    assertImplemented(type, name, inputs);
    return type === IMAGE ? checkImageInputs(inputs, this.resolveContext) : inputs;
  }

  async create(type: string, name: string, inputs: Record<string, any>) {
    const id = `${name}-${++this.sequence}`;
    this.calls.push({ op: "create", name, id });
    // Docker refuses a second container or network with the same name.
    for (const object of this.live.values()) {
      if (type !== IMAGE && object.type === type && object.name === inputs.name) {
        throw new Error(`${inputs.name} already exists (Conflict)`);
      }
    }
    this.live.set(id, { type, name: inputs.name ?? name });
    switch (type) {
      case IMAGE:
        return { id, outputs: { ...inputs, repoDigest: imageDigest(inputs) } };
      case NETWORK:
        return { id, outputs: { ...inputs, scope: "local" } };
      case CONTAINER:
        return {
          id,
          outputs: {
            ...inputs,
            networkDatas: (inputs.networksAdvanced ?? []).map(
              (network: { name: string; ipv4Address?: string }) => ({
                networkName: network.name,
                ipAddress: network.ipv4Address ?? `10.99.0.${this.nextHost++}`,
              }),
            ),
            exitCode: null,
          },
        };
      default:
        throw new Error(`unexpected resource type ${type}`);
    }
  }

  async update(old: ResourceState, inputs: Record<string, any>, diff: InputDiff) {
    this.calls.push({ op: "update", name: old.name, id: old.id! });
    if (old.type === IMAGE) return { ...inputs, repoDigest: imageDigest(inputs) };
    for (const key of diff.changedKeys) {
      if (changeRules[old.type]?.properties[key] === "replace") {
        throw new Error(`${old.name}: "${key}" forces a replacement, not an update`);
      }
    }
    return { ...old.outputs, ...inputs };
  }

  async delete(state: ResourceState) {
    this.calls.push({ op: "delete", name: state.name, id: state.id! });
    this.live.delete(state.id!);
  }
}

function imageDigest(inputs: Record<string, any>): string {
  const hash = createHash("sha256").update(JSON.stringify(inputs.build)).digest("hex");
  return `sha256:${hash}`;
}

/** A stack deployed on the in-memory provider: `up()` runs the program and returns the plan. */
export class MemoryStack {
  readonly provider = new MemoryProvider();
  readonly engine = new UpdateEngine(this.provider);

  constructor(private readonly stack = "unit") {}

  async up(
    options: Omit<RunProgramOptions, "newResource" | "stack"> & {
      /** Build contexts read from other directories this run: an edit without touching the repo. */
      contextOverrides?: Record<string, string>;
    } = {},
  ): Promise<{ run: ProgramRun; plan: Plan }> {
    const { contextOverrides, ...programOptions } = options;
    this.provider.resolveContext = contextResolver(contextOverrides);
    this.engine.beginRun();
    let run: ProgramRun;
    try {
      run = await runProgram({
        ...programOptions,
        stack: this.stack,
        newResource: async (args, registration) => {
          const { id, outputs } = await this.engine.register(args, registration);
          return { id, state: outputs };
        },
      });
    } catch (error) {
      this.engine.abortRun();
      throw error;
    }
    return { run, plan: await this.engine.finishRun() };
  }
}
