// Least privilege, the same rules for every container (single-host mode) and every task (swarm
// mode), after the CIS Docker Benchmark's container runtime rules: src/containers/hardening.ts and
// src/swarm/hardening.ts turn them into each resource's inputs. The images do their part: each
// runs as a user that is not root and carries no setuid or setgid file (docker-images/*). What
// each rule protects against, and the rules a target can't follow: docs/security.md.
import type { BackendRole } from "./naming";
import type { Settings } from "./settings";

export type Role = BackendRole | "proxy";

/**
 * What runs with these rules: the roles, and on a swarm the proxy's per-node checks
 * (src/swarm/proxyReady.ts), which run the proxy's image with a command of their own.
 */
export type HardenedRole = Role | "proxyCheck";

/** What one container (or task) of a role may use, from the settings. */
export interface RuntimeLimits {
  /** Memory, swap included, in MiB. */
  readonly memoryMb: number;
  /** A number of CPUs, e.g. 1.5. */
  readonly cpus: number;
}

export function runtimeLimits(settings: Settings, role: Role): RuntimeLimits {
  return {
    memoryMb: settings[`${role}MemoryLimitMb`],
    cpus: Number(settings[`${role}CpuLimit`]),
  };
}

/**
 * A proxy check's limits, fixed (no config key): its task idles in `sleep`, and every 2 s its
 * health command runs sh, getent and one curl per proxy task, a few MiB and milliseconds each.
 */
export const PROXY_CHECK_LIMITS: RuntimeLimits = { memoryMb: 64, cpus: 0.25 };

/** A tmpfs over a read-only root filesystem, where a process must write. */
export interface WritablePath {
  readonly target: string;
  readonly sizeBytes: number;
}

const MiB = 1024 * 1024;

/**
 * Apache's run directory: its pid file, its lock files (APACHE_LOCK_DIR is moved there in both
 * Apache images) and, in the proxy, the vhost and htpasswd file the entrypoint writes at start.
 */
const APACHE_RUN_DIR: WritablePath = { target: "/run/apache2", sizeBytes: 4 * MiB };

/**
 * The only places each role's processes write to; the rest of the root filesystem is read-only.
 * The static backend's mod_php keeps its opcache lock file in /tmp, and its drain file goes beside
 * Apache's pid file. Node writes no file. A proxy check remembers its proxy's address in /tmp.
 */
export const WRITABLE_PATHS: Record<HardenedRole, readonly WritablePath[]> = {
  proxy: [APACHE_RUN_DIR],
  static: [APACHE_RUN_DIR, { target: "/tmp", sizeBytes: 16 * MiB }],
  dynamic: [],
  proxyCheck: [{ target: "/tmp", sizeBytes: 1 * MiB }],
};

/**
 * A role's writable paths as tmpfs mounts, in the shape both the container's `mounts` and the
 * service's `taskSpec.containerSpec.mounts` take.
 */
export function tmpfsMounts(role: HardenedRole) {
  return WRITABLE_PATHS[role].map(({ target, sizeBytes }) => ({
    target,
    type: "tmpfs",
    tmpfsOptions: { sizeBytes },
  }));
}

/**
 * Every capability is dropped and none added back: the images listen on ports above 1023, run as
 * their own user from the start (no setuid/setgid to another), and write only to the tmpfs mounts.
 */
export const DROPPED_CAPABILITIES = ["ALL"] as const;

/**
 * Docker's default json-file log grows until the disk is full: rotated at 10 MB, three files kept
 * (30 MB at most per container). `docker logs` reads them as before.
 * https://docs.docker.com/engine/logging/drivers/json-file/
 */
export const LOG_DRIVER = {
  name: "json-file",
  options: { "max-size": "10m", "max-file": "3" },
} as const;
