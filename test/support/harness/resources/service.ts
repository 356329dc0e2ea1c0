// docker.Service: pulumi-docker bridges kreuzwerker/terraform-provider-docker's `docker_service`
// (v4.5.0: internal/provider/resource_docker_service.go for the schema,
// resource_docker_service_funcs.go for create/read/update/delete and the convergence wait,
// resource_docker_service_structures.go for the Engine API spec (`create*`) and its read-back
// (`flatten*`)). The real work goes through dockerode's service API against a swarm manager.
//
// What the module returns as outputs is what the provider's Read writes into the state: the
// ServiceInspect of the real service, flattened as the provider flattens it, over the planned
// values of the attributes Read does not touch. The next diff compares the program's inputs with
// that, so a field the provider reads back differently (a network attachment read back as `id`, a
// restart delay sent as 0) shows as a change here as it does for a user.
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import {
  planned,
  type Block,
  type CollectionAttribute,
  type PrimitiveAttribute,
} from "../terraformSchema";
import {
  durationNs,
  goDuration,
  ignoreMissing,
  inspectService,
  listNodes,
  type LabelInput,
} from "./engineApi";
import {
  CONTAINER_SPEC_HARDENING_INPUTS,
  containerSpecHardeningSchema,
  createContainerSpecHardening,
  createLogDriver,
  flattenContainerSpecHardening,
  flattenTaskLogDriver,
  TASK_SPEC_HARDENING_INPUTS,
  taskSpecHardeningSchema,
  type ContainerSpecHardening,
  type TaskSpecHardening,
} from "./serviceHardening";
import { waitForState } from "./stateChange";
import { InitializationError, type DockerContext, type ResourceModule } from "./types";

export const SERVICE = "docker:index/service:Service";

type UpdateConfigInput = {
  parallelism?: number;
  delay?: string;
  failureAction?: string;
  monitor?: string;
  maxFailureRatio?: string;
  order?: string;
};

export interface ServiceInputs {
  name: string;
  labels?: LabelInput;
  taskSpec: TaskSpecHardening & {
    containerSpec: ContainerSpecHardening & {
      image: string;
      /** container_spec.command: replaces the image's entrypoint (there is no `entrypoint`). */
      commands?: string[];
      hostname?: string;
      env?: Record<string, string>;
      healthcheck?: {
        tests?: string[];
        interval?: string;
        timeout?: string;
        startPeriod?: string;
        retries?: number;
      };
      labels?: LabelInput;
      stopGracePeriod?: string;
      secrets?: {
        secretId: string;
        secretName?: string;
        fileName: string;
        fileUid?: string;
        fileGid?: string;
        fileMode?: number;
      }[];
    };
    networksAdvanceds?: { name?: string; id?: string; aliases?: string[] }[];
    placement?: { constraints?: string[] };
    restartPolicy?: { condition?: string; delay?: string; maxAttempts?: number; window?: string };
  };
  mode?: { replicated?: { replicas?: number }; global?: boolean };
  endpointSpec?: {
    mode?: string;
    ports?: {
      name?: string;
      protocol?: string;
      targetPort: number;
      publishedPort?: number;
      publishMode?: string;
    }[];
  };
  updateConfig?: UpdateConfigInput;
  rollbackConfig?: UpdateConfigInput;
  convergeConfig?: { delay?: string; timeout?: string };
}

// ---------------------------------------------------------------------------------------------
// The schema (resource_docker_service.go `resourceDockerService`), for the attributes the harness
// models: those the program may set, and those Read writes for every service. Read throws on any
// other attribute it would write (flattenService).

const string = (tf: string, flags: Partial<PrimitiveAttribute> = {}): PrimitiveAttribute => ({
  tf,
  type: "string",
  optional: true,
  ...flags,
});
const int = (tf: string, flags: Partial<PrimitiveAttribute> = {}): PrimitiveAttribute => ({
  tf,
  type: "int",
  optional: true,
  ...flags,
});
const block = (
  tf: string,
  elem: Block,
  flags: Partial<CollectionAttribute> = {},
): CollectionAttribute => ({ tf, type: "list", maxItems: 1, elem, optional: true, ...flags });
const setOf = (
  tf: string,
  elem: Block | "string",
  flags: Partial<CollectionAttribute> = {},
): CollectionAttribute => ({ tf, type: "set", elem, optional: true, ...flags });

/** helpers.go newLabelSchema: `labelSchema` (ForceNew) and `labelSchemaUpdatable`. */
const labelBlock = (forceNew: boolean): Block => ({
  label: { tf: "label", type: "string", required: true, ...(forceNew && { forceNew: true }) },
  value: { tf: "value", type: "string", required: true, ...(forceNew && { forceNew: true }) },
});

/** validators.go suppressEquivalentFloatRatio: "0" and "0.0" are the same ratio. */
const sameRatio = (old: string, next: string) =>
  old !== "" && next !== "" && !Number.isNaN(Number(old)) && Number(old) === Number(next);

const updateOrRollbackConfig: Block = {
  parallelism: int("parallelism", { default: 1 }),
  delay: string("delay", { default: "0s" }),
  failureAction: string("failure_action", { default: "pause" }),
  monitor: string("monitor", { default: "5s" }),
  maxFailureRatio: string("max_failure_ratio", { default: "0.0", diffSuppress: sameRatio }),
  order: string("order", { default: "stop-first" }),
};

export const serviceSchema: Block = {
  name: string("name", { optional: undefined, required: true, forceNew: true }),
  labels: setOf("labels", labelBlock(false), { computed: true }),
  taskSpec: block(
    "task_spec",
    {
      containerSpec: block(
        "container_spec",
        {
          image: string("image", { optional: undefined, required: true }),
          labels: setOf("labels", labelBlock(true)),
          commands: { tf: "command", type: "list", elem: "string", optional: true },
          hostname: string("hostname"),
          env: { tf: "env", type: "map", optional: true },
          stopGracePeriod: string("stop_grace_period", { computed: true }),
          healthcheck: block(
            "healthcheck",
            {
              tests: { tf: "test", type: "list", elem: "string", optional: true },
              interval: string("interval", { default: "0s" }),
              timeout: string("timeout", { default: "0s" }),
              startPeriod: string("start_period", { default: "0s" }),
              retries: int("retries", { default: 0 }),
            },
            { computed: true },
          ),
          dnsConfig: block(
            "dns_config",
            {
              nameservers: { tf: "nameservers", type: "list", elem: "string", required: true },
              search: { tf: "search", type: "list", elem: "string", optional: true },
              options: { tf: "options", type: "list", elem: "string", optional: true },
            },
            { computed: true },
          ),
          // The proxy's secret files (the password; the TLS chain and key): a TypeSet under
          // container_spec, neither ForceNew, so a new secret (new content, new name) updates the
          // service in place and Swarm rolls its tasks. createContainerSpec sends each element of
          // the set with every field (file_uid/file_gid "0", file_mode 0o444 by default);
          // flattenServiceSecrets reads them back, secret_name only when Swarm kept one.
          secrets: setOf("secrets", {
            secretId: string("secret_id", { optional: undefined, required: true }),
            secretName: string("secret_name"),
            fileName: string("file_name", { optional: undefined, required: true }),
            fileUid: string("file_uid", { default: "0" }),
            fileGid: string("file_gid", { default: "0" }),
            fileMode: int("file_mode", { default: 0o444 }),
          }),
          isolation: string("isolation", { default: "default" }),
          init: { tf: "init", type: "bool", optional: true, computed: true },
          ...containerSpecHardeningSchema,
        },
        { optional: undefined, required: true },
      ),
      resources: block(
        "resources",
        {
          limits: block("limits", {
            nanoCpus: int("nano_cpus"),
            memoryBytes: int("memory_bytes"),
          }),
          reservation: block("reservation", {
            nanoCpus: int("nano_cpus"),
            memoryBytes: int("memory_bytes"),
          }),
        },
        { computed: true },
      ),
      restartPolicy: block(
        "restart_policy",
        {
          condition: string("condition"),
          delay: string("delay"),
          maxAttempts: int("max_attempts"),
          window: string("window"),
        },
        { computed: true },
      ),
      placement: block(
        "placement",
        {
          constraints: setOf("constraints", "string"),
          maxReplicas: int("max_replicas"),
          platforms: setOf("platforms", {
            architecture: string("architecture", { optional: undefined, required: true }),
            os: string("os", { optional: undefined, required: true }),
          }),
        },
        { computed: true },
      ),
      forceUpdate: int("force_update", { computed: true }),
      runtime: string("runtime", { computed: true }),
      networksAdvanceds: setOf("networks_advanced", {
        name: string("name", { forceNew: true }),
        id: string("id", { forceNew: true }),
        aliases: setOf("aliases", "string", { forceNew: true }),
        driverOpts: setOf("driver_opts", "string", { forceNew: true }),
      }),
      ...taskSpecHardeningSchema,
    },
    { optional: undefined, required: true },
  ),
  // ForceNew on the list: the SDK gives it to the count only (diffList's countSchema), not to
  // replicas or global below it.
  mode: block(
    "mode",
    {
      replicated: block(
        "replicated",
        { replicas: int("replicas", { default: 1 }) },
        { computed: true },
      ),
      global: { tf: "global", type: "bool", optional: true, default: false },
    },
    { computed: true, forceNew: true },
  ),
  updateConfig: block("update_config", updateOrRollbackConfig),
  rollbackConfig: block("rollback_config", updateOrRollbackConfig),
  endpointSpec: block(
    "endpoint_spec",
    {
      mode: string("mode", { computed: true }),
      // A TypeList, not ForceNew: the proxy's HTTPS port is a second element beside HTTP's, added
      // or removed in place (portSetToServicePorts; flattenServicePorts reads each back).
      ports: {
        tf: "ports",
        type: "list",
        optional: true,
        elem: {
          name: string("name"),
          protocol: string("protocol", { default: "tcp" }),
          targetPort: int("target_port", { optional: undefined, required: true }),
          publishedPort: int("published_port", { computed: true }),
          publishMode: string("publish_mode", { default: "ingress" }),
        },
      },
    },
    { computed: true },
  ),
  convergeConfig: block("converge_config", {
    delay: string("delay", { default: "7s" }),
    timeout: string("timeout", { default: "3m" }),
  }),
};

// ---------------------------------------------------------------------------------------------
// The Engine API spec: createServiceSpec over the planned values. The SDK's reader gives every
// attribute of a block, a missing one as its type's zero value (helper/schema/field_reader.go
// `readObjectField`: `result[field] = rawResult.ValueOrZero(s)`), and the create* functions test
// each key with `if v, ok := raw["key"]; ok`, which is always true: so an unset restart delay is
// sent as 0, an unset stop_grace_period as 0, an empty healthcheck and DNS config as `{}`.

/** The planned state: the program's inputs with the schema's defaults, shaped as a Service's args. */
type Planned = pulumi.Unwrap<docker.ServiceArgs>;
type PlannedTask = Planned["taskSpec"];
export const planService = (prior: unknown, inputs: ServiceInputs) =>
  planned(serviceSchema, prior, inputs) as Planned;
const text = (value: unknown) => (typeof value === "string" ? value : "");
const number = (value: unknown) => (typeof value === "number" ? value : 0);
/** time.ParseDuration, its error ignored as the provider does (`parsed, _ :=`): "" is 0. */
const parseDuration = (value: unknown) => (text(value) === "" ? 0 : (durationNs(text(value)) ?? 0));
const labelMapOf = (labels: unknown) =>
  Object.fromEntries(
    ((labels ?? []) as { label: string; value: string }[]).map((l) => [l.label, l.value]),
  );

/** createUpdateOrRollbackConfig: every field, from the planned block (defaults included). */
function updateOrRollbackSpec(config: Planned["updateConfig"]) {
  if (config === undefined) return undefined;
  return {
    Parallelism: number(config.parallelism),
    Delay: parseDuration(config.delay),
    FailureAction: text(config.failureAction),
    Monitor: parseDuration(config.monitor),
    MaxFailureRatio: Number(text(config.maxFailureRatio) || 0),
    Order: text(config.order),
  };
}

/**
 * The Docker client's `imageWithTagString` (docker/docker client/service_create.go, v28.5.2 as
 * the provider links it): a name without tag or digest gets `:latest`.
 */
function imageWithTag(image: string): string {
  if (image.includes("@")) return image;
  const lastSlash = image.lastIndexOf("/");
  return image.slice(lastSlash + 1).includes(":") ? image : `${image}:latest`;
}

/** createServiceSpec (resource_docker_service_structures.go), from the planned state. */
export function createServiceSpec(plannedState: Planned, extraLabels: Record<string, string>) {
  const task: Partial<PlannedTask> = plannedState.taskSpec ?? {};
  const container: Partial<PlannedTask["containerSpec"]> = task.containerSpec ?? {};
  const health = container.healthcheck;
  // Keyed `search` as in the schema above (@pulumi/docker names the property `searches`).
  const dns = container.dnsConfig as
    { nameservers?: string[]; search?: string[]; options?: string[] } | undefined;
  const resources = task.resources;
  const restart = task.restartPolicy;
  const placement: NonNullable<PlannedTask["placement"]> = task.placement ?? {};
  const endpoint = plannedState.endpointSpec;
  const mode = plannedState.mode;
  return {
    Name: plannedState.name,
    // createServiceLabels; the harness adds its own labels for its leftovers check.
    Labels: { ...labelMapOf(plannedState.labels), ...extraLabels },
    TaskTemplate: {
      // createContainerSpec
      ContainerSpec: {
        Image: imageWithTag(text(container.image)),
        Labels: labelMapOf(container.labels),
        // createContainerSpec: `containerSpec.Command = …` as given (omitempty when there is none).
        ...(container.commands?.length && { Command: container.commands }),
        Hostname: text(container.hostname),
        // mapTypeMapValsToStringSlice: KEY=value, in the order a Go map yields its keys, which
        // differs from call to call; the harness keeps the map's own order. (A reordered Env alone
        // makes Swarm restart the tasks on a ServiceUpdate: swarmkit IsTaskDirty compares specs.)
        Env: Object.entries(container.env ?? {}).map(([key, value]) => `${key}=${value}`),
        StopGracePeriod: parseDuration(container.stopGracePeriod),
        // `containerSpec.Healthcheck = &container.HealthConfig{}` whenever the key is there.
        Healthcheck: {
          ...(health?.tests?.length && { Test: health.tests }),
          ...(health && {
            Interval: parseDuration(health.interval),
            Timeout: parseDuration(health.timeout),
            StartPeriod: parseDuration(health.startPeriod),
            Retries: number(health.retries),
          }),
        },
        // `containerSpec.DNSConfig = &swarm.DNSConfig{}` whenever the key is there.
        DNSConfig: {
          ...(dns?.nameservers?.length && { Nameservers: dns.nameservers }),
          ...(dns?.search?.length && { Search: dns.search }),
          ...(dns?.options?.length && { Options: dns.options }),
        },
        // The set's elements in the program's order (the provider's Set.List() orders them by
        // hash; Swarm keeps whatever order it gets, and the read-back is a set again).
        Secrets: (container.secrets ?? []).map((secret) => ({
          SecretID: text(secret.secretId),
          SecretName: text(secret.secretName),
          File: {
            Name: text(secret.fileName),
            UID: text(secret.fileUid),
            GID: text(secret.fileGid),
            Mode: number(secret.fileMode),
          },
        })),
        Isolation: text(container.isolation),
        // supportsServiceContainerInit: the client's API version is >= 1.37 on this engine.
        Init: container.init === true,
        ...createContainerSpecHardening(container, text(plannedState.name)),
      },
      // createResources: `&swarm.ResourceRequirements{}` with whatever the block sets.
      Resources: {
        ...(resources?.limits && {
          Limits: {
            NanoCPUs: number(resources.limits.nanoCpus),
            MemoryBytes: number(resources.limits.memoryBytes),
          },
        }),
        ...(resources?.reservation && {
          Reservations: {
            NanoCPUs: number(resources.reservation.nanoCpus),
            MemoryBytes: number(resources.reservation.memoryBytes),
          },
        }),
      },
      // createRestartPolicy: an empty policy without the block; with it, every field, a missing
      // one as 0 (so Swarm restarts a failed task at once, not after its default 5 s).
      RestartPolicy: restart
        ? {
            Condition: text(restart.condition),
            Delay: parseDuration(restart.delay),
            MaxAttempts: number(restart.maxAttempts),
            Window: parseDuration(restart.window),
          }
        : {},
      // createPlacement
      Placement: {
        Constraints: placement.constraints ?? [],
        MaxReplicas: number(placement.maxReplicas),
        Platforms: (placement.platforms ?? []).map((p) => ({
          Architecture: text(p.architecture),
          OS: text(p.os),
        })),
      },
      ForceUpdate: number(task.forceUpdate),
      Runtime: text(task.runtime),
      // createServiceAdvancedNetworks: the id, else the (deprecated) name, is the target.
      Networks: (task.networksAdvanceds ?? []).map((network) => {
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- the provider still reads it
        const target = text(network.id) || text(network.name);
        if (!target) throw new Error("network 'name' or 'id' must be specified");
        return { Target: target, Aliases: network.aliases ?? [], DriverOpts: {} };
      }),
      LogDriver: createLogDriver(task),
    },
    // createServiceMode
    Mode: mode?.global
      ? { Global: {} }
      : mode?.replicated
        ? { Replicated: { Replicas: number(mode.replicated.replicas) } }
        : {},
    UpdateConfig: updateOrRollbackSpec(plannedState.updateConfig),
    RollbackConfig: updateOrRollbackSpec(plannedState.rollbackConfig),
    // createServiceEndpointSpec + portSetToServicePorts
    EndpointSpec: {
      Mode: text(endpoint?.mode),
      Ports: (endpoint?.ports ?? []).map((port) => ({
        Name: text(port.name),
        Protocol: text(port.protocol),
        TargetPort: number(port.targetPort),
        PublishedPort: number(port.publishedPort),
        PublishMode: text(port.publishMode),
      })),
    },
  };
}

export type ServiceSpec = ReturnType<typeof createServiceSpec>;

// ---------------------------------------------------------------------------------------------
// Read: resourceDockerServiceReadRefreshFunc and the flatteners, from a ServiceInspect.

/**
 * A ServiceInspect's container spec, as dockerode types it but for the health check, which the
 * Engine API spells `Healthcheck` (dockerode: `HealthCheck`).
 */
type InspectedContainerSpec = Omit<Docker.ContainerSpec, "HealthCheck"> & {
  Healthcheck?: Docker.HealthConfig;
};
type InspectedTaskSpec = Docker.TaskSpecBase & { ContainerSpec?: InspectedContainerSpec };
export type InspectedServiceSpec = Omit<Docker.ServiceSpec, "TaskTemplate"> & {
  TaskTemplate?: InspectedTaskSpec;
};

/** What the harness reads of a ServiceInspect (the Engine API's Service object). */
export interface InspectedService {
  ID: string;
  Spec: InspectedServiceSpec;
  Endpoint?: Docker.Endpoint;
}

/** shortDur: Go's Duration.String() with a trailing "m0s" / "h0m" trimmed. */
export function shortDur(nanoseconds: number): string {
  let s = goDuration(nanoseconds);
  if (s.endsWith("m0s")) s = s.slice(0, -2);
  if (s.endsWith("h0m")) s = s.slice(0, -2);
  return s;
}

const nonEmpty = (value: unknown) =>
  value !== undefined &&
  value !== null &&
  value !== "" &&
  !(Array.isArray(value) && value.length === 0) &&
  !(typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0);

/** Throws for an attribute the provider's Read would write and the harness does not model. */
function unmodelled(service: string, attribute: string, value: unknown): never {
  throw new Error(
    `harness: service ${service} reads back ${attribute} (${JSON.stringify(value)}), which ` +
      `the harness does not model; model it in test/support/harness/resources/service.ts`,
  );
}

/** mapToLabelSet, minus the labels the harness adds for its own bookkeeping. */
function labelSet(labels: Record<string, string> | undefined, own: Record<string, string>) {
  return Object.entries(labels ?? {})
    .filter(([label]) => !(label in own))
    .map(([label, value]) => ({ label, value }));
}

/** flattenContainerSpec: each attribute only when Docker reports it non-empty. */
function flattenContainerSpec(name: string, spec: InspectedContainerSpec) {
  const out: Record<string, unknown> = {};
  for (const [field, attribute] of [
    ["Args", "args"],
    ["Dir", "dir"],
    ["User", "user"],
    ["Groups", "groups"],
    ["Privileges", "privileges"],
    ["StopSignal", "stop_signal"],
    ["Hosts", "hosts"],
    ["Configs", "configs"],
    ["Sysctls", "sysctl"],
  ] as const) {
    if (nonEmpty(spec[field]))
      unmodelled(name, `task_spec.container_spec.${attribute}`, spec[field]);
  }
  if (nonEmpty(spec.Image)) out.image = spec.Image;
  if (nonEmpty(spec.Labels)) out.labels = labelSet(spec.Labels, {});
  if (nonEmpty(spec.Command)) out.commands = spec.Command;
  if (nonEmpty(spec.Hostname)) out.hostname = spec.Hostname;
  // mapStringSliceToMap: KEY=value (a value may hold "=").
  if (nonEmpty(spec.Env)) {
    out.env = Object.fromEntries(
      (spec.Env as string[])
        .filter((line) => line.length > 0)
        .map((line) => [line.split("=")[0], line.split("=").slice(1).join("=")]),
    );
  }
  if (spec.StopGracePeriod !== undefined && spec.StopGracePeriod !== null) {
    out.stopGracePeriod = shortDur(spec.StopGracePeriod);
  }
  // flattenServiceHealthcheck
  if (spec.Healthcheck) {
    out.healthcheck = {
      ...(nonEmpty(spec.Healthcheck.Test) && { tests: spec.Healthcheck.Test }),
      interval: shortDur(spec.Healthcheck.Interval ?? 0),
      timeout: shortDur(spec.Healthcheck.Timeout ?? 0),
      startPeriod: shortDur(spec.Healthcheck.StartPeriod ?? 0),
      retries: spec.Healthcheck.Retries ?? 0,
    };
  }
  // flattenServiceDNSConfig
  if (spec.DNSConfig) {
    out.dnsConfig = {
      ...(nonEmpty(spec.DNSConfig.Nameservers) && { nameservers: spec.DNSConfig.Nameservers }),
      ...(nonEmpty(spec.DNSConfig.Search) && { search: spec.DNSConfig.Search }),
      ...(nonEmpty(spec.DNSConfig.Options) && { options: spec.DNSConfig.Options }),
    };
  }
  // flattenServiceSecrets
  if (nonEmpty(spec.Secrets)) {
    out.secrets = spec.Secrets!.map((secret) => ({
      secretId: secret.SecretID,
      ...(nonEmpty(secret.SecretName) && { secretName: secret.SecretName }),
      ...(secret.File && {
        fileName: secret.File.Name,
        ...(nonEmpty(secret.File.UID) && { fileUid: secret.File.UID }),
        ...(nonEmpty(secret.File.GID) && { fileGid: secret.File.GID }),
        fileMode: secret.File.Mode,
      }),
    }));
  }
  if (nonEmpty(spec.Isolation)) out.isolation = spec.Isolation;
  // supportsServiceContainerInit
  if (spec.Init !== undefined && spec.Init !== null) out.init = spec.Init;
  // read_only, mounts, cap_add, cap_drop (serviceHardening.ts)
  Object.assign(
    out,
    flattenContainerSpecHardening(spec, (attribute, value) =>
      unmodelled(name, `task_spec.container_spec.${attribute}`, value),
    ),
  );
  return out;
}

/**
 * flattenTaskSpec, with flattenTaskResources, flattenTaskRestartPolicy, flattenTaskPlacement and
 * flattenTaskNetworksAdvanced.
 */
function flattenTaskSpec(name: string, task: InspectedTaskSpec) {
  const out: Record<string, unknown> = {};
  if (task.ContainerSpec) out.containerSpec = flattenContainerSpec(name, task.ContainerSpec);
  if (task.Resources) {
    const { Limits, Reservations } = task.Resources;
    // flattenResourceLimits reads nano_cpus and memory_bytes, not Pids ("TODO mavogel add pids"):
    // a pids limit set outside the provider would not show in the state.
    if (Limits?.Pids) unmodelled(name, "task_spec.resources.limits (Pids)", Limits);
    if (Reservations && (Reservations.NanoCPUs || Reservations.MemoryBytes)) {
      unmodelled(name, "task_spec.resources.reservation", Reservations);
    }
    out.resources = {
      ...(Limits && {
        limits: { nanoCpus: Limits.NanoCPUs ?? 0, memoryBytes: Limits.MemoryBytes ?? 0 },
      }),
      ...(Reservations && { reservation: { nanoCpus: 0, memoryBytes: 0 } }),
    };
  }
  if (task.RestartPolicy) {
    const policy = task.RestartPolicy;
    out.restartPolicy = {
      ...(nonEmpty(policy.Condition) && { condition: policy.Condition }),
      ...(policy.Delay !== undefined && policy.Delay !== null && { delay: shortDur(policy.Delay) }),
      ...(policy.MaxAttempts !== undefined &&
        policy.MaxAttempts !== null && { maxAttempts: policy.MaxAttempts }),
      ...(policy.Window !== undefined &&
        policy.Window !== null && { window: shortDur(policy.Window) }),
    };
  }
  if (task.Placement) {
    const placement = task.Placement;
    if (nonEmpty(placement.Preferences)) {
      unmodelled(name, "task_spec.placement.prefs", placement.Preferences);
    }
    out.placement = {
      ...(nonEmpty(placement.Constraints) && { constraints: placement.Constraints }),
      ...(nonEmpty(placement.Platforms) && {
        platforms: placement.Platforms!.map((p) => ({
          architecture: p.Architecture,
          os: p.OS,
        })),
      }),
      maxReplicas: placement.MaxReplicas ?? 0,
    };
  }
  out.forceUpdate = task.ForceUpdate ?? 0;
  if (nonEmpty(task.Runtime)) out.runtime = task.Runtime;
  if (nonEmpty(task.Networks)) {
    out.networksAdvanceds = task.Networks!.map((network) => {
      if (nonEmpty(network.DriverOpts)) {
        unmodelled(name, "task_spec.networks_advanced.driver_opts", network.DriverOpts);
      }
      // `m["id"] = v.Target`: the attachment reads back as `id`, never as `name`.
      return {
        id: network.Target,
        driverOpts: [],
        ...(nonEmpty(network.Aliases) && { aliases: network.Aliases }),
      };
    });
  }
  // flattenTaskLogDriver (serviceHardening.ts)
  if (task.LogDriver) out.logDriver = flattenTaskLogDriver(task.LogDriver);
  return out;
}

/** flattenServicePorts */
const flattenPorts = (ports: Docker.PortConfig[] | undefined) =>
  (ports ?? []).map((port) => ({
    name: port.Name ?? "",
    protocol: port.Protocol ?? "",
    targetPort: port.TargetPort ?? 0,
    publishedPort: port.PublishedPort ?? 0,
    publishMode: port.PublishMode ?? "",
  }));

/**
 * resourceDockerServiceReadRefreshFunc's d.Set calls, from a ServiceInspect: name, labels,
 * task_spec, mode, update_config, rollback_config, endpoint_spec (from the service's Endpoint once
 * Swarm has filled it, else from its spec). undefined while neither carries an endpoint mode
 * (the provider's "pending").
 */
export function flattenService(
  inspected: InspectedService,
  ownLabels: Record<string, string>,
): Record<string, unknown> | undefined {
  const { Spec: spec, Endpoint: endpoint } = inspected;
  const name = spec.Name as string;
  let endpointSpec: Record<string, unknown>;
  if (nonEmpty(endpoint?.Spec?.Mode)) {
    // flattenServiceEndpoint
    endpointSpec = { mode: endpoint!.Spec!.Mode, ports: flattenPorts(endpoint!.Ports) };
  } else if (nonEmpty(spec.EndpointSpec?.Mode)) {
    // flattenServiceEndpointSpec
    endpointSpec = { mode: spec.EndpointSpec!.Mode, ports: flattenPorts(spec.EndpointSpec!.Ports) };
  } else {
    return undefined;
  }
  // flattenServiceMode
  const mode: Docker.ServiceMode = spec.Mode ?? {};
  if (mode.ReplicatedJob || mode.GlobalJob) unmodelled(name, "mode (a job)", mode);
  // flattenServiceUpdateOrRollbackConfig: nothing when the spec has none.
  const updateConfig = (config: Docker.UpdateConfig | undefined) =>
    config && {
      parallelism: config.Parallelism ?? 0,
      delay: shortDur(config.Delay ?? 0),
      failureAction: config.FailureAction ?? "",
      monitor: shortDur(config.Monitor ?? 0),
      // strconv.FormatFloat(ratio, 'f', 1, 64)
      maxFailureRatio: (config.MaxFailureRatio ?? 0).toFixed(1),
      order: config.Order ?? "",
    };
  return {
    name,
    labels: labelSet(spec.Labels, ownLabels),
    taskSpec: flattenTaskSpec(name, spec.TaskTemplate ?? {}),
    mode: {
      ...(mode.Replicated && {
        replicated: {
          ...(mode.Replicated.Replicas !== undefined && { replicas: mode.Replicated.Replicas }),
        },
      }),
      global: mode.Global !== undefined && mode.Global !== null,
    },
    ...(spec.UpdateConfig && { updateConfig: updateConfig(spec.UpdateConfig) }),
    ...(spec.RollbackConfig && { rollbackConfig: updateConfig(spec.RollbackConfig) }),
    endpointSpec,
  };
}

/** The attributes resourceDockerServiceRead leaves as planned (it never sets them). */
const NOT_READ = ["convergeConfig"] as const;

/** The state after a Read: the planned values, with every attribute Read sets replaced by its. */
function readState(plannedState: Planned, read: Record<string, unknown>) {
  const state: Record<string, unknown> = {};
  for (const key of NOT_READ) if (plannedState[key] !== undefined) state[key] = plannedState[key];
  return { ...state, ...read };
}

/**
 * resourceDockerServiceRead: a StateChangeConf (Pending "pending", Target all_fields/removed,
 * Delay 2 s, MinTimeout 5 s, Timeout 30 s) around the refresh func: fetchDockerService (the service
 * by id or by name from ServiceList; none → "removed"), ServiceInspect, then the flatteners.
 */
async function readService(
  context: DockerContext,
  id: string,
  name: string,
  plannedState: Planned,
): Promise<{ id: string; outputs: Record<string, unknown> } | undefined> {
  const { docker } = context;
  let result: { id: string; outputs: Record<string, unknown> } | undefined;
  await waitForState({
    pending: ["pending"],
    target: ["all_fields", "removed"],
    delay: 2_000,
    minTimeout: 5_000,
    timeout: 30_000,
    refresh: async () => {
      const listed = (await docker.listServices()) as { ID: string; Spec?: { Name?: string } }[];
      const found = listed.find((service) => service.ID === id || service.Spec?.Name === name);
      if (!found) return "removed";
      const inspected = (await docker.getService(found.ID).inspect()) as InspectedService;
      const read = flattenService(inspected, context.labels);
      if (!read) return "pending";
      result = { id: inspected.ID, outputs: readState(plannedState, read) };
      return "all_fields";
    },
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Create, update, delete.

/** resource_docker_service_funcs.go numberedStates. */
const numberedStates: Record<string, number> = {
  new: 1,
  allocated: 2,
  pending: 3,
  assigned: 4,
  accepted: 5,
  preparing: 6,
  ready: 7,
  starting: 8,
  running: 9,
  complete: 10,
  shutdown: 11,
  failed: 12,
  rejected: 13,
};

interface Task {
  ID?: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; ContainerStatus?: { ContainerID?: string } };
}

/**
 * replicatedConsoleLogUpdater.update: per slot (tasksBySlot, on nodes that are not Down), count the
 * tasks whose desired state is not terminal and that run; converged when that equals the replicas.
 */
function replicasRunning(tasks: Task[], activeNodes: Set<string>, replicas: number): boolean {
  const bySlot = new Map<number, Task>();
  for (const task of tasks) {
    const desired = numberedStates[task.DesiredState ?? ""] ?? 0;
    const observed = numberedStates[task.Status?.State ?? ""] ?? 0;
    if (desired === 0 || observed === 0) continue;
    const existing = bySlot.get(task.Slot ?? 0);
    if (existing) {
      const existingDesired = numberedStates[existing.DesiredState ?? ""];
      if (existingDesired < desired) continue;
      if (existingDesired === desired && numberedStates[existing.Status?.State ?? ""] <= observed) {
        continue;
      }
    }
    if (task.NodeID && !activeNodes.has(task.NodeID)) continue;
    bySlot.set(task.Slot ?? 0, task);
  }
  let running = 0;
  for (const task of bySlot.values()) {
    const terminal = numberedStates[task.DesiredState ?? ""] > numberedStates.running;
    if (!terminal && task.Status?.State === "running") running += 1;
  }
  return running === replicas;
}

async function convergence(docker: Docker, serviceId: string) {
  const service = await inspectService(docker, serviceId);
  // getUpToDateTasks: the service's tasks whose desired state is running.
  const tasks = (await docker.listTasks({
    filters: { service: [serviceId], "desired-state": ["running"] },
  })) as Task[];
  // getActiveNodes: every node that is not Down.
  const nodes = await listNodes(docker);
  const active = new Set(
    nodes.filter((node) => node.Status.State !== "down").map((node) => node.ID),
  );
  const replicas = service.Spec?.Mode?.Replicated?.Replicas;
  // replicatedConsoleLogUpdater.update
  if (replicas === undefined) throw new Error("no replica count");
  return { service, converged: () => replicasRunning(tasks, active, replicas) };
}

const milliseconds = (value: unknown) => parseDuration(value) / 1e6;

/** DidNotConvergeError.Error(), with Go's Duration.String(). */
function didNotConverge(serviceId: string, timeoutMs: number): Error {
  return new Error(
    `Service with ID (${serviceId}) did not converge after ${goDuration(timeoutMs * 1e6)}`,
  );
}

/**
 * The Docker client's ServiceCreate with `QueryRegistry: true`, as resourceDockerServiceCreate
 * calls it (docker/docker client/service_create.go v28.5.2 `resolveContainerSpecImage`): a
 * DistributionInspect of the image on the engine; when the registry answers, its platforms go into
 * the placement (an image id or an unreachable registry: a warning, nothing added).
 */
async function platformsOf(docker: Docker, image: string) {
  try {
    const inspected = (await docker.getImage(image).distribution({})) as {
      Platforms?: { architecture?: string; os?: string }[];
    };
    return (inspected.Platforms ?? []).map((platform) => ({
      // "clear architecture field for arm"
      Architecture:
        platform.architecture?.toLowerCase() === "arm" ? "" : (platform.architecture ?? ""),
      OS: platform.os ?? "",
    }));
  } catch {
    return [];
  }
}

/** resourceDockerServiceCreate: ServiceCreate, the convergence wait, SetId, then Read. */
async function createService(context: DockerContext, inputs: ServiceInputs) {
  const { docker } = context;
  const plannedState = planService(undefined, inputs);
  const spec = createServiceSpec(plannedState, context.labels);
  const platforms = await platformsOf(docker, spec.TaskTemplate.ContainerSpec.Image);
  if (platforms.length > 0) spec.TaskTemplate.Placement.Platforms = platforms;
  // The spec is the provider's, not dockerode's (narrower) literal types.
  const created = await docker.createService(spec as unknown as Docker.CreateServiceOptions);
  const id = created.id;
  context.track({ kind: "service", id, name: inputs.name });
  const converge = plannedState.convergeConfig;
  if (converge) {
    const timeout = milliseconds(converge.timeout);
    try {
      await waitForState({
        pending: [
          "new",
          "allocated",
          "pending",
          "assigned",
          "accepted",
          "preparing",
          "ready",
          "starting",
          "creating",
          "paused",
        ],
        target: ["running", "complete"],
        delay: milliseconds(converge.delay),
        minTimeout: 5_000,
        timeout,
        refresh: async () => ((await convergence(docker, id)).converged() ? "running" : "creating"),
      });
    } catch (error) {
      // "the service will be deleted in case it cannot be converged"
      await deleteService(context, id, plannedState);
      if ((error as Error).message.includes("timeout while waiting for state")) {
        throw didNotConverge(id, timeout);
      }
      throw error;
    }
  }
  const read = await readService(context, id, inputs.name, plannedState);
  if (!read) throw new Error(`harness: service ${inputs.name} vanished right after its create`);
  return read;
}

/**
 * resourceDockerServiceUpdate: ServiceInspect for the version, ServiceUpdate with the whole spec
 * built from the planned state (no QueryRegistry), then (convergeConfig) wait until the update
 * completed, failing with the provider's messages when Swarm rolled back or paused
 * (resourceDockerServiceUpdateRefreshFunc; the wait starts after a fixed 7 s), then Read.
 *
 * A failure returns from the provider's Update before its Read: the SDK hands back the planned
 * state with the error (helper/schema/resource.go `Apply`: `return
 * r.recordCurrentSchemaVersion(data.State()), diags`), the bridge turns both into an
 * initialization error (pkg/tfbridge/provider.go `Update` → `initializationError`), and the engine
 * stores the new inputs and those outputs with InitErrors (pkg/resource/deploy/step.go
 * `UpdateStep.Apply`, StatusPartialFailure): InitializationError here.
 */
async function updateService(context: DockerContext, old: ResourceState, inputs: ServiceInputs) {
  const { docker } = context;
  const id = old.id!;
  const plannedState = planService(old.outputs, inputs);
  try {
    const service = docker.getService(id);
    const current = await inspectService(docker, id);
    await service.update({
      version: current.Version.Index,
      ...createServiceSpec(plannedState, context.labels),
    });
    const converge = plannedState.convergeConfig;
    if (converge) {
      const timeout = milliseconds(converge.timeout);
      try {
        await waitForState({
          pending: ["creating", "updating"],
          target: ["completed"],
          delay: 7_000,
          minTimeout: 5_000,
          timeout,
          refresh: async () => {
            const { service: now, converged } = await convergence(docker, id);
            let rollback = false;
            const status = now.UpdateStatus;
            switch (status?.State) {
              case "updating":
                break;
              case "completed":
                return "completed";
              case "rollback_started":
                rollback = true;
                break;
              case "rollback_completed":
                throw new Error(`service rollback completed: ${status.Message}`);
              case "paused":
                throw new Error(`service update paused: ${status.Message}`);
              case "rollback_paused":
                throw new Error(`service rollback paused: ${status.Message}`);
            }
            if (converged()) {
              if (rollback) throw new Error(`service rollback completed: ${status?.Message}`);
              return "completed";
            }
            return "updating";
          },
        });
      } catch (error) {
        if ((error as Error).message.includes("timeout while waiting for state")) {
          throw didNotConverge(id, timeout);
        }
        throw error;
      }
    }
  } catch (error) {
    throw new InitializationError(id, plannedState, [(error as Error).message]);
  }
  const read = await readService(context, id, inputs.name, plannedState);
  // Gone after its update: the SDK drops it from the state; the next run creates it again.
  if (!read) throw new Error(`harness: service ${inputs.name} vanished during its update`);
  return read.outputs;
}

/**
 * deleteService: with a stop_grace_period other than "0s" in the state, first the containers of
 * the service's tasks that are not shut down (TaskList by service name, TaskInspect each), then
 * ServiceRemove, then for each of those containers a ContainerWait (until removed) bounded by the
 * grace period and a forced ContainerRemove, "No such container" ignored: the wait and the removal
 * reach the engine the provider talks to (the manager) only, so a task on another node is not
 * waited for. Without stop_grace_period: ServiceRemove, and the call returns while the tasks'
 * containers still stop.
 */
async function deleteService(context: DockerContext, id: string, state: Planned) {
  const { docker } = context;
  const grace = text(state.taskSpec?.containerSpec?.stopGracePeriod);
  const waits = grace !== "" && grace !== "0s";
  const containers: string[] = [];
  if (waits) {
    const tasks = (await docker.listTasks({ filters: { service: [state.name] } })) as Task[];
    for (const listed of tasks) {
      const task = (await docker
        .getTask(listed.ID!)
        .inspect()
        .catch(() => ({}))) as Task;
      const container = task.Status?.ContainerStatus?.ContainerID ?? "";
      if (container.trim() !== "" && task.Status?.State !== "shutdown") containers.push(container);
    }
  }
  await docker
    .getService(id)
    .remove()
    .catch((error: Error) => {
      throw new Error(`Error deleting service with ID '${id}': ${error.message}`);
    });
  context.forget(id);
  for (const container of containers) {
    const handle = docker.getContainer(container);
    const timeout = parseDuration(grace) / 1e6;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("context deadline exceeded")), timeout);
    });
    try {
      await Promise.race([handle.wait({ condition: "removed" }), deadline]);
    } catch (error) {
      if (!/no such container/i.test((error as Error).message)) {
        throw new Error(
          `error on wait for container with ID '${container}': ${(error as Error).message}`,
          { cause: error },
        );
      }
    } finally {
      clearTimeout(timer);
    }
    await handle.remove({ force: true, v: true }).catch((error: Error) => {
      if (!/no such container|is already in progress/i.test(error.message)) {
        throw new Error(`Error deleting container with ID '${container}': ${error.message}`);
      }
    });
  }
}

/** A service outside the state (a leftover the harness tracked): ServiceRemove, no wait. */
export async function removeService(context: DockerContext, id: string) {
  await context.docker.getService(id).remove().catch(ignoreMissing);
  context.forget(id);
}

// ---------------------------------------------------------------------------------------------
// The in-memory model: what Swarm stores for a spec, read back through the same flatteners.

/**
 * The ServiceInspect a swarm manager answers for a spec the provider sent (Docker 20.10,
 * daemon/cluster/convert/service.go ServiceSpecToGRPC / serviceSpecFromGRPC): the spec as sent,
 * empty fields dropped as Go's `omitempty` drops them, label maps in key order, the runtime
 * "container" (`if empty runtime default to container`), and the endpoint the allocator fills
 * from the endpoint spec (mode "vip" when unset). The swarm e2e suite checks this model against a
 * real manager.
 */
export function storedService(id: string, spec: ServiceSpec): InspectedService {
  const stored = JSON.parse(JSON.stringify(spec)) as ServiceSpec;
  // Partial views of the copy, so that its empty fields can be dropped.
  const task: Partial<ServiceSpec["TaskTemplate"]> = stored.TaskTemplate;
  const container: Partial<ServiceSpec["TaskTemplate"]["ContainerSpec"]> =
    stored.TaskTemplate.ContainerSpec;
  const networks: Partial<ServiceSpec["TaskTemplate"]["Networks"][number]>[] =
    stored.TaskTemplate.Networks;
  const placement: Partial<ServiceSpec["TaskTemplate"]["Placement"]> =
    stored.TaskTemplate.Placement;
  const endpointSpec: Partial<ServiceSpec["EndpointSpec"]> = stored.EndpointSpec;
  // Go's encoding/json writes a map's keys sorted.
  const sorted = (map: Record<string, string>) =>
    Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  stored.Labels = sorted(stored.Labels);
  stored.TaskTemplate.ContainerSpec.Labels = sorted(stored.TaskTemplate.ContainerSpec.Labels);
  for (const key of [
    "Labels",
    "Env",
    "Secrets",
    "Hostname",
    "Isolation",
    "Mounts",
    "ReadOnly",
  ] as const) {
    if (!nonEmpty(container[key]) || container[key] === false) delete container[key];
  }
  // A mount's empty fields, a tmpfs's zero size and mode (api/types/mount: `omitempty`).
  for (const mount of container.Mounts ?? []) {
    const fields: Partial<typeof mount> = mount;
    if (!fields.Source) delete fields.Source;
    if (!fields.ReadOnly) delete fields.ReadOnly;
    const tmpfs: Partial<NonNullable<(typeof mount)["TmpfsOptions"]>> = mount.TmpfsOptions ?? {};
    if (!tmpfs.SizeBytes) delete tmpfs.SizeBytes;
    if (!tmpfs.Mode) delete tmpfs.Mode;
  }
  for (const network of networks) {
    if (!nonEmpty(network.Aliases)) delete network.Aliases;
    if (!nonEmpty(network.DriverOpts)) delete network.DriverOpts;
  }
  if (!nonEmpty(task.Networks)) delete task.Networks;
  for (const key of ["Constraints", "Platforms"] as const) {
    if (!nonEmpty(placement[key])) delete placement[key];
  }
  if (!placement.MaxReplicas) delete placement.MaxReplicas;
  task.Runtime = task.Runtime || "container";
  if (!nonEmpty(endpointSpec.Ports)) delete endpointSpec.Ports;
  const mode = endpointSpec.Mode || "vip";
  // As Swarm answers it: dockerode's types narrow Protocol and PublishMode to Swarm's values.
  return {
    ID: id,
    Spec: stored as InspectedServiceSpec,
    Endpoint: {
      Spec: { Mode: mode },
      ...(nonEmpty(spec.EndpointSpec.Ports) && {
        Ports: spec.EndpointSpec.Ports as Docker.PortConfig[],
      }),
    },
  };
}

function memoryOutputs(id: string, inputs: ServiceInputs, prior: Planned | undefined) {
  const plannedState = planService(prior, inputs);
  const spec = createServiceSpec(plannedState, {});
  const read = flattenService(storedService(id, spec), {});
  if (!read) throw new Error(`harness: service ${inputs.name} has no endpoint mode`);
  return readState(plannedState, read);
}

/** update_config and rollback_config have the same fields. */
const UPDATE_CONFIG_INPUTS = {
  parallelism: true,
  delay: true,
  failureAction: true,
  monitor: true,
  maxFailureRatio: true,
  order: true,
} as const;

export const service: ResourceModule = {
  type: SERVICE,
  inputs: {
    name: true,
    labels: { label: true, value: true },
    taskSpec: {
      containerSpec: {
        image: true,
        commands: true,
        hostname: true,
        env: true,
        healthcheck: {
          tests: true,
          interval: true,
          timeout: true,
          startPeriod: true,
          retries: true,
        },
        labels: { label: true, value: true },
        stopGracePeriod: true,
        secrets: {
          secretId: true,
          secretName: true,
          fileName: true,
          fileUid: true,
          fileGid: true,
          fileMode: true,
        },
        ...CONTAINER_SPEC_HARDENING_INPUTS,
      },
      ...TASK_SPEC_HARDENING_INPUTS,
      networksAdvanceds: { name: true, id: true, aliases: true },
      placement: { constraints: true, platforms: { architecture: true, os: true } },
      restartPolicy: { condition: true, delay: true, maxAttempts: true, window: true },
      // force_update (Optional, Computed): createServiceSpec sends it as TaskTemplate.ForceUpdate,
      // flattenTaskSpec reads it back (resource_docker_service_structures.go).
      forceUpdate: true,
    },
    mode: { replicated: { replicas: true }, global: true },
    endpointSpec: {
      mode: true,
      ports: {
        name: true,
        protocol: true,
        targetPort: true,
        publishedPort: true,
        publishMode: true,
      },
    },
    updateConfig: UPDATE_CONFIG_INPUTS,
    rollbackConfig: UPDATE_CONFIG_INPUTS,
    convergeConfig: { delay: true, timeout: true },
  },
  rules: {
    // resourceDockerServiceUpdate sends the whole new spec in one ServiceUpdate, whichever
    // attribute changed; whether a change replaces the service is the schema's (below).
    properties: Object.fromEntries(
      Object.keys(serviceSchema).map((key) => [key, "service-update" as const]),
    ),
    computed: new Set(),
    sets: new Set(),
    schema: serviceSchema,
    // pulumi-docker resources.go gives docker_service no DeleteBeforeReplace; with an explicit
    // `name` the bridge asks for it anyway (pkg/tfbridge/schema.go nameRequiresDeleteBeforeReplace:
    // pulumi-docker's SetAutonaming makes `name` auto-named).
    deleteBeforeReplace: (news) => news.name !== undefined,
    // Bridged: the bridge diffs against the outputs Read returned.
    diffBasis: "outputs",
  },
  check(inputs) {
    if (inputs.name === undefined) {
      throw new Error("harness: an auto-named docker.Service (no `name`) is not modelled");
    }
    // The schema's ConflictsWith: converge_config can't go with mode.0.global (set at all).
    if ((inputs as ServiceInputs).mode?.global !== undefined && inputs.convergeConfig) {
      throw new Error(
        `"converge_config": conflicts with mode.0.global (service ${inputs.name}): the provider ` +
          `can't wait for a global service to converge`,
      );
    }
    return inputs;
  },
  docker: {
    read: async (context, state) =>
      (
        await readService(
          context,
          state.id!,
          state.outputs.name as string,
          state.outputs as Planned,
        )
      )?.outputs,
    create: (context, inputs) =>
      context.timed("deploy", () => createService(context, inputs as ServiceInputs)),
    update: (context, old, inputs, diff) =>
      // The bridge's Update with no Terraform diff (the empty update that resolves init errors)
      // returns the old state as it is: pkg/tfbridge/provider.go `Update`, `diff == nil`.
      diff.changedKeys.length === 0
        ? Promise.resolve(old.outputs)
        : context.timed("deploy", () => updateService(context, old, inputs as ServiceInputs)),
    delete: (context, state) =>
      context.timed("teardown", () => deleteService(context, state.id!, state.outputs as Planned)),
  },
  memory: {
    uniqueName: true,
    create: (_context, inputs, id) => memoryOutputs(id, inputs as ServiceInputs, undefined),
    update: (old, inputs, diff) =>
      diff.changedKeys.length === 0
        ? old.outputs
        : memoryOutputs(old.id!, inputs as ServiceInputs, old.outputs as Planned),
  },
};
