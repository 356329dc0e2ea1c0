// A model of the Pulumi engine's update: it keeps the deployed state between runs of the program
// (per URN: type, inputs, outputs, id, dependencies, options) and turns each registration of a new
// run into the steps `pulumi up` would take, calling a Provider for the real work. Each rule cites
// the engine code it follows, in pulumi/pulumi pkg/resource/deploy/step_generator.go unless said.
import * as pulumi from "@pulumi/pulumi";
import { isDeepStrictEqual } from "node:util";
import type { Registration } from "../pulumiProgram";
import type { ReplacementTrigger } from "./resourceOptions";
import { InitializationError } from "./resources/types";
import {
  deleteBeforeReplace as chooseDeleteBeforeReplace,
  containsUnknown,
  diffInputs,
  priorState,
  UNKNOWN,
  type InputDiff,
} from "./updateRules";
import type { PropertyMap } from "./propertyMap";

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  id: string | undefined;
  inputs: PropertyMap;
  outputs: PropertyMap;
  parent: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace: boolean | undefined;
  /**
   * The errors of a create that failed after the object came to exist (the bridge's
   * initializationError): the engine keeps the resource with them (pulumi/pulumi
   * pkg/resource/deploy/step_executor.go / step.go CreateStep.Apply: `resourceStatus ==
   * resource.StatusPartialFailure` stores the state with InitErrors).
   */
  initErrors?: string[];
  /**
   * The options the engine keeps in the state because later runs act on them: `IgnoreChanges`
   * (stored with the state since v3.163.0, #19188, for calculateDependentReplacements) and
   * `ReplacementTrigger` (compared with the next run's by shouldTriggerReplace).
   */
  ignoreChanges?: string[];
  replacementTrigger?: ReplacementTrigger;
  /** `replaceWith` (URNs), stored with the state as the engine stores it (#20693, v3.207.0). */
  replaceWith?: string[];
  /**
   * Deleted by a delete-before-replace chain of a run that ended before its replacement was
   * created (pkg/resource/deploy/step.go `DeleteStep.Apply`: `s.old.PendingReplacement = true`
   * once the provider's Delete succeeded): it stays in the state, is not deleted again, and its
   * next registration is a replacement (step_generator.go continueStepsFromDiff: `||
   * old.PendingReplacement`).
   */
  pendingReplacement?: boolean;
  /**
   * The old half of a create-before-delete replacement whose delete has not run yet (step.go
   * `CreateStep.Apply` marks the replaced old `Delete`): kept in the state beside its replacement,
   * left out of the next run's olds and deleted after its program (deployment.go "Do not record
   * resources that are pending deletion in the olds lookup table"; GenerateDeletes `res.Delete`).
   */
  delete?: boolean;
}

/** The provider side: what actually creates, updates and deletes. */
export interface Provider {
  /** The provider's Check: the inputs the engine stores and diffs (e.g. an Image's contextDigest). */
  check(type: string, name: string, inputs: PropertyMap): PropertyMap;
  create(
    type: string,
    name: string,
    inputs: PropertyMap,
  ): Promise<{ id: string; outputs: PropertyMap }>;
  update(old: ResourceState, inputs: PropertyMap, diff: InputDiff): Promise<PropertyMap>;
  delete(state: ResourceState): Promise<void>;
  /** The provider's Read (refresh): the object's outputs now, or undefined when it is gone. */
  read(state: ResourceState): Promise<PropertyMap | undefined>;
  /**
   * Create or Update with `preview: true` (`pulumi preview`): the outputs the provider can tell
   * without doing the work, computed ones left out (unknown). Without it the harness refuses to
   * preview.
   */
  preview?(
    operation: "create" | "update",
    type: string,
    name: string,
    inputs: PropertyMap,
    old: ResourceState | undefined,
  ): Promise<PropertyMap>;
}

export interface RunOptions {
  /** `pulumi preview`: plan the steps, call no provider but `preview`, keep the snapshot. */
  dryRun?: boolean;
}

export type Operation = "create" | "update" | "replace" | "delete" | "same";

/** One provider call, in the order the engine made it. */
export interface StepRecord {
  op: "create" | "update" | "delete" | "create-replacement" | "delete-replaced";
  name: string;
  /** Milliseconds since the run began, when the step started and ended. */
  started: number;
  ended: number;
}

/** What a run did, by resource name, like the summary of `pulumi up`. */
export interface Plan {
  create: string[];
  update: string[];
  replace: string[];
  delete: string[];
  same: string[];
  /** Per replaced or updated resource, the properties that made it so. */
  keys: Record<string, string[]>;
  steps: StepRecord[];
}

interface RunContext {
  started: number;
  dryRun: boolean;
  olds: Map<string, ResourceState>;
  /** Old resources already deleted this run, by a delete-before-replace chain. */
  deleted: Set<string>;
  /** URNs registered (operated on) this run: calculateDependentReplacements skips them. */
  registered: Set<string>;
  /** Old states replaced create-before-delete: deleted after the program finishes. */
  replacedOlds: ResourceState[];
  /** Pending deletes left by an earlier run: deleted after the program finishes too. */
  pendingDeletes: ResourceState[];
  /** URNs replaced this run (sg.replaces): a resource whose replaceWith names one is replaced. */
  replaced: Set<string>;
  /** URNs a delete-before-replace chain deleted this run (the provider's Delete succeeded). */
  deletedForReplacement: Set<string>;
  ops: Map<string, Operation>;
  keys: Record<string, string[]>;
  steps: StepRecord[];
}

export class UpdateEngine {
  /** The snapshot, in the order resources finished (a topological order, as Pulumi keeps it). */
  private snapshot: ResourceState[] = [];
  private run: RunContext | undefined;

  constructor(private readonly provider: Provider) {}

  get resources(): readonly ResourceState[] {
    return this.snapshot;
  }

  beginRun(options: RunOptions = {}): void {
    if (this.run) throw new Error("harness: a run is already in progress");
    this.run = {
      started: performance.now(),
      dryRun: options.dryRun ?? false,
      olds: new Map(
        this.snapshot.filter((state) => !state.delete).map((state) => [state.urn, state]),
      ),
      deleted: new Set(),
      registered: new Set(),
      replacedOlds: [],
      pendingDeletes: this.snapshot.filter((state) => state.delete),
      replaced: new Set(),
      deletedForReplacement: new Set(),
      ops: new Map(),
      keys: {},
      steps: [],
    };
    this.next = [];
  }

  /** The new snapshot, built as steps complete. */
  private next: ResourceState[] = [];

  private async step<T>(op: StepRecord["op"], name: string, work: () => Promise<T>): Promise<T> {
    const run = this.current();
    const started = performance.now() - run.started;
    try {
      return await work();
    } finally {
      run.steps.push({ op, name, started, ended: performance.now() - run.started });
    }
  }

  private async preview(
    operation: "create" | "update",
    type: string,
    name: string,
    inputs: PropertyMap,
    old: ResourceState | undefined,
  ): Promise<PropertyMap> {
    if (!this.provider.preview) {
      throw new Error(`harness: this provider does not model preview (${type} ${name})`);
    }
    return this.provider.preview(operation, type, name, inputs, old);
  }

  /** A delete step: the provider's Delete, or nothing in a dry run. */
  private async remove(op: StepRecord["op"], state: ResourceState): Promise<void> {
    const dryRun = this.current().dryRun;
    await this.step(op, state.name, async () => {
      if (!dryRun) await this.provider.delete(state);
    });
  }

  private current(): RunContext {
    if (!this.run) throw new Error("harness: no run in progress (call beginRun first)");
    return this.run;
  }

  /** A registration from the program: the mock runtime's newResource. */
  async register(
    args: pulumi.runtime.MockResourceArgs,
    registration: Registration,
  ): Promise<{ id: string | undefined; outputs: PropertyMap }> {
    const run = this.current();
    const urn = registration.urn;
    run.registered.add(urn);
    const custom = args.custom ?? true;
    const old = run.olds.get(urn);
    const base = {
      urn,
      type: args.type,
      name: args.name,
      custom,
      parent: registration.parent,
      dependencies: registration.dependencies,
      propertyDependencies: registration.propertyDependencies,
      deleteBeforeReplace: registration.deleteBeforeReplace,
      ignoreChanges: registration.ignoreChanges ?? [],
      replacementTrigger: registration.replacementTrigger,
      replaceWith: registration.replaceWith ?? [],
    };

    // Aliases carry an old state over to a new URN (generateAliases / getOldResource): not
    // modelled, so an alias that names a resource in the old state is refused.
    for (const alias of registration.aliases ?? []) {
      const aliased = [...run.olds.keys()].find(
        (old) => old !== urn && (old.endsWith(`::${alias}`) || old.endsWith(`$${alias}`)),
      );
      if (aliased) {
        throw new Error(`harness: the alias ${alias} of ${urn} names ${aliased}: not modelled`);
      }
    }

    // Component resources live only in the state: the engine creates or keeps them, no provider.
    if (!custom) {
      run.ops.set(args.name, old ? "same" : "create");
      this.record({ ...base, id: undefined, inputs: args.inputs as PropertyMap, outputs: {} });
      return { id: undefined, outputs: {} };
    }

    // The goal's inputs as the engine sees them: an unknown in preview is UNKNOWN.
    const goal = fromSdk(args.inputs) as PropertyMap;

    // continueStepsFromImport, Case 1 "recreating": a delete-before-replace chain already deleted
    // this resource as a dependent; seen again, it is a replacement (a create, no diff), checked
    // from the goal's own inputs ("the old inputs are now invalid").
    if (old && run.deleted.has(urn)) {
      run.ops.set(args.name, "replace");
      const inputs = this.provider.check(args.type, args.name, goal);
      return this.createStep("create-replacement", base, inputs, old);
    }

    // continueStepsFromImport, Case 4: no old state, a create step.
    if (!old) {
      run.ops.set(args.name, "create");
      const inputs = this.provider.check(args.type, args.name, goal);
      return this.createStep("create", base, inputs, undefined);
    }

    // continueStepsFromImport: "Set inputs back to their old values (if any) for any 'ignored'
    // properties" (processIgnoreChanges) before the provider's Check.
    const ignoreChanges = registration.ignoreChanges ?? [];
    let inputs = this.provider.check(
      args.type,
      args.name,
      processIgnoreChanges(goal, old.inputs, ignoreChanges),
    );

    // generateStepsFromDiff: "Unknowns in replacement triggers are fine during preview, but they
    // should raise an error during the actual operation."
    const trigger = registration.replacementTrigger;
    if (!run.dryRun && trigger && containsUnknown(trigger.value)) {
      throw new Error(`replacement trigger contains unknowns for ${urn}`);
    }
    // generateStepsFromDiff: a trigger that fires skips the provider's Diff ("Return that there is
    // a diff, but don't fill in any details"): no replace keys, no DeleteBeforeReplace answer.
    const triggerReplace = shouldTriggerReplace(trigger, old.replacementTrigger);
    // sg.diff: "Check if this resource should be replaced because any resource in its ReplaceWith
    // list is being replaced": a replace blamed on replaceWith, without asking the provider.
    const replacedWith = (registration.replaceWith ?? []).some((urn) => run.replaced.has(urn));
    const diff: InputDiff = triggerReplace
      ? { changedKeys: [], replaceKeys: [], deleteBeforeReplace: false }
      : replacedWith
        ? { changedKeys: ["replaceWith"], replaceKeys: ["replaceWith"], deleteBeforeReplace: false }
        : // generateStepsFromDiff → sg.diff → diffResource: the provider's Diff, with IgnoreChanges.
          diffInputs(args.type, args.name, priorState(old), inputs, ignoreChanges);
    // continueStepsFromDiff: `if diff.Changes == DiffSome || old.PendingReplacement`, then `if
    // diff.Replace() || triggerReplace || old.PendingReplacement`: a resource a broken chain
    // already deleted is replaced, whatever the diff says.
    const pending = old.pendingReplacement === true;

    // continueStepsFromDiff: no changes but InitErrors on the old state ("If resource was
    // unchanged, but there were initialization errors, generate an empty update step to attempt
    // to 'continue' awaiting initialization"): an update step, which clears the errors.
    if (!pending && !triggerReplace && diff.changedKeys.length === 0 && old.initErrors?.length) {
      run.ops.set(args.name, "update");
      run.keys[args.name] = [];
      return this.updateStep(base, old, inputs, diff);
    }

    // continueStepsFromDiff: no changes → a same step; the old outputs, no provider call.
    if (!pending && !triggerReplace && diff.changedKeys.length === 0) {
      run.ops.set(args.name, "same");
      this.record({ ...base, id: old.id, inputs, outputs: old.outputs });
      return toSdk({ id: old.id, outputs: old.outputs });
    }

    // continueStepsFromDiff: DiffSome without replace keys → an update step.
    if (!pending && !triggerReplace && diff.replaceKeys.length === 0) {
      run.ops.set(args.name, "update");
      run.keys[args.name] = diff.changedKeys;
      return this.updateStep(base, old, inputs, diff);
    }

    run.ops.set(args.name, "replace");
    run.replaced.add(urn);
    // The engine blames no property when the trigger fires; the harness names the trigger.
    run.keys[args.name] = triggerReplace
      ? ["replacementTrigger"]
      : pending && diff.replaceKeys.length === 0
        ? ["pendingReplacement"]
        : diff.replaceKeys;
    // continueStepsFromDiff, on any replacement: "we need to recompute the default values", so
    // prov.Check runs again on goal.Properties, the program's own inputs: an ignored property's
    // new value (the fresh envs) goes into the replacement.
    inputs = this.provider.check(args.type, args.name, goal);
    if (chooseDeleteBeforeReplace(diff, registration.deleteBeforeReplace)) {
      // continueStepsFromDiff, deleteBeforeReplace: first the dependents that
      // calculateDependentReplacements finds, then those whose replaceWith names this resource
      // (findResourcesReplacedWith, v3.207.0), all deleted in reverse order, then the resource
      // itself (DeleteReplacementSteps), then the CreateReplacementStep.
      const dependents = [...this.dependentReplacements(old), ...this.replacedWith(old.urn)];
      for (const dependent of [...dependents].reverse()) {
        // "If we already deleted this resource due to some other DBR, don't do it again."
        if (run.deleted.has(dependent.urn)) continue;
        // A dependent an earlier chain already deleted (pending replacement) gets its delete
        // again: DeleteStep.Apply has no check for it, so the provider's Delete meets an object
        // that is gone.
        run.deleted.add(dependent.urn);
        await this.remove("delete-replaced", dependent);
        run.deletedForReplacement.add(dependent.urn);
      }
      run.deleted.add(old.urn);
      // "If the resource is already pending replacement we don't need to emit any step."
      if (!pending) await this.remove("delete-replaced", old);
      run.deletedForReplacement.add(old.urn);
      return this.createStep("create-replacement", base, inputs, old);
    }

    if (pending) {
      throw new Error(
        `harness: ${old.name} is pending replacement and replaced create-before-delete: the ` +
          `engine would delete an object already gone; not modelled`,
      );
    }
    // Create-before-delete: the CreateReplacementStep now; the old resource's delete step "is
    // generated later on, after all creates/updates finish" (GenerateDeletes).
    run.replacedOlds.push(old);
    return this.createStep("create-replacement", base, inputs, old);
  }

  /**
   * An update step (step.go `UpdateStep.Apply`): the provider's Update, or its preview in a dry
   * run. An Update that fails after the object exists (the provider's InitializationError) still
   * records the new inputs and the outputs the provider returned, with InitErrors (StatusPartial
   * Failure: `s.new.InitErrors = initErr.Reasons`, `s.new.Outputs = resp.Properties`), then fails
   * the step; the next run with nothing changed makes the empty update that clears them.
   */
  private async updateStep(
    base: Omit<ResourceState, "id" | "inputs" | "outputs">,
    old: ResourceState,
    inputs: PropertyMap,
    diff: InputDiff,
  ): Promise<{ id: string | undefined; outputs: PropertyMap }> {
    const run = this.current();
    try {
      const outputs = await this.step("update", base.name, () =>
        run.dryRun
          ? this.preview("update", base.type, base.name, inputs, old)
          : this.provider.update(old, inputs, diff),
      );
      this.record({ ...base, id: old.id, inputs, outputs });
      return toSdk({ id: old.id, outputs });
    } catch (error) {
      if (error instanceof InitializationError) {
        this.record({
          ...base,
          id: old.id,
          inputs,
          outputs: error.outputs,
          initErrors: error.reasons,
        });
      }
      throw error;
    }
  }

  /**
   * findResourcesReplacedWith (step_generator.go, v3.207.0; findDependentCascadeReplacements
   * after v3.259.0): every resource, registered this run or in the old state, whose replaceWith
   * names `urn`.
   */
  private replacedWith(urn: string): ResourceState[] {
    const run = this.current();
    const found = new Map<string, ResourceState>();
    for (const state of [...this.next, ...run.olds.values()]) {
      if (!found.has(state.urn) && state.replaceWith?.includes(urn)) found.set(state.urn, state);
    }
    return [...found.values()];
  }

  /**
   * A create (or create-replacement) step. A create that fails after the object exists (the
   * provider's InitializationError) still records the resource, with its id, outputs and
   * InitErrors, then fails the step (pulumi/pulumi pkg/resource/deploy/step.go `CreateStep.Apply`:
   * a partial failure keeps the new state). In a dry run, the provider's preview instead.
   */
  private async createStep(
    op: "create" | "create-replacement",
    base: Omit<ResourceState, "id" | "inputs" | "outputs">,
    inputs: PropertyMap,
    old: ResourceState | undefined,
  ): Promise<{ id: string | undefined; outputs: PropertyMap }> {
    if (this.current().dryRun) {
      const outputs = await this.step(op, base.name, () =>
        this.preview("create", base.type, base.name, inputs, old),
      );
      this.record({ ...base, id: undefined, inputs, outputs });
      return toSdk({ id: undefined, outputs });
    }
    try {
      const created = await this.step(op, base.name, () =>
        this.provider.create(base.type, base.name, inputs),
      );
      this.record({ ...base, id: created.id, inputs, outputs: created.outputs });
      return toSdk({ id: created.id, outputs: created.outputs });
    } catch (error) {
      if (error instanceof InitializationError) {
        this.record({
          ...base,
          id: error.id,
          inputs,
          outputs: error.outputs,
          initErrors: error.reasons,
        });
      }
      throw error;
    }
  }

  private record(state: ResourceState) {
    this.next = this.next.filter((existing) => existing.urn !== state.urn);
    this.next.push(state);
  }

  /**
   * calculateDependentReplacements: the old resources that depend on `root` (DependencyGraph
   * .DependingOn over the old snapshot, skipping anything already registered this run) and that
   * the provider would replace once every input fed by a resource in the replace set is unknown.
   * Components never need replacing; a dependsOn edge alone never forces a replacement.
   */
  private dependentReplacements(root: ResourceState): ResourceState[] {
    const run = this.current();
    const olds = this.snapshotOrder(run);
    const at = olds.findIndex((state) => state.urn === root.urn);
    const dependentSet = new Set([root.urn]);
    const replaceSet = new Set([root.urn]);
    const toReplace: ResourceState[] = [];
    for (const candidate of olds.slice(at + 1)) {
      if (run.registered.has(candidate.urn)) continue;
      // DependingOn: Dependencies and PropertyDependencies edges (not the parent edge here).
      const edges = [
        ...candidate.dependencies,
        ...Object.values(candidate.propertyDependencies).flat(),
      ];
      if (!edges.some((urn) => dependentSet.has(urn))) continue;
      dependentSet.add(candidate.urn);

      if (!candidate.custom) continue;
      let fedByReplaced = false;
      const inputsForDiff: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(candidate.inputs)) {
        const fed = (candidate.propertyDependencies[key] ?? []).some((urn) => replaceSet.has(urn));
        fedByReplaced ||= fed;
        inputsForDiff[key] = fed ? UNKNOWN : value;
      }
      if (!fedByReplaced) continue;
      // requiresReplacement → diffResource(..., inputsForDiff, prov, true, r.IgnoreChanges): the
      // dependent's STORED ignoreChanges go to the provider's Diff (since v3.163.0, #19188 "Fix
      // ReplaceOnChanges and IgnoreChanges being respected during DBR diffs"), so an ignored input
      // fed by a replaced resource does not drag the dependent into the delete chain. The
      // dependent's replacementTrigger plays no part here.
      const diff = diffInputs(
        candidate.type,
        candidate.name,
        priorState(candidate),
        inputsForDiff,
        candidate.ignoreChanges ?? [],
      );
      if (diff.replaceKeys.length > 0) {
        toReplace.push(candidate);
        replaceSet.add(candidate.urn);
        run.keys[candidate.name] = diff.replaceKeys;
      }
    }
    return toReplace;
  }

  /** The old states in dependency order (DependencyGraph walks them so: dependencies first). */
  private snapshotOrder(run: RunContext): ResourceState[] {
    const states = [...run.olds.values()];
    const sorted: ResourceState[] = [];
    const placed = new Set<string>();
    const edges = (state: ResourceState) => [
      state.parent,
      ...state.dependencies,
      ...Object.values(state.propertyDependencies).flat(),
      ...(state.replaceWith ?? []),
    ];
    while (sorted.length < states.length) {
      const next = states.find(
        (state) =>
          !placed.has(state.urn) &&
          edges(state).every((urn) => placed.has(urn) || !run.olds.has(urn)),
      );
      if (!next) throw new Error("harness: a dependency cycle in the old state");
      sorted.push(next);
      placed.add(next.urn);
    }
    return sorted;
  }

  /**
   * After the program: GenerateDeletes (old resources this run did not register, and the old
   * halves of create-before-delete replacements), run by ScheduleDeletes in reverse dependency
   * order: a resource is deleted only once nothing left to delete depends on it.
   */
  async finishRun(): Promise<Plan> {
    const run = this.current();
    try {
      const condemned: ResourceState[] = [...run.replacedOlds, ...run.pendingDeletes];
      for (const old of run.olds.values()) {
        if (!run.registered.has(old.urn) && !run.deleted.has(old.urn)) {
          run.ops.set(old.name, "delete");
          // GenerateDeletes: a resource pending replacement is gone already, so it only leaves
          // the state (RemovePendingReplaceStep, no provider call).
          if (!old.pendingReplacement) condemned.push(old);
        }
      }
      const pendingDelete = (state: ResourceState) =>
        run.replacedOlds.includes(state) || run.pendingDeletes.includes(state);
      const deleted = new Set<ResourceState>();
      try {
        await this.deleteInDependencyOrder(
          condemned,
          (state) => (pendingDelete(state) ? "delete-replaced" : "delete"),
          (state) => deleted.add(state),
        );
      } catch (error) {
        // A delete that failed: the state keeps this run's resources and whatever is left to
        // delete (each finished step is in the snapshot).
        if (!run.dryRun) {
          this.snapshot = [
            ...this.next,
            ...condemned
              .filter((state) => !deleted.has(state))
              .map((state) => (pendingDelete(state) ? { ...state, delete: true } : state)),
          ];
        }
        throw error;
      }
      // A preview changes nothing: the snapshot stays what the last `up` left.
      if (!run.dryRun) this.snapshot = this.next;
      return this.plan(run);
    } finally {
      this.run = undefined;
    }
  }

  /**
   * A run that failed part-way: the state keeps what exists, as the engine's snapshot does after
   * each step: the resources this run recorded; the old ones it did not get to; those a
   * delete-before-replace chain deleted and nothing re-created, marked pending replacement; and
   * the old halves of create-before-delete replacements, marked for deletion beside their
   * replacements (so the next run's olds are the replacements).
   */
  abortRun(): void {
    const run = this.current();
    const kept: ResourceState[] = [...this.next];
    const has = (urn: string) => kept.some((state) => state.urn === urn);
    for (const old of run.olds.values()) {
      if (has(old.urn)) continue;
      // A delete that failed leaves the object, and the state, as they were.
      kept.push(
        run.deletedForReplacement.has(old.urn) ? { ...old, pendingReplacement: true } : old,
      );
    }
    for (const old of [...run.replacedOlds, ...run.pendingDeletes]) {
      kept.push({ ...old, delete: true });
    }
    this.snapshot = kept;
    this.run = undefined;
  }

  /**
   * `pulumi destroy`: every resource, dependents first. Each finished delete leaves the state at
   * once, so a destroy that fails part-way keeps only what still exists (pulumi/pulumi
   * pkg/resource/deploy/step.go `DeleteStep.Apply` removes the resource from the snapshot).
   */
  async destroy(): Promise<Plan> {
    this.beginRun();
    const run = this.current();
    for (const state of this.snapshot) run.ops.set(state.name, "delete");
    try {
      await this.deleteInDependencyOrder(
        [...this.snapshot],
        () => "delete",
        (deleted) => {
          this.snapshot = this.snapshot.filter((state) => state !== deleted);
        },
      );
      this.next = [];
      this.snapshot = [];
      return this.plan(run);
    } finally {
      this.run = undefined;
    }
  }

  /**
   * `pulumi refresh` (and the refresh `pulumi up --refresh` runs first): the provider's Read of
   * every custom resource in the state; new outputs replace the old (inputs stay), and a resource
   * the provider reports gone leaves the state (pulumi/pulumi pkg/resource/deploy/step.go
   * `RefreshStep.Apply`: "If the resource was deleted, remove it from the state"). Returns which
   * resources changed their outputs and which left the state.
   */
  async refresh(): Promise<{ changed: string[]; gone: string[] }> {
    if (this.run) throw new Error("harness: refresh while a run is in progress");
    const changed: string[] = [];
    const gone: string[] = [];
    // The engine runs the RefreshSteps in parallel.
    const refreshed = await Promise.all(
      this.snapshot.map(async (state): Promise<ResourceState | undefined> => {
        // RefreshStep.Apply: "Component, provider, and pending-replace resources never change
        // with a refresh".
        if (!state.custom || state.pendingReplacement) return state;
        const outputs = await this.provider.read(state);
        if (outputs === undefined) {
          gone.push(state.name);
          return undefined;
        }
        if (JSON.stringify(outputs) !== JSON.stringify(state.outputs)) changed.push(state.name);
        // `var initErrors []string`, set only from the Read's own InitErrors: a refresh clears
        // the errors a failed create or update left.
        return { ...state, outputs, initErrors: undefined };
      }),
    );
    this.snapshot = refreshed.filter((state): state is ResourceState => state !== undefined);
    return { changed: changed.sort(), gone: gone.sort() };
  }

  private async deleteInDependencyOrder(
    condemned: ResourceState[],
    op: (state: ResourceState) => StepRecord["op"],
    onDeleted: (state: ResourceState) => void = () => undefined,
  ) {
    let remaining = [...condemned];
    while (remaining.length > 0) {
      const urns = new Set(remaining.map((state) => state.urn));
      // ScheduleDeletes: an antichain of resources no remaining resource depends on, in parallel
      // (DependencyGraph edges: parent, dependencies, property dependencies, replaceWith).
      const ready = remaining.filter(
        (state) =>
          !remaining.some(
            (other) =>
              other !== state &&
              (other.parent === state.urn ||
                other.dependencies.includes(state.urn) ||
                Object.values(other.propertyDependencies).flat().includes(state.urn) ||
                (other.replaceWith ?? []).includes(state.urn)),
          ),
      );
      if (ready.length === 0) {
        throw new Error(`harness: a dependency cycle among ${[...urns].join(", ")}`);
      }
      await Promise.all(
        ready.map(async (state) => {
          // A resource pending replacement is gone already: it only leaves the state.
          if (state.custom && !state.pendingReplacement) await this.remove(op(state), state);
          onDeleted(state);
        }),
      );
      remaining = remaining.filter((state) => !ready.includes(state));
    }
  }

  private plan(run: RunContext): Plan {
    const plan: Plan = {
      create: [],
      update: [],
      replace: [],
      delete: [],
      same: [],
      keys: run.keys,
      steps: run.steps,
    };
    for (const [name, op] of run.ops) plan[op].push(name);
    for (const op of ["create", "update", "replace", "delete", "same"] as const) plan[op].sort();
    return plan;
  }
}

/**
 * processIgnoreChanges (step_generator.go): each ignored property takes its old value, so the
 * provider's Check and Diff see no change there. "cannot ignore changes in added or removed
 * elements": a property the old inputs lack keeps its new value.
 */
export function processIgnoreChanges(
  inputs: PropertyMap,
  oldInputs: PropertyMap,
  ignoreChanges: readonly string[],
): PropertyMap {
  const processed = { ...inputs };
  for (const key of ignoreChanges) {
    if (key in oldInputs && key in inputs) processed[key] = oldInputs[key] as unknown;
  }
  return processed;
}

/**
 * shouldTriggerReplace (step_generator.go), on values unwrapped of secrets and outputs
 * (harness/resourceOptions.ts): "Unknowns are always considered to be changed"; "Nulls mean
 * 'there is no replacement trigger'"; otherwise a replace when the values differ.
 */
export function shouldTriggerReplace(
  trigger: ReplacementTrigger | undefined,
  old: ReplacementTrigger | undefined,
): boolean {
  if (containsUnknown(trigger?.value) || containsUnknown(old?.value)) return true;
  if (trigger === undefined || old === undefined) return false;
  return !isDeepStrictEqual(trigger.value, old.value);
}

/** The mock runtime's inputs as the engine sees them: the SDK's `unknown` (preview) is UNKNOWN. */
function fromSdk(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(fromSdk);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromSdk(v)]));
  }
  return value;
}

/** Outputs for the mock runtime: UNKNOWN goes back as the SDK's `unknown`. */
function toSdk(result: { id: string | undefined; outputs: PropertyMap }) {
  const walk = (value: unknown): unknown => {
    if (value === UNKNOWN) return pulumi.unknown;
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return { id: result.id, outputs: walk(result.outputs) as PropertyMap };
}
