// docker.Service: pulumi-docker bridges kreuzwerker/terraform-provider-docker's `docker_service`
// (v4.5.0: internal/provider/resource_docker_service.go for the schema,
// resource_docker_service_funcs.go for create/read/update/delete and the convergence wait,
// resource_docker_service_structures.go createServiceSpec for the Engine API spec). The real work
// goes through dockerode's service API against a swarm manager.
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import { durationNs, ignoreMissing, labelMap, type LabelInput } from "./engineApi";
import {
  CONTAINER_SPEC_HARDENING_INPUTS,
  containerSpecHardening,
  TASK_SPEC_HARDENING_INPUTS,
  taskSpecHardening,
  type ContainerSpecHardening,
  type TaskSpecHardening,
} from "./serviceHardening";
import { waitForState } from "./stateChange";
import type { DockerContext, ResourceModule } from "./types";

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
      hostname?: string;
      env?: Record<string, string>;
      labels?: LabelInput;
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

/**
 * createUpdateOrRollbackConfig, with the schema's defaults for what the block leaves out
 * (parallelism 1, delay 0s, failure_action pause, monitor 5s, max_failure_ratio 0.0, order
 * stop-first).
 */
function updateOrRollbackConfig(config: UpdateConfigInput | undefined) {
  if (config === undefined) return undefined;
  return {
    Parallelism: config.parallelism ?? 1,
    Delay: durationNs(config.delay ?? "0s"),
    FailureAction: config.failureAction ?? "pause",
    Monitor: durationNs(config.monitor ?? "5s"),
    MaxFailureRatio: Number(config.maxFailureRatio ?? "0.0"),
    Order: config.order ?? "stop-first",
  };
}

/** createServiceSpec: the Engine API's ServiceSpec for the inputs. */
export function serviceSpec(inputs: ServiceInputs, extraLabels: Record<string, string>) {
  const { containerSpec, networksAdvanceds, placement, restartPolicy } = inputs.taskSpec;
  return {
    Name: inputs.name,
    Labels: labelMap(inputs.labels, extraLabels),
    TaskTemplate: {
      ContainerSpec: {
        Image: containerSpec.image,
        Hostname: containerSpec.hostname,
        Labels: containerSpec.labels && labelMap(containerSpec.labels, {}),
        // mapTypeMapValsToStringSlice: KEY=value.
        Env: containerSpec.env && Object.entries(containerSpec.env).map(([k, v]) => `${k}=${v}`),
        // The schema's defaults: file_uid "0", file_gid "0", file_mode 0o444.
        Secrets: containerSpec.secrets?.map((secret) => ({
          SecretID: secret.secretId,
          SecretName: secret.secretName,
          File: {
            Name: secret.fileName,
            UID: secret.fileUid ?? "0",
            GID: secret.fileGid ?? "0",
            Mode: secret.fileMode ?? 0o444,
          },
        })),
        ...containerSpecHardening(containerSpec, inputs.name),
      },
      ...taskSpecHardening(inputs.taskSpec),
      // createRestartPolicy: only the fields given.
      RestartPolicy: restartPolicy && {
        Condition: restartPolicy.condition,
        Delay: durationNs(restartPolicy.delay),
        MaxAttempts: restartPolicy.maxAttempts,
        Window: durationNs(restartPolicy.window),
      },
      Placement: placement && { Constraints: placement.constraints },
      // createServiceAdvancedNetworks: the id, else the (deprecated) name, is the target.
      Networks: networksAdvanceds?.map((network) => {
        const target = network.id || network.name;
        if (!target) throw new Error("network 'name' or 'id' must be specified");
        return { Target: target, Aliases: network.aliases ?? [] };
      }),
    },
    // createServiceMode: replicated with its replicas (default 1), or global.
    Mode: inputs.mode?.global
      ? { Global: {} }
      : inputs.mode?.replicated
        ? { Replicated: { Replicas: inputs.mode.replicated.replicas ?? 1 } }
        : {},
    UpdateConfig: updateOrRollbackConfig(inputs.updateConfig),
    RollbackConfig: updateOrRollbackConfig(inputs.rollbackConfig),
    // createServiceEndpointSpec + portSetToServicePorts (protocol tcp, publish_mode ingress).
    EndpointSpec: {
      Mode: inputs.endpointSpec?.mode,
      Ports: inputs.endpointSpec?.ports?.map((port) => ({
        Name: port.name,
        Protocol: port.protocol ?? "tcp",
        TargetPort: port.targetPort,
        PublishedPort: port.publishedPort,
        PublishMode: port.publishMode ?? "ingress",
      })),
    },
  };
}

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
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string };
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
  const service = await docker.getService(serviceId).inspect();
  // getUpToDateTasks: the service's tasks whose desired state is running.
  const tasks = (await docker.listTasks({
    filters: { service: [serviceId], "desired-state": ["running"] },
  })) as Task[];
  // getActiveNodes: every node that is not Down.
  const nodes = await docker.listNodes();
  const active = new Set(
    nodes.filter((node) => node.Status?.State !== "down").map((node) => node.ID as string),
  );
  const replicas = service.Spec?.Mode?.Replicated?.Replicas;
  // replicatedConsoleLogUpdater.update
  if (replicas === undefined) throw new Error("no replica count");
  return { service, converged: replicasRunning(tasks, active, replicas) };
}

const seconds = (value: string | undefined, fallback: string) =>
  (durationNs(value ?? fallback) ?? 0) / 1e6;

/** DidNotConvergeError.Error(), with Go's Duration.String() for whole minutes and seconds. */
function didNotConverge(serviceId: string, timeoutMs: number): Error {
  const total = Math.round(timeoutMs / 1000);
  const text = total >= 60 ? `${Math.floor(total / 60)}m${total % 60}s` : `${total}s`;
  return new Error(`Service with ID (${serviceId}) did not converge after ${text}`);
}

/** resourceDockerServiceCreate: ServiceCreate, then (convergeConfig) wait for every replica. */
async function createService(context: DockerContext, inputs: ServiceInputs) {
  const { docker } = context;
  // The spec is built from the provider's fields, not from dockerode's (narrower) literal types.
  const spec = serviceSpec(inputs, context.labels) as unknown as Docker.CreateServiceOptions;
  const created = (await docker.createService(spec)) as unknown as Docker.Service;
  const id = created.id as string;
  context.track({ kind: "service", id, name: inputs.name });
  if (inputs.convergeConfig) {
    const timeout = seconds(inputs.convergeConfig.timeout, "3m");
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
        delay: seconds(inputs.convergeConfig.delay, "7s"),
        minTimeout: 5_000,
        timeout,
        refresh: async () => ((await convergence(docker, id)).converged ? "running" : "creating"),
      });
    } catch (error) {
      // "the service will be deleted in case it cannot be converged"
      await removeService(context, id);
      if ((error as Error).message.includes("timeout while waiting for state")) {
        throw didNotConverge(id, timeout);
      }
      throw error;
    }
  }
  return { id, outputs: { ...inputs } };
}

/**
 * resourceDockerServiceUpdate: ServiceInspect for the version, ServiceUpdate with the whole new
 * spec, then (convergeConfig) wait until the update completed, failing with the provider's
 * messages when Swarm rolled back or paused (resourceDockerServiceUpdateRefreshFunc). The wait
 * starts after a fixed 7 s there, whatever convergeConfig.delay says.
 */
async function updateService(context: DockerContext, old: ResourceState, inputs: ServiceInputs) {
  const { docker } = context;
  const service = docker.getService(old.id!);
  const current = await service.inspect();
  await service.update({ version: current.Version.Index, ...serviceSpec(inputs, context.labels) });
  if (inputs.convergeConfig) {
    const timeout = seconds(inputs.convergeConfig.timeout, "3m");
    try {
      await waitForState({
        pending: ["creating", "updating"],
        target: ["completed"],
        delay: 7_000,
        minTimeout: 5_000,
        timeout,
        refresh: async () => {
          const { service: now, converged } = await convergence(docker, old.id!);
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
          if (converged) {
            if (rollback) throw new Error(`service rollback completed: ${status?.Message}`);
            return "completed";
          }
          return "updating";
        },
      });
    } catch (error) {
      if ((error as Error).message.includes("timeout while waiting for state")) {
        throw didNotConverge(old.id!, timeout);
      }
      throw error;
    }
  }
  return { ...old.outputs, ...inputs };
}

/**
 * deleteService: ServiceRemove. Without stop_grace_period (this harness does not implement it) the
 * provider does not wait for the tasks' containers: they stop after the call returns.
 */
async function removeService(context: DockerContext, id: string) {
  await context.docker.getService(id).remove().catch(ignoreMissing);
  context.forget(id);
}

export { removeService };

/**
 * resourceDockerServiceRead: the service by id (fetchDockerService), gone → removed from the state.
 * The harness does not flatten the spec back (flattenTaskSpec …): it reports the outputs it last
 * wrote, so drift made outside Pulumi (a `docker service update`) is not seen; a service whose spec
 * another client changed makes it throw rather than report a stale state.
 */
async function readService(context: DockerContext, state: ResourceState) {
  const found = await context.docker
    .getService(state.id!)
    .inspect()
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) return undefined;
      throw error;
    });
  if (!found) return undefined;
  const expected = serviceSpec(state.outputs as ServiceInputs, context.labels);
  if (
    found.Spec?.TaskTemplate?.ContainerSpec?.Image !== expected.TaskTemplate.ContainerSpec.Image
  ) {
    throw new Error(
      `harness: service ${state.outputs.name} was changed outside the program; reading a changed ` +
        `service spec back (flattenTaskSpec) is not modelled`,
    );
  }
  return { ...state.outputs };
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
        hostname: true,
        env: true,
        labels: { label: true, value: true },
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
      placement: { constraints: true },
      restartPolicy: { condition: true, delay: true, maxAttempts: true, window: true },
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
  // resource_docker_service.go `resourceDockerService`: name, mode and auth are ForceNew; the rest
  // of the top level is applied by resourceDockerServiceUpdate. labels, mode and endpoint_spec are
  // Optional+Computed.
  rules: {
    properties: {
      name: "replace",
      mode: "replace",
      labels: "service-update",
      taskSpec: "service-update",
      endpointSpec: "service-update",
      updateConfig: "service-update",
      rollbackConfig: "service-update",
      convergeConfig: "service-update",
    },
    computed: new Set(["labels", "mode", "endpointSpec"]),
    sets: new Set(["labels"]),
    // pulumi-docker resources.go gives docker_service no DeleteBeforeReplace; with an explicit
    // `name` the bridge asks for it anyway (pkg/tfbridge/schema.go nameRequiresDeleteBeforeReplace:
    // pulumi-docker's SetAutonaming makes `name` auto-named).
    deleteBeforeReplace: (news) => news.name !== undefined,
    // Bridged: the bridge diffs against the outputs Read returned.
    diffBasis: "outputs",
    // ForceNew below task_spec: container_spec.hosts (and its ip/host), container_spec.sysctl,
    // networks_advanced (name, id, aliases, driver_opts). container_spec.labels is NOT ForceNew.
    forceNewPaths: {
      taskSpec: ["containerSpec.hosts", "containerSpec.sysctl", "networksAdvanceds"],
    },
  },
  check(inputs) {
    if (inputs.name === undefined) {
      throw new Error("harness: an auto-named docker.Service (no `name`) is not modelled");
    }
    // The schema's ConflictsWith: converge_config can't go with mode.0.global.
    if (inputs.mode?.global && inputs.convergeConfig) {
      throw new Error(
        `"converge_config": conflicts with mode.0.global (service ${inputs.name}): the provider ` +
          `can't wait for a global service to converge`,
      );
    }
    return inputs;
  },
  docker: {
    read: (context, state) => readService(context, state),
    create: (context, inputs) =>
      context.timed("deploy", () => createService(context, inputs as ServiceInputs)),
    update: (context, old, inputs) =>
      context.timed("deploy", () => updateService(context, old, inputs as ServiceInputs)),
    delete: (context, state) => context.timed("teardown", () => removeService(context, state.id!)),
  },
  memory: {
    uniqueName: true,
    create: (_context, inputs) => ({ ...inputs }),
    update: (_old, inputs) => ({ ...inputs }),
  },
};
