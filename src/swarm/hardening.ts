// Swarm mode's part of least privilege (src/hardening.ts): the parts of a service's task spec every
// task of the stack gets, spread into its own (src/swarm/members.ts, src/swarm/proxy.ts, and the
// proxy's per-node checks in src/swarm/proxyReady.ts). The user is the image's (USER in
// docker-images/*). Two rules the provider can't express for a service (terraform-provider-docker
// v4.5.0 resource_docker_service.go has no field for them): no-new-privileges (the images carry no
// setuid or setgid file instead) and a pids limit (docs/security.md).
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { nanoCpus } from "../cpuLimit";
import {
  DROPPED_CAPABILITIES,
  LOG_DRIVER,
  tmpfsMounts,
  type HardenedRole,
  type RuntimeLimits,
} from "../hardening";

type ContainerSpec = pulumi.Unwrap<docker.types.input.ServiceTaskSpecContainerSpec>;
type TaskSpec = pulumi.Unwrap<docker.types.input.ServiceTaskSpec>;

/** The hardening of a task's container spec. */
export function containerSpecHardening(role: HardenedRole) {
  return {
    readOnly: true,
    mounts: tmpfsMounts(role),
    capDrops: [...DROPPED_CAPABILITIES],
  } satisfies Partial<ContainerSpec>;
}

/** The hardening of a task spec, beside its container spec: limits and bounded logs. */
export function taskSpecHardening(limits: RuntimeLimits) {
  return {
    resources: {
      limits: { memoryBytes: limits.memoryMb * 1024 * 1024, nanoCpus: nanoCpus(limits.cpus) },
    },
    logDriver: { name: LOG_DRIVER.name, options: { ...LOG_DRIVER.options } },
  } satisfies Partial<TaskSpec>;
}
