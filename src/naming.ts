// Physical names of everything the stack creates on the Docker engine. They all carry the project
// and stack names, so two stacks (dev and staging, or two students) can live on one engine.

import { createHash } from "node:crypto";

export type BackendRole = "static" | "dynamic";

export interface StackNames {
  /** Prefix shared by every container, network and image name: `<project>-<stack>`. */
  prefix: string;
  network: string;
  proxy: string;
  backend(role: BackendRole, index: number): string;
  /** Local image name (`repository:tag`) for one of the three images. */
  image(kind: "static" | "dynamic" | "proxy"): string;
  /**
   * Labels that let `docker ps --filter label=http-infra.stack=dev` find a stack's objects.
   * "tls-files": the proxy's certificate files and the container that writes them (HTTPS).
   */
  labels(role: BackendRole | "proxy" | "network" | "tls-files"): { label: string; value: string }[];
}

/** The label that names the node of a swarm proxy check (src/swarm/proxyReady.ts): only they carry it. */
export const PROXY_CHECK_NODE_LABEL = "http-infra.node";

/**
 * Docker container and network names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, image repositories only
 * lower case, and a container's host name is a DNS label (no `_` or `.`, at most 63 characters).
 * Pulumi stack names allow more, so everything is folded into one safe, lower-case form.
 */
export function dnsLabel(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * `dnsLabel(value)`, plus a short hash of `value` whenever folding changed it: readable, and yet two
 * different names never fold to the same one ("dev_1" and "dev-1", "Dev" and "dev").
 */
export function distinctLabel(value: string): string {
  const folded = dnsLabel(value);
  if (folded === value || folded === "") return folded;
  return `${folded}-${createHash("sha256").update(value).digest("hex").slice(0, 6)}`;
}

/** Longest suffix a name gets after the prefix: "-dynamic-16". */
const LONGEST_SUFFIX = "-dynamic-16".length;

export function stackNames(project: string, stack: string): StackNames {
  const prefix = `${distinctLabel(project)}-${distinctLabel(stack)}`;
  if (!dnsLabel(project) || !dnsLabel(stack) || prefix.length + LONGEST_SUFFIX > 63) {
    throw new Error(
      `stack ${JSON.stringify(stack)} of project ${JSON.stringify(project)} gives the prefix ` +
        `${JSON.stringify(prefix)}: container host names need it ` +
        `to be 3 to ${63 - LONGEST_SUFFIX} letters, digits or dashes; rename the stack`,
    );
  }
  return {
    prefix,
    network: `${prefix}-net`,
    proxy: `${prefix}-proxy`,
    backend: (role, index) => `${prefix}-${role}-${index}`,
    image: (kind) => `${prefix}-${kind}:latest`,
    labels: (role) => [
      { label: "http-infra.project", value: project },
      { label: "http-infra.stack", value: stack },
      { label: "http-infra.role", value: role },
    ],
  };
}
