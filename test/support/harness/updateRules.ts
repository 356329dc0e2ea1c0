// How the provider classifies a change of inputs between two `pulumi up` runs: no change, an
// in-place update, or a replacement. Pure functions over each type's schema rules (the `rules` of
// its module in resources/), so unit tests can check them without an engine. Sources:
//
// - Container, Network, Service and Secret are bridged from kreuzwerker/terraform-provider-docker
//   (pulumi/pulumi-docker provider/resources.go). The bridge's Diff (pulumi/pulumi-terraform-bridge
//   pkg/tfbridge/provider.go, `Provider.Diff`) asks Terraform for a plan and replaces the resource
//   when an attribute diff RequiresNew; any other change is an update, which Terraform applies
//   with the resource's UpdateContext. Service and Secret give their Terraform schema and get the
//   SDK's own diff (terraformSchema.ts); Container and Network, flat, are diffed per top-level
//   property.
// - Image is native to pulumi-docker (provider/provider.go): `Check` adds `build.contextDigest`,
//   `Diff` compares old and new inputs and never asks for a replacement.
import type { ResourceState } from "./engine";
import { resourceModule } from "./resources";
import { diffResource, UNKNOWN } from "./terraformSchema";

/**
 * A value the engine does not know yet. calculateDependentReplacements (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go) puts it in place of every input that came from a
 * resource about to be replaced, then asks the provider's Diff whether that forces a replacement.
 */
export { UNKNOWN };

export interface InputDiff {
  /** Top-level properties whose value changed. */
  changedKeys: string[];
  /** Those of them that force a replacement. */
  replaceKeys: string[];
  /** The provider's DeleteBeforeReplace answer (before the program's option overrides it). */
  deleteBeforeReplace: boolean;
}

function canonical(value: unknown, isSet: boolean): string {
  const walk = (v: unknown): unknown => {
    if (v === UNKNOWN) return "\u0000<unknown>";
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([, child]) => child !== undefined && child !== null)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, child]) => [k, walk(child)]),
      );
    }
    return v;
  };
  const walked = walk(value);
  if (isSet && Array.isArray(walked)) {
    return JSON.stringify(walked.map((item) => JSON.stringify(item)).sort());
  }
  return JSON.stringify(walked ?? null);
}

function isZero(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === "" || value === 0) {
    return true;
  }
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
}

/** Whether a value is or holds UNKNOWN anywhere. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null)
    return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * What the provider's Diff takes as the old values: the old outputs for bridged resources (what
 * Read returned after Create, or after a refresh), the old inputs for Image (each module's
 * `rules.diffBasis` cites its provider).
 */
export function priorState(state: ResourceState): Record<string, unknown> {
  const basis = resourceModule(state.type, state.name).rules.diffBasis;
  return basis === "outputs" ? state.outputs : state.inputs;
}

/**
 * The provider's Diff of the prior state (priorState) against the new inputs. Only input
 * properties take part: an output-only attribute (network_data, exit_code, scope) never diffs
 * against the config. Throws, naming the property, on a change it
 * has no rule for: a plan must never show "unchanged" because the harness didn't look.
 */
export function diffInputs(
  type: string,
  name: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  /**
   * The engine's `IgnoreChanges` for this resource, passed to the provider's Diff (pulumi/pulumi
   * step_generator.go `diffResource`). The bridge drops the ignored attributes from the
   * Terraform diff: pulumi-terraform-bridge pkg/tfbridge/provider.go `Provider.Diff` →
   * `newIgnoreChanges` (pkg/tfbridge/diff.go `computeIgnoreChanges`) → pkg/tfshim/sdk-v2/
   * provider2.go `PlanResourceChange` (`dd.processIgnoreChanges`). Top-level names only.
   */
  ignoreChanges: readonly string[] = [],
): InputDiff {
  const { rules, inputs } = resourceModule(type, name);
  if (rules.schema) return diffBySchema(type, name, rules.schema, olds, news, ignoreChanges, rules);
  const changedKeys: string[] = [];
  const replaceKeys: string[] = [];
  const oldInputKeys = Object.keys(olds).filter((key) => key in inputs);
  for (const key of new Set([...oldInputKeys, ...Object.keys(news)])) {
    if (ignoreChanges.includes(key)) continue;
    const before = olds[key];
    const after = news[key];
    if (after === undefined || after === null) {
      // An Optional+Computed attribute left out keeps its old value: no diff.
      if (rules.computed.has(key)) continue;
      // Any other attribute left out is compared as its type's zero value (terraform-plugin-sdk
      // helper/schema/schema.go `schemaMap.diffString`: `nraw = schema.Type.Zero()` when the
      // config has none), so a state of false, "", 0 or an empty list/map is no change.
      if (isZero(before)) continue;
    }
    const unknown = containsUnknown(after);
    if (!unknown && rules.suppressDiff?.[key]?.(before, after)) continue;
    if (
      !unknown &&
      canonical(before, rules.sets.has(key)) === canonical(after, rules.sets.has(key))
    )
      continue;
    const rule = rules.properties[key];
    if (!rule) {
      throw new Error(
        `harness: ${type} input "${key}" of ${name} changed and the harness has no update rule ` +
          `for it; add one to its module in test/support/harness/resources/, citing the provider`,
      );
    }
    changedKeys.push(key);
    // An unknown value for a ForceNew attribute: Terraform plans a replacement
    // (hashicorp/terraform-plugin-sdk helper/schema/schema.go `Schema.finalizeDiff`:
    // `RequiresNew = Old != New || NewComputed` when ForceNew).
    if (rule === "replace") replaceKeys.push(key);
  }
  return {
    changedKeys,
    replaceKeys,
    deleteBeforeReplace: rules.deleteBeforeReplace(news),
  };
}

/**
 * The diff of a resource whose module gives its Terraform schema: the SDK's attribute diffs
 * (terraformSchema.ts), each blamed on its top-level property; any RequiresNew makes a
 * replacement (pkg/tfbridge/provider.go `Diff`: `replaceDecision := diff.RequiresNew()`). An
 * ignored property's attribute diffs are dropped (pkg/tfshim/sdk-v2 `processIgnoreChanges`).
 */
function diffBySchema(
  type: string,
  name: string,
  schema: NonNullable<ReturnType<typeof resourceModule>["rules"]["schema"]>,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  ignoreChanges: readonly string[],
  rules: ReturnType<typeof resourceModule>["rules"],
): InputDiff {
  for (const key of Object.keys(news)) {
    if (news[key] !== undefined && !(key in schema)) {
      throw new Error(
        `harness: ${type} input "${key}" of ${name} is not in the harness's schema of it; add ` +
          `it to its module in test/support/harness/resources/, citing the provider`,
      );
    }
  }
  const diffs = diffResource(schema, olds, news).filter(
    (diff) => !ignoreChanges.includes(diff.property),
  );
  const unique = (keys: string[]) => [...new Set(keys)].sort();
  const replaceKeys = unique(diffs.filter((d) => d.requiresNew).map((d) => d.property));
  return {
    changedKeys: unique(diffs.map((d) => d.property)),
    replaceKeys,
    deleteBeforeReplace: rules.deleteBeforeReplace(news),
  };
}

/** Pulumi's rule for the final choice: the program's option, when set, overrides the provider. */
export function deleteBeforeReplace(diff: InputDiff, option: boolean | undefined): boolean {
  // pulumi/pulumi pkg/resource/deploy/step_generator.go continueStepsFromDiff:
  //   deleteBeforeReplace := diff.DeleteBeforeReplace; if goal.DeleteBeforeReplace != nil { … }
  return option ?? diff.deleteBeforeReplace;
}
