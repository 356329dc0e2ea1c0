// Runs the real index.ts under Pulumi's mock runtime, the way Pulumi's testing guide does it:
// set mocks, *then* import the program. The caller's `newResource` decides what each resource
// returns: canned outputs for unit tests, real Docker objects for the e2e harness.
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { modelRequirePulumiVersion } from "./harness/engineVersion";
import { readResourceOptions, type ReplacementTrigger } from "./harness/resourceOptions";
import type { PropertyMap } from "./harness/propertyMap";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";

export const PROJECT = "http-infra";

export interface RecordedResource {
  type: string;
  name: string;
  custom: boolean;
  /** Inputs with secrets unwrapped to their plain values. */
  inputs: PropertyMap;
  /** Inputs as the mock monitor receives them: secrets keep Pulumi's secret wrapper here. */
  wireInputs: PropertyMap;
  deleteBeforeReplace: boolean;
  /** URN of the parent resource, or "" for top-level resources. */
  parent: string;
}

/**
 * What the engine learns from a resource's register request beyond its inputs: the URN, the
 * options, and the dependency edges it stores in the snapshot (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go reads `Dependencies` and `PropertyDependencies` off the
 * goal state; calculateDependentReplacements walks the property edges only).
 */
export interface Registration {
  urn: string;
  parent: string;
  /**
   * The `deleteBeforeReplace` option, or undefined when the program left it unset (then the
   * provider's Diff decides: step_generator.go continueStepsFromDiff, `goal.DeleteBeforeReplace`).
   */
  deleteBeforeReplace: boolean | undefined;
  /** URNs of every resource this one depends on (dependsOn plus every property's dependencies). */
  dependencies: string[];
  /** Per input property, the URNs of the resources its value came from. */
  propertyDependencies: Record<string, string[]>;
  /** `ignoreChanges` (top-level inputs); unset means none. */
  ignoreChanges?: string[];
  /** `replacementTrigger`; unset or null means no trigger. */
  replacementTrigger?: ReplacementTrigger;
  /** `replaceWith`, as URNs; unset means none. */
  replaceWith?: string[];
  /** `aliases`, each as the `type::name` it names (harness/resourceOptions.ts). */
  aliases?: string[];
}

export interface RunProgramOptions {
  stack?: string;
  /** Plain config values by key (without the project prefix). */
  config?: Record<string, string | number>;
  /** Secret config values by key. */
  secrets?: Record<string, string>;
  /** Run as `pulumi preview` does: outputs the mocks leave out are unknown. */
  preview?: boolean;
  /**
   * The program's entry module, absolute; the project's index.ts by default. The update bench
   * points it at a patched copy to measure a counterfactual (test/support/harness/programVariant.ts).
   */
  program?: string;
  /**
   * The Pulumi CLI version the modelled engine reports to `pulumi.requirePulumiVersion`
   * (harness/engineVersion.ts); the version of the pulumi/pulumi source the harness follows by
   * default.
   */
  engineVersion?: string;
  /** `registration` is what the register request carried besides the inputs. */
  newResource(
    args: pulumi.runtime.MockResourceArgs,
    registration: Registration,
  ): Promise<pulumi.runtime.MockResourceResult>;
}

export interface ProgramRun {
  /** The program's stack outputs, resolved (unknown outputs in preview are left undefined). */
  outputs: Record<string, unknown>;
  resources: RecordedResource[];
}

// The secret marker Pulumi puts in serialized property values.
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

export function isWireSecret(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" && value !== null && Object.values(value).includes(SECRET_SIGNATURE)
  );
}

/** A deep copy of mock inputs with every secret wrapper replaced by its plain value. */
export function unwrapSecrets(value: unknown): unknown {
  if (isWireSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/**
 * A resource's recorded inputs, typed as its args declare them (e.g. `docker.ServiceArgs`): the
 * inputs are those args, resolved. Unchecked: name the args of the resource's own type.
 */
export function inputsOf<Args extends object>(resource: RecordedResource): pulumi.Unwrap<Args> {
  return resource.inputs as pulumi.Unwrap<Args>;
}

/** An Output's value as a promise; resolves undefined when the value is unknown (preview). */
export function valueOf<T>(output: pulumi.Input<T> | undefined): Promise<T | undefined> {
  if (!pulumi.Output.isInstance(output)) return Promise.resolve(output as T | undefined);
  // `isKnown` is internal to the SDK, but it is the only way to tell "unknown in preview" from
  // "not resolved yet" without hanging on an apply that never runs.
  const isKnown = (output as unknown as { isKnown: Promise<boolean> }).isKnown;
  return new Promise((resolve, reject) => {
    isKnown.then((known) => {
      if (!known) resolve(undefined);
      else output.apply((value) => resolve(value));
    }, reject);
  });
}

/**
 * The mock runtime's monitor as this module uses it (@pulumi/pulumi runtime/mocks.ts MockMonitor,
 * which types the request `any`; `newUrn` is private there).
 */
interface MockMonitor {
  registerResource(
    req: RegisterResourceRequest,
    callback: (error: unknown, response: unknown) => void,
  ): Promise<void>;
  newUrn(parent: string, type: string, name: string): string;
}

export async function runProgram(options: RunProgramOptions): Promise<ProgramRun> {
  const stack = options.stack ?? "unit";
  const resources: RecordedResource[] = [];
  const registered = new Map<string, Registration>();

  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const request = registered.get(`${args.type}::${args.name}`);
        if (!request) throw new Error(`no register request seen for ${args.type} ${args.name}`);
        const inputs = unwrapSecrets(args.inputs) as PropertyMap;
        resources.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs,
          wireInputs: args.inputs as PropertyMap,
          deleteBeforeReplace: request.deleteBeforeReplace ?? false,
          parent: request.parent,
        });
        return options.newResource({ ...args, inputs }, request);
      },
      call: (args) => {
        throw new Error(`unexpected call to ${args.token}: the program should make none`);
      },
    },
    PROJECT,
    stack,
    options.preview ?? false,
  );

  // The mock API hands newResource the inputs only; resource options and dependency edges are read
  // off the register request itself (harness/resourceOptions.ts, which refuses the options the
  // harness does not model: the request then fails, as a resource the engine rejects does).
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    let options;
    try {
      options = readResourceOptions(req);
    } catch (error) {
      callback(error, undefined);
      return Promise.resolve();
    }
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
      propertyDependencies[key] = deps.getUrnsList();
    });
    registered.set(`${req.getType()}::${req.getName()}`, {
      ...options,
      // The mock monitor's own URN scheme (MockMonitor.newUrn): parent type $ type :: name.
      urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
      deleteBeforeReplace: req.getDeletebeforereplacedefined()
        ? req.getDeletebeforereplace()
        : undefined,
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
    });
    return register(req, callback);
  };

  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...options.config, ...options.secrets })) {
    config[`${PROJECT}:${key}`] = String(value);
  }
  pulumi.runtime.setAllConfig(
    config,
    Object.keys(options.secrets ?? {}).map((key) => `${PROJECT}:${key}`),
  );
  // The mock runtime has no engine to ask; the harness answers as the engine it models.
  const restoreEngineVersion = modelRequirePulumiVersion(options.engineVersion);

  // A failed resource rejects every output built on it, and nothing awaits most of them: the
  // Pulumi language host would report the program as failed once. Do the same here: collect those
  // rejections while the program runs and throw the first, instead of flooding the test runner.
  const rejections: unknown[] = [];
  const runnerHandlers = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  // The language host fails the program at the first unhandled rejection (@pulumi/pulumi
  // cmd/run/run.ts `uncaughtHandler`), whatever outputs are still pending: an output whose resource
  // failed after its registration was prepared never settles, and waiting for it would hang.
  let failProgram: (reason: unknown) => void = () => undefined;
  const programFailed = new Promise<never>((_, reject) => (failProgram = reject));
  programFailed.catch(() => undefined);
  const collect = (reason: unknown) => {
    rejections.push(reason);
    failProgram(reason);
  };
  process.on("unhandledRejection", collect);
  try {
    // A fresh module graph each run, so index.ts runs again with this run's config and mocks.
    vi.resetModules();
    const program: Record<string, unknown> = options.program
      ? ((await import(/* @vite-ignore */ options.program)) as Record<string, unknown>)
      : await import("../../index");

    const outputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(program)) {
      outputs[name] = await Promise.race([valueOf(value), programFailed]);
    }
    // Outputs resolve once their resources are registered; wait for any registration still queued.
    await pulumi.runtime.disconnect();
    if (rejections.length > 0) throw rejections[0];
    return { outputs, resources };
  } catch (error) {
    // An output failed early (e.g. the subnet check): the registrations built on it are still
    // queued and will reject too. Let them settle into `collect` before the runner's handlers
    // return, as the language host waits for outstanding work before it reports the failure.
    await pulumi.runtime.disconnect().catch(() => undefined);
    throw error;
  } finally {
    // Let rejections already queued surface into `collect` before the runner's handlers return.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off("unhandledRejection", collect);
    for (const handler of runnerHandlers) process.on("unhandledRejection", handler);
    restoreEngineVersion();
  }
}
