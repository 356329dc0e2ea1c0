// The resource options a register request carries, read the way the engine reads them, and the
// ones the harness does not model refused by name. The request is the Node SDK's
// RegisterResourceRequest (@pulumi/pulumi runtime/resource.js `registerResource` fills it; the
// getters are in proto/resource_pb.d.ts); the engine turns it into a goal state (pulumi/pulumi
// pkg/resource/deploy/source_eval.go `RegisterResource`) that step_generator.go acts on.
//
// Modelled (engine.ts): parent, dependsOn and property dependencies, deleteBeforeReplace,
// ignoreChanges, replacementTrigger, replaceWith, and `version` as far as it names the provider
// the harness models. Everything else set to a non-default value makes the harness throw, naming
// the option: a plan must never look right because an option was dropped on the floor.
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { UNKNOWN } from "./updateRules";

/**
 * A replacement trigger as the engine compares it (step_generator.go `shouldTriggerReplace` on the
 * goal's `ReplacementTrigger`): the plain value, with UNKNOWN where the program's Output was
 * unknown (preview), and whether any part of it was secret.
 */
export interface ReplacementTrigger {
  value: unknown;
  secret: boolean;
}

/** The options engine.ts models, as read off one register request. */
export interface ModelledOptions {
  /** `ignoreChanges`: top-level input names (nested paths are refused, see below). */
  ignoreChanges: string[];
  /** `replacementTrigger`, or undefined when unset or null ("Nulls mean no trigger"). */
  replacementTrigger: ReplacementTrigger | undefined;
  /**
   * `replaceWith`: URNs of the resources whose replacement replaces this one too (pulumi/pulumi
   * v3.207.0, #20693): step_generator.go `diff` replaces it when one of them is being replaced, and
   * `continueStepsFromDiff` puts it into that resource's delete-before-replace chain
   * (`findResourcesReplacedWith`), so it is deleted before them.
   */
  replaceWith: string[];
  /**
   * `aliases`, as the `type::name` each one names. They only matter when one names a resource in
   * the old state (step_generator.go `generateAliases` / `getOldResource` then carry that state over
   * to the new URN), which the harness does not model: engine.ts refuses a match. @pulumi/docker's
   * Image declares a type alias for its old token (docker:image:Image), which matches nothing here.
   */
  aliases: string[];
}

/**
 * The pulumi-docker major version the harness models (v5.x, bridging
 * kreuzwerker/terraform-provider-docker v4.5.0). The SDK sends the package's own version with each
 * resource (@pulumi/docker utilities.ts `resourceOptsDefaults`); another major is another provider.
 */
const MODELLED_DOCKER_MAJOR = "5";

/**
 * Reads the modelled options off a register request and throws, naming the resource and the
 * option, on any other option set to something the harness does not model. Every getter of
 * RegisterResourceRequest is accounted for: type, name, parent, custom, object (the inputs),
 * dependencies, propertyDependencies and deleteBeforeReplace(+Defined) are read by
 * pulumiProgram.ts; the options below here; acceptSecrets, acceptResources, supportsPartialValues,
 * aliasSpecs, supportsResultReporting and acceptsByteString are the SDK's capabilities, not options;
 * sourcePosition, stackTrace and parentStackTraceHandle only locate the resource in the program.
 */
export function readResourceOptions(req: RegisterResourceRequest): ModelledOptions {
  const resource = `${req.getType()} ${req.getName()}`;
  const refuse = (option: string, value: unknown) => {
    throw new Error(
      `harness: resource option ${option} (${JSON.stringify(value)}) on ${resource} is not ` +
        `modelled; model it in test/support/harness (engine.ts, resourceOptions.ts) citing ` +
        `pulumi/pulumi's step generator before the program may use it`,
    );
  };

  const list = (values: unknown[]) => values.length > 0;
  const map = (values: { getLength(): number }) => values.getLength() > 0;

  // Options the engine acts on that the harness leaves out. Each check is the option's default as
  // runtime/resource.js sends it when the program leaves it unset.
  if (req.getProtect() === true) refuse("protect", true);
  if (req.getRetainondelete() === true) refuse("retainOnDelete", true);
  if (req.getDeletedwith() !== "") refuse("deletedWith", req.getDeletedwith());
  if (list(req.getReplaceonchangesList())) {
    // step_generator.go applyReplaceOnChanges, in continueStepsFromDiff and in
    // calculateDependentReplacements: not modelled.
    refuse("replaceOnChanges", req.getReplaceonchangesList());
  }
  // additionalSecretOutputs: the engine wraps those outputs as secrets once the step ran
  // (pkg/resource/deploy/step_executor.go, after the step: `newState.Outputs[k] =
  // resource.MakeSecret(v)`; "id" can't be made secret). That only changes how the state is
  // stored and shown; the harness keeps plain values and shows none, so nothing it models changes.
  // @pulumi/docker's Secret class sets it itself (secret.js: additionalSecretOutputs ["data"]).
  if (req.getAdditionalsecretoutputsList().includes("id")) {
    refuse("additionalSecretOutputs", req.getAdditionalsecretoutputsList());
  }
  if (list(req.getHidediffsList())) refuse("hideDiffs", req.getHidediffsList());
  if (req.getImportid() !== "") refuse("import", req.getImportid());
  const timeouts = req.getCustomtimeouts();
  if (timeouts) {
    const set = Object.entries(timeouts.toObject()).filter(([, value]) => value !== "");
    if (set.length > 0) refuse("customTimeouts", Object.fromEntries(set));
  }
  if (req.getProvider() !== "") refuse("provider", req.getProvider());
  if (map(req.getProvidersMap())) refuse("providers", req.getProvidersMap().toObject());
  if (req.getPlugindownloadurl() !== "") refuse("pluginDownloadURL", req.getPlugindownloadurl());
  if (map(req.getPluginchecksumsMap())) refuse("pluginChecksums", "…");
  if (req.getPackageref() !== "")
    refuse("packageRef (a parameterized package)", req.getPackageref());
  if (req.getRemote()) refuse("remote (a multi-language component)", true);
  if (list(req.getTransformsList())) refuse("transforms", req.getTransformsList().length);
  if (list(req.getStateMigrationsList())) refuse("stateMigrations", req.getStateMigrationsList());
  const hooks = req.getHooks();
  if (hooks) refuse("hooks", hooks.toObject());
  if (map(req.getEnvvarmappingsMap())) refuse("envVarMappings", req.getEnvvarmappingsMap());
  if (req.getSnippetid() !== "") refuse("snippet", req.getSnippetid());

  const version: string = req.getVersion();
  if (version !== "" && version.split(".")[0] !== MODELLED_DOCKER_MAJOR) {
    refuse(`version (the harness models pulumi-docker v${MODELLED_DOCKER_MAJOR}.x)`, version);
  }

  return {
    ignoreChanges: readIgnoreChanges(req.getIgnorechangesList(), resource),
    replacementTrigger: readReplacementTrigger(req.getReplacementTrigger()?.toJavaScript()),
    // runtime/resource.js sends the URNs; unset is an empty list.
    replaceWith: [...req.getReplaceWithList()],
    aliases: aliasTargets(req),
  };
}

function aliasTargets(req: RegisterResourceRequest): string[] {
  const fromUrn = (urn: string) => {
    const parts = urn.split("::");
    return `${parts.at(-2)?.split("$").at(-1) ?? ""}::${parts.at(-1) ?? ""}`;
  };
  return [
    ...req.getAliasurnsList().map(fromUrn),
    ...req.getAliasesList().map((alias) => {
      if (alias.hasUrn()) return fromUrn(alias.getUrn());
      const spec = alias.getSpec();
      return `${spec?.getType() || req.getType()}::${spec?.getName() || req.getName()}`;
    }),
  ];
}

/**
 * `ignoreChanges` entries are property paths (sdk/go/common/resource/property_path.go). The
 * harness applies them per top-level input; a nested path (`envs[0]`, `ports[0].external`) is
 * refused rather than ignored too much or too little.
 */
function readIgnoreChanges(paths: string[], resource: string): string[] {
  for (const path of paths) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(path)) {
      throw new Error(
        `harness: ignoreChanges path "${path}" on ${resource} is not modelled: the harness ` +
          `applies ignoreChanges to whole top-level inputs only`,
      );
    }
  }
  return [...paths];
}

/**
 * The trigger as the SDK serialized it (runtime/resource.js: `serializeProperty` with
 * `keepOutputValues` when the Output is unknown or in preview), unwrapped as the engine does before
 * comparing (step_generator.go `unwrapSecretsAndOutputs`, since v3.226.0 #22119): secrets and
 * output values are unwrapped, an unknown output or the unknown sentinel becomes UNKNOWN.
 */
export function readReplacementTrigger(serialized: unknown): ReplacementTrigger | undefined {
  if (serialized === undefined || serialized === null) return undefined;
  let secret = false;
  const { specialSigKey, specialSecretSig, specialOutputValueSig, unknownValue } = pulumi.runtime;
  const walk = (value: unknown): unknown => {
    if (value === unknownValue) return UNKNOWN;
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== "object" || value === null) return value;
    const object = value as Record<string, unknown>;
    const signature = object[specialSigKey];
    if (signature === specialSecretSig) {
      secret = true;
      return walk(object.value);
    }
    if (signature === specialOutputValueSig) {
      if (object.secret === true) secret = true;
      return "value" in object ? walk(object.value) : UNKNOWN;
    }
    if (signature !== undefined) {
      throw new Error(
        `harness: a replacementTrigger holding ${JSON.stringify(signature)} is not modelled`,
      );
    }
    return Object.fromEntries(Object.entries(object).map(([key, child]) => [key, walk(child)]));
  };
  const value = walk(serialized);
  return value === null ? undefined : { value, secret };
}
