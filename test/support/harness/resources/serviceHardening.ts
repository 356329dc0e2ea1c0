// docker.Service's least-privilege inputs (src/swarm/hardening.ts), modelled apart from the rest of
// the service (service.ts spreads these in): task_spec.container_spec's read_only, mounts (tmpfs
// only), cap_add and cap_drop; task_spec's resources.limits and log_driver. From
// kreuzwerker/terraform-provider-docker v4.5.0: resource_docker_service.go for the schema (none of
// them is ForceNew: a change goes through resourceDockerServiceUpdate, and Swarm rolls the tasks),
// resource_docker_service_structures.go createContainerSpec / createResources / createLogDriver
// for the Engine API spec, and flattenContainerSpec / flattenServiceMounts / flattenTaskResources /
// flattenTaskLogDriver for what Read reports back.

/** The inputs below task_spec.container_spec. */
export interface ContainerSpecHardening {
  readOnly?: boolean;
  mounts?: {
    target: string;
    type: string;
    source?: string;
    readOnly?: boolean;
    tmpfsOptions?: { sizeBytes?: number; mode?: number };
  }[];
  capAdds?: string[];
  capDrops?: string[];
}

/** The inputs below task_spec, beside container_spec. */
export interface TaskSpecHardening {
  resources?: { limits?: { memoryBytes?: number; nanoCpus?: number } };
  logDriver?: { name: string; options?: Record<string, string> };
}

/** The input shape (types.ts `Shape`) of each block, for service.ts's `inputs`. */
export const CONTAINER_SPEC_HARDENING_INPUTS = {
  readOnly: true,
  mounts: {
    target: true,
    type: true,
    source: true,
    readOnly: true,
    tmpfsOptions: { sizeBytes: true, mode: true },
  },
  capAdds: true,
  capDrops: true,
} as const;

export const TASK_SPEC_HARDENING_INPUTS = {
  resources: { limits: { memoryBytes: true, nanoCpus: true } },
  logDriver: { name: true, options: true },
} as const;

/**
 * createContainerSpec's part: ReadOnly; Mounts with Type, Target, Source and ReadOnly, and
 * TmpfsOptions (SizeBytes, Mode) when tmpfs_options is given; CapabilityAdd / CapabilityDrop.
 * Only tmpfs mounts are modelled: a bind or volume mount makes the harness throw.
 */
export function containerSpecHardening(spec: ContainerSpecHardening, service: string) {
  return {
    ReadOnly: spec.readOnly ?? false,
    Mounts: spec.mounts?.map((mount) => {
      if (mount.type !== "tmpfs") {
        throw new Error(`harness: a ${mount.type} mount (service ${service}) is not modelled`);
      }
      return {
        Type: mount.type,
        Target: mount.target,
        Source: mount.source ?? "",
        ReadOnly: mount.readOnly ?? false,
        TmpfsOptions: mount.tmpfsOptions && {
          SizeBytes: mount.tmpfsOptions.sizeBytes ?? 0,
          Mode: mount.tmpfsOptions.mode ?? 0,
        },
      };
    }),
    CapabilityAdd: spec.capAdds,
    CapabilityDrop: spec.capDrops,
  };
}

/** createResources (Limits: NanoCPUs, MemoryBytes) and createLogDriver (Name, Options). */
export function taskSpecHardening(spec: TaskSpecHardening) {
  return {
    Resources: spec.resources && {
      Limits: spec.resources.limits && {
        NanoCPUs: spec.resources.limits.nanoCpus ?? 0,
        MemoryBytes: spec.resources.limits.memoryBytes ?? 0,
      },
    },
    LogDriver: spec.logDriver && { Name: spec.logDriver.name, Options: spec.logDriver.options },
  };
}

interface EngineTaskSpec {
  ContainerSpec?: {
    ReadOnly?: boolean;
    Mounts?: {
      Type: string;
      Target: string;
      Source?: string;
      ReadOnly?: boolean;
      TmpfsOptions?: { SizeBytes?: number; Mode?: number };
    }[];
    CapabilityAdd?: string[] | null;
    CapabilityDrop?: string[] | null;
  };
  Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number } | null };
  LogDriver?: { Name: string; Options?: Record<string, string> | null };
}

/**
 * What Read reports for these inputs from a service's TaskTemplate, in the inputs' shape:
 * flattenContainerSpec sets read_only only when true, mounts only when there are some
 * (flattenServiceMounts: target, source, type, read_only, and tmpfs_options' size_bytes and the
 * permission bits of its mode, `Mode.Perm()`), cap_add / cap_drop only when non-empty;
 * flattenTaskResources: limits' nano_cpus and memory_bytes (its `reservation` is left out here:
 * the program sets none); flattenTaskLogDriver: name, and options when there are some.
 */
export function flattenHardening(task: EngineTaskSpec): {
  containerSpec: ContainerSpecHardening;
  task: TaskSpecHardening;
} {
  const container = task.ContainerSpec ?? {};
  const containerSpec: ContainerSpecHardening = {};
  if (container.ReadOnly) containerSpec.readOnly = true;
  if ((container.Mounts ?? []).length > 0) {
    containerSpec.mounts = container.Mounts!.map((mount) => ({
      target: mount.Target,
      source: mount.Source ?? "",
      type: mount.Type,
      readOnly: mount.ReadOnly ?? false,
      ...(mount.TmpfsOptions && {
        tmpfsOptions: {
          sizeBytes: mount.TmpfsOptions.SizeBytes ?? 0,
          mode: (mount.TmpfsOptions.Mode ?? 0) & 0o777,
        },
      }),
    }));
  }
  if ((container.CapabilityAdd ?? []).length > 0) containerSpec.capAdds = container.CapabilityAdd!;
  if ((container.CapabilityDrop ?? []).length > 0) {
    containerSpec.capDrops = container.CapabilityDrop!;
  }
  const flattened: TaskSpecHardening = {};
  if (task.Resources) {
    const limits = task.Resources.Limits;
    flattened.resources = limits
      ? { limits: { nanoCpus: limits.NanoCPUs ?? 0, memoryBytes: limits.MemoryBytes ?? 0 } }
      : {};
  }
  if (task.LogDriver) {
    flattened.logDriver = {
      name: task.LogDriver.Name,
      ...(Object.keys(task.LogDriver.Options ?? {}).length > 0 && {
        options: task.LogDriver.Options!,
      }),
    };
  }
  return { containerSpec, task: flattened };
}
