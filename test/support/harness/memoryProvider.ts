// The update engine (engine.ts) over an in-memory provider instead of Docker, so unit tests can
// run the real program twice and read the plan, like `pulumi preview` on a deployed stack, with
// nothing but Node. Outputs come from each type's module (resources/<type>.ts `memory`), shaped as
// its Docker behaviour's and deterministic.
import { runProgram, type ProgramRun, type RunProgramOptions } from "../pulumiProgram";
import { UpdateEngine, type Plan, type Provider, type ResourceState } from "./engine";
import { assertImplemented } from "./inputs";
import { resourceModule } from "./resources";
import { contextResolver, type ContextResolver } from "./resources/image";
import type { MemoryContext } from "./resources/types";
import { planned } from "./terraformSchema";
import type { InputDiff } from "./updateRules";
import type { PropertyMap } from "./propertyMap";

/** An object on the pretend engine, with the outputs its last create or update reported. */
export interface LiveObject {
  type: string;
  name: string;
  outputs: PropertyMap;
}

export interface ProviderCall {
  op: "create" | "update" | "delete";
  name: string;
  id: string;
}

export class MemoryProvider implements Provider {
  readonly calls: ProviderCall[] = [];
  /** What exists on the pretend engine, by id. */
  readonly live = new Map<string, LiveObject>();
  private sequence = 0;
  private nextHost = 10;
  /** Where each build context is read from (tests point one at an edited copy). */
  resolveContext: ContextResolver = (p) => p;
  private readonly context: MemoryContext = {
    nextAddress: () => `10.99.0.${this.nextHost++}`,
    resolveContext: (p) => this.resolveContext(p),
  };

  check(type: string, name: string, inputs: PropertyMap) {
    assertImplemented(type, name, inputs);
    const module = resourceModule(type, name);
    return module.check ? module.check(inputs, this.resolveContext) : inputs;
  }

  async create(type: string, name: string, inputs: PropertyMap) {
    const module = resourceModule(type, name);
    const id = `${name}-${++this.sequence}`;
    this.calls.push({ op: "create", name, id });
    // Docker refuses a second container or network with the same name.
    for (const object of this.live.values()) {
      if (module.memory.uniqueName && object.type === type && object.name === inputs.name) {
        throw new Error(`${inputs.name} already exists (Conflict)`);
      }
    }
    const outputs = module.memory.create(this.context, inputs, id);
    this.live.set(id, { type, name: (inputs.name as string | undefined) ?? name, outputs });
    return { id, outputs };
  }

  async update(old: ResourceState, inputs: PropertyMap, diff: InputDiff) {
    const module = resourceModule(old.type, old.name);
    this.calls.push({ op: "update", name: old.name, id: old.id! });
    if (diff.replaceKeys.length > 0) {
      throw new Error(`${old.name}: "${diff.replaceKeys[0]}" forces a replacement, not an update`);
    }
    const outputs = module.memory.update(old, inputs, diff);
    const live = this.live.get(old.id!);
    if (live) live.outputs = outputs;
    return outputs;
  }

  /**
   * `pulumi preview`: the type's own preview (resources/<type>.ts `memory.preview`), else a bridged
   * resource's: Terraform's planned state, i.e. the inputs (over the old outputs for an update),
   * every Computed attribute not already known (a new container's networkDatas) left out: unknown.
   */
  async preview(
    operation: "create" | "update",
    type: string,
    name: string,
    inputs: PropertyMap,
    old: ResourceState | undefined,
  ) {
    const module = resourceModule(type, name);
    if (module.memory.preview) return module.memory.preview(this.context, operation, inputs);
    const prior = operation === "update" ? old?.outputs : undefined;
    // With a schema: the SDK's planned state (ProposedNew with the defaults filled in).
    if (module.rules.schema) return planned(module.rules.schema, prior, inputs);
    return prior ? { ...prior, ...inputs } : { ...inputs };
  }

  /** Nothing drifts on the pretend engine: a refresh reads back what is in the state. */
  async read(state: ResourceState) {
    return this.live.has(state.id!) ? state.outputs : undefined;
  }

  async delete(state: ResourceState) {
    this.calls.push({ op: "delete", name: state.name, id: state.id! });
    // Docker answers 404 for an object that is gone, and the provider's delete fails on it.
    if (!this.live.has(state.id!)) throw new Error(`${state.name}: no such object ${state.id}`);
    const refusal = resourceModule(state.type, state.name).memory.refusesDelete?.(state, [
      ...this.live.values(),
    ]);
    if (refusal) throw new Error(refusal);
    this.live.delete(state.id!);
  }
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
    this.engine.beginRun({ dryRun: programOptions.preview ?? false });
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
