// docker.Service's least-privilege attributes (src/swarm/hardening.ts), modelled apart from the rest
// of the service; service.ts spreads each part into its schema, its createServiceSpec and its
// flatteners: task_spec.container_spec's read_only, mounts (tmpfs only), cap_add and cap_drop, and
// task_spec's log_driver (task_spec.resources is service.ts's own). From
// kreuzwerker/terraform-provider-docker v4.5.0: resource_docker_service.go for the schema (none of
// them is ForceNew: a change goes through resourceDockerServiceUpdate, and Swarm rolls the tasks),
// resource_docker_service_structures.go createContainerSpec / createLogDriver for the Engine API
// spec, and flattenContainerSpec / flattenServiceMounts / flattenTaskLogDriver for Read.
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { Block } from "../terraformSchema";

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
 * resource_docker_service.go, below task_spec.container_spec: read_only (TypeBool), mounts (TypeSet
 * of target and type, Required; source, read_only; tmpfs_options, MaxItems 1, of size_bytes and
 * mode; bind_options and volume_options are not modelled: the inputs refuse them), cap_add and
 * cap_drop (TypeList of strings). All Optional, none Computed or ForceNew.
 */
export const containerSpecHardeningSchema: Block = {
  readOnly: { tf: "read_only", type: "bool", optional: true },
  mounts: {
    tf: "mounts",
    type: "set",
    optional: true,
    elem: {
      target: { tf: "target", type: "string", required: true },
      source: { tf: "source", type: "string", optional: true },
      type: { tf: "type", type: "string", required: true },
      readOnly: { tf: "read_only", type: "bool", optional: true },
      tmpfsOptions: {
        tf: "tmpfs_options",
        type: "list",
        maxItems: 1,
        optional: true,
        elem: {
          sizeBytes: { tf: "size_bytes", type: "int", optional: true },
          mode: { tf: "mode", type: "int", optional: true },
        },
      },
    },
  },
  capAdds: { tf: "cap_add", type: "list", elem: "string", optional: true },
  capDrops: { tf: "cap_drop", type: "list", elem: "string", optional: true },
};

/** resource_docker_service.go, below task_spec: log_driver (MaxItems 1: name Required, options). */
export const taskSpecHardeningSchema: Block = {
  logDriver: {
    tf: "log_driver",
    type: "list",
    maxItems: 1,
    optional: true,
    elem: {
      name: { tf: "name", type: "string", required: true },
      options: { tf: "options", type: "map", optional: true },
    },
  },
};

type PlannedTask = pulumi.Unwrap<docker.ServiceArgs>["taskSpec"];
type PlannedContainer = Partial<PlannedTask["containerSpec"]>;

/**
 * createContainerSpec's part, from the planned values (every key present, as the SDK's reader
 * gives them): ReadOnly; Mounts, always a list (empty without mounts), each with Type, Target,
 * Source and ReadOnly, and TmpfsOptions (SizeBytes, Mode) when tmpfs_options is given;
 * CapabilityAdd / CapabilityDrop appended one by one (nil when empty). Only tmpfs mounts are
 * modelled: a bind or volume mount makes the harness throw, naming the service.
 */
export function createContainerSpecHardening(container: PlannedContainer, service: string) {
  return {
    ReadOnly: container.readOnly === true,
    Mounts: (container.mounts ?? []).map((mount) => {
      if (mount.type !== "tmpfs") {
        throw new Error(`harness: a ${mount.type} mount (service ${service}) is not modelled`);
      }
      return {
        Type: mount.type,
        Target: mount.target,
        Source: mount.source ?? "",
        ReadOnly: mount.readOnly === true,
        ...(mount.tmpfsOptions && {
          TmpfsOptions: {
            SizeBytes: mount.tmpfsOptions.sizeBytes ?? 0,
            Mode: mount.tmpfsOptions.mode ?? 0,
          },
        }),
      };
    }),
    ...(container.capAdds?.length && { CapabilityAdd: container.capAdds }),
    ...(container.capDrops?.length && { CapabilityDrop: container.capDrops }),
  };
}

/** createLogDriver: Name and Options from the block; none (nil) without it. */
export function createLogDriver(task: Partial<PlannedTask>) {
  return task.logDriver
    ? { Name: task.logDriver.name, Options: { ...(task.logDriver.options ?? {}) } }
    : undefined;
}

/** What a ServiceInspect holds of them (the Engine API's names). */
export interface InspectedHardening {
  ReadOnly?: boolean;
  Mounts?: {
    Type?: string;
    Target?: string;
    Source?: string;
    ReadOnly?: boolean;
    TmpfsOptions?: { SizeBytes?: number; Mode?: number };
    BindOptions?: unknown;
    VolumeOptions?: unknown;
  }[];
  CapabilityAdd?: string[] | null;
  CapabilityDrop?: string[] | null;
}

/**
 * flattenContainerSpec's part: read_only only when true, mounts only when there are some
 * (flattenServiceMounts: target, source, type, read_only, and tmpfs_options' size_bytes and the
 * permission bits of its mode, `Mode.Perm()`), cap_add / cap_drop only when non-empty. A mount's
 * bind or volume options are not modelled: `unmodelled` throws.
 */
export function flattenContainerSpecHardening(
  spec: InspectedHardening,
  unmodelled: (attribute: string, value: unknown) => never,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.ReadOnly) out.readOnly = true;
  if ((spec.Mounts ?? []).length > 0) {
    out.mounts = spec.Mounts!.map((mount) => {
      if (mount.BindOptions) unmodelled("mounts.bind_options", mount.BindOptions);
      if (mount.VolumeOptions) unmodelled("mounts.volume_options", mount.VolumeOptions);
      return {
        target: mount.Target ?? "",
        source: mount.Source ?? "",
        type: mount.Type ?? "",
        readOnly: mount.ReadOnly ?? false,
        ...(mount.TmpfsOptions && {
          tmpfsOptions: {
            sizeBytes: mount.TmpfsOptions.SizeBytes ?? 0,
            mode: (mount.TmpfsOptions.Mode ?? 0) & 0o777,
          },
        }),
      };
    });
  }
  if ((spec.CapabilityAdd ?? []).length > 0) out.capAdds = spec.CapabilityAdd;
  if ((spec.CapabilityDrop ?? []).length > 0) out.capDrops = spec.CapabilityDrop;
  return out;
}

/** flattenTaskLogDriver: name, and options only when there are some. */
export function flattenTaskLogDriver(driver: { Name?: string; Options?: Record<string, string> }) {
  return {
    name: driver.Name ?? "",
    ...(Object.keys(driver.Options ?? {}).length > 0 && { options: driver.Options }),
  };
}
