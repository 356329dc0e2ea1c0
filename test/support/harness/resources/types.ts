// What every resource type module of the harness provides (resources/<type>.ts), the way
// kreuzwerker/terraform-provider-docker keeps one internal/provider/resource_docker_<type>.go per
// resource: its schema (which inputs the harness implements, how a change of each is applied) and
// its provider behaviour (create/update/delete on a real Docker engine, and outputs for the
// in-memory provider of the unit tests). The engine (engine.ts) and the diff (updateRules.ts)
// know nothing of any type: they look the module up by type token (resources/index.ts).
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import type { Block } from "../terraformSchema";
import type { InputDiff } from "../updateRules";
import type { ContextResolver } from "./image";
import type { PropertyMap } from "../propertyMap";

/** The input properties the harness implements: `true` for a leaf, a nested Shape for objects. */
export type Shape = { [property: string]: true | Shape };

/** What the provider does when a property changes. */
export type ChangeRule =
  /** Terraform `ForceNew`: the resource is replaced. */
  | "replace"
  /** Applied in place with `docker container update` (resourceDockerContainerUpdate). */
  | "container-update"
  /** must_run false → true starts the container (resourceDockerContainerUpdate's first branch). */
  | "must-run"
  /** Not ForceNew and ignored by the provider's Update: only the state changes. */
  | "state-only"
  /** Image: `dockerNativeProvider.Update` builds the image again (provider/provider.go). */
  | "rebuild"
  /**
   * Service: resourceDockerServiceUpdate sends the whole new spec in one ServiceUpdate; Swarm rolls
   * the tasks when the task template changed (terraform-provider-docker
   * resource_docker_service_funcs.go).
   */
  | "service-update";

/** The schema facts the provider's Diff answers from. */
export interface TypeRules {
  /** Rule per top-level input property (the bridge reports replace keys at the top level). */
  properties: Record<string, ChangeRule>;
  /**
   * `Optional` + `Computed` attributes: leaving one out keeps the value in the state, so the
   * plan shows no change (terraform-plugin-sdk helper/schema/schema.go `schemaMap.diffString` /
   * `diffSet`: a removed value of a Computed attribute yields no diff).
   */
  computed: ReadonlySet<string>;
  /** `TypeSet` attributes: their order is not part of the value. */
  sets: ReadonlySet<string>;
  /**
   * Attributes with a Terraform `DiffSuppressFunc`: given the prior and the new value, true when
   * the provider reports no change.
   */
  suppressDiff?: Record<string, (prior: unknown, next: unknown) => boolean>;
  /**
   * What the provider's Diff answers for DeleteBeforeReplace, given the new inputs, when the
   * program leaves the option unset (the bridge returns it with every replacement:
   * pkg/tfbridge/provider.go `Diff`).
   */
  deleteBeforeReplace(news: Record<string, unknown>): boolean;
  /**
   * What the provider's Diff compares the new inputs with: "outputs" for bridged resources (the
   * bridge builds Terraform's prior state from the old outputs, i.e. what Read returned:
   * pulumi-terraform-bridge pkg/tfbridge/provider.go `Diff`, `makeTerraformStateWithOpts` over
   * `req.GetOlds()`), "inputs" for a provider that diffs its old inputs.
   */
  diffBasis: "outputs" | "inputs";
  /**
   * The resource's Terraform schema, for a bridged resource whose attributes nest: the diff is
   * then the SDK's own over every attribute (terraformSchema.ts `diffResource`), and `computed`,
   * `sets` and `suppressDiff` above are not used. Without it, the diff works on the top-level
   * properties with the rules above.
   */
  schema?: Block;
}

/** Engine objects the Docker provider made, so destroy can find what the state lost. */
export type Created = {
  kind: "container" | "network" | "service" | "secret" | "volume";
  id: string;
  name: string;
};

/**
 * The provider's fixed waits, which a test may shorten to keep a suite short. Defaults are the
 * provider's own; every shortened wait is a deviation the test states.
 */
export interface ProviderWaits {
  /** resourceDockerNetworkDelete's retry on "active endpoints": 30 s in v4.5.0. */
  networkRemoveSeconds: number;
  /** A cap on a container's wait_timeout (the provider waits the whole wait_timeout). */
  containerWaitCapSeconds: number | undefined;
}

export const PROVIDER_WAITS: ProviderWaits = {
  networkRemoveSeconds: 30,
  containerWaitCapSeconds: undefined,
};

/** What a type's Docker behaviour may use: the engine, the harness's labels, bookkeeping. */
export interface DockerContext {
  docker: Docker;
  /** Labels the harness puts on every object it makes (its stack, for the leftovers check). */
  labels: Record<string, string>;
  /** Times a phase ("build", "deploy", "teardown") for the e2e timing report. */
  timed<T>(phase: string, work: () => Promise<T>): Promise<T>;
  /** Where each build context is read from (tests point one at an edited copy). */
  resolveContext: ContextResolver;
  /** Waits the provider makes shorter in tests (each use says so where it applies it). */
  waits: ProviderWaits;
  /** Records an engine object this provider made (and forgets it once deleted). */
  track(object: Created): void;
  forget(id: string): void;
}

/** What a type's in-memory behaviour may use (the unit tests' pretend engine). */
export interface MemoryContext {
  /** The next free host address on the pretend network, e.g. 10.99.0.10. */
  nextAddress(): string;
  resolveContext: ContextResolver;
}

/**
 * A create or update that failed after the object came to exist: the SDK returns the state with
 * the error, the bridge returns both (pulumi-terraform-bridge pkg/tfbridge/provider.go `Create`
 * and `Update` → `initializationError`), and the engine keeps the resource in the state with
 * these outputs and InitErrors (pulumi/pulumi pkg/resource/deploy/step.go `CreateStep.Apply`,
 * `UpdateStep.Apply`: StatusPartialFailure).
 */
export class InitializationError extends Error {
  constructor(
    readonly id: string,
    readonly outputs: PropertyMap,
    readonly reasons: string[],
  ) {
    super(reasons.join("\n"));
  }
}

export interface CreateResult {
  id: string;
  outputs: PropertyMap;
}

/** One resource type: its schema and its provider behaviour. */
export interface ResourceModule {
  /** The type token, e.g. "docker:index/container:Container". */
  type: string;
  /** The inputs the harness implements; anything else makes it throw (inputs.ts). */
  inputs: Shape;
  rules: TypeRules;
  /** The provider's Check: the inputs the engine stores and diffs (identity unless given). */
  check?(inputs: PropertyMap, resolveContext: ContextResolver): PropertyMap;
  docker: {
    /**
     * The provider's Read of a deployed object (`pulumi refresh`, `pulumi up --refresh`): its
     * outputs as the provider reports them now, or undefined when the object is gone (the
     * provider then drops it from the state).
     */
    read(context: DockerContext, state: ResourceState): Promise<PropertyMap | undefined>;
    create(context: DockerContext, inputs: PropertyMap): Promise<CreateResult>;
    update(
      context: DockerContext,
      old: ResourceState,
      inputs: PropertyMap,
      diff: InputDiff,
    ): Promise<PropertyMap>;
    delete(context: DockerContext, state: ResourceState): Promise<void>;
  };
  memory: {
    /** Docker refuses a second object of this type with the same `name` (an image tag moves). */
    uniqueName: boolean;
    /** The outputs the Docker behaviour would report, deterministically, without an engine. */
    create(context: MemoryContext, inputs: PropertyMap, id: string): PropertyMap;
    update(old: ResourceState, inputs: PropertyMap, diff: InputDiff): PropertyMap;
    /**
     * Why the engine refuses to delete the object while others exist (an error message), or
     * undefined. `live` is every object on the pretend engine, with its outputs.
     */
    refusesDelete?(
      state: ResourceState,
      live: readonly { type: string; name: string; outputs: PropertyMap }[],
    ): string | undefined;
    /**
     * Create/Update with `preview: true` (`pulumi preview`). Unset: the bridge's planned state, the
     * inputs (over the old outputs for an update), every Computed attribute not known yet left
     * out, i.e. unknown (MemoryProvider.preview).
     */
    preview?(
      context: MemoryContext,
      operation: "create" | "update",
      inputs: PropertyMap,
    ): PropertyMap;
  };
}
