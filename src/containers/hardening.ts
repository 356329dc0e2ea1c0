// Single-host mode's part of least privilege (src/hardening.ts): the inputs every container of the
// stack gets, beside its own. The user is the image's (USER in docker-images/*).
import type * as docker from "@pulumi/docker";
import { cpusAsProviderReadsThem } from "../cpuLimit";
import {
  DROPPED_CAPABILITIES,
  LOG_DRIVER,
  tmpfsMounts,
  type Role,
  type RuntimeLimits,
} from "../hardening";

export function containerHardening(role: Role, limits: RuntimeLimits) {
  return {
    readOnly: true,
    mounts: tmpfsMounts(role),
    capabilities: { drops: [...DROPPED_CAPABILITIES] },
    // No process can gain a privilege its parent lacks (setuid, file capabilities).
    securityOpts: ["no-new-privileges:true"],
    memory: limits.memoryMb,
    // Equal to `memory`: no swap on top. Left out, Docker allows twice the memory again as swap,
    // and the provider's Read would report that value as a change on every run.
    memorySwap: limits.memoryMb,
    cpus: cpusAsProviderReadsThem(limits.cpus),
    logDriver: LOG_DRIVER.name,
    logOpts: { ...LOG_DRIVER.options },
  } satisfies Partial<docker.ContainerArgs>;
}
