// The least-privilege rules of the CIS Docker Benchmark (v1.6.0, section 4 images, section 5
// container runtime) checked against `docker inspect` of every container of a deployed stack, or of
// every task's container on a swarm. A broken rule names the container and the rule; a rule the
// stack deliberately does not follow on a target is an exception, listed here with its reason and
// explained in docs/security.md (a unit test keeps the two in step).
import type Docker from "dockerode";
import { expect } from "vitest";
import { ACME_STORE_PATH } from "../../src/containers/tls";
import { TLS_FILES_DIR } from "../../src/tls";

export type Target = "containers" | "swarm";
/**
 * The stack's roles; on a swarm the proxy's per-node checks (src/swarm/proxyReady.ts); with HTTPS
 * on a single host the container that holds the proxy's certificate files (src/containers/tls.ts).
 */
export type Role = "proxy" | "static" | "dynamic" | "proxy-check" | "tls-files";

export interface InspectedContainer {
  /** The container's name (single host) or task's container name (swarm). */
  name: string;
  role: Role;
  info: Docker.ContainerInspectInfo;
}

/** What the stack was deployed with, where a rule depends on it. */
export interface StackExpectation {
  target: Target;
  /** The host port the proxy publishes. */
  proxyPort: number;
  /** With HTTPS on, the host port it publishes beside it. */
  httpsPort?: number;
  /** The host address it is bound to (single host); a swarm binds every interface. */
  proxyBindAddress?: string;
}

export interface Finding {
  container: string;
  rule: string;
  detail: string;
}

interface Rule {
  /** The rule's name in findings and in docs/security.md. */
  id: string;
  /** The CIS Docker Benchmark recommendations it stands for ("" for a rule of this stack's own). */
  cis: string;
  /** Why the container breaks it, or undefined when it follows it. */
  broken(container: InspectedContainer, stack: StackExpectation): string | undefined;
}

/** The parts of `docker inspect`'s HostConfig the rules read (Engine API ContainerInspect). */
interface HostConfig {
  Privileged?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  ReadonlyRootfs?: boolean;
  Binds?: string[] | null;
  Mounts?: { Type: string; Target: string; Source?: string }[] | null;
  SecurityOpt?: string[] | null;
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuQuota?: number;
  PidsLimit?: number | null;
  LogConfig?: { Type: string; Config?: Record<string, string> };
  NetworkMode?: string;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  UsernsMode?: string;
  Devices?: unknown[] | null;
  CgroupParent?: string;
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
}

const host = (container: InspectedContainer) => container.info.HostConfig as unknown as HostConfig;
/** Every host binding of the container's published ports. */
const bindings = (c: InspectedContainer) =>
  Object.values(host(c).PortBindings ?? {}).flatMap((list) => list ?? []);
const join = (values: readonly unknown[] | null | undefined) =>
  JSON.stringify(values ?? []).replace(/"/g, "");

/**
 * The Docker volumes a role may mount; everything else it writes to is a tmpfs. The proxy's
 * certificate files are uploaded into one before it starts (its root filesystem is read-only), and
 * mod_md keeps its store in another, which outlives the proxy (src/containers/tls.ts).
 */
const VOLUME_PATHS: Partial<Record<Role, readonly string[]>> = {
  proxy: [TLS_FILES_DIR, ACME_STORE_PATH],
  "tls-files": [TLS_FILES_DIR],
};

/** The rules, in the order findings are reported. */
export const RULES: readonly Rule[] = [
  {
    id: "user-not-root",
    cis: "4.1",
    broken: ({ info }) => {
      const user = info.Config.User ?? "";
      return /^(|root|0)(:.*)?$/.test(user)
        ? `runs as ${JSON.stringify(user || "root")}`
        : undefined;
    },
  },
  {
    id: "healthcheck",
    cis: "4.6",
    broken: ({ info }) => {
      const test = info.Config.Healthcheck?.Test ?? [];
      return test.length === 0 || test[0] === "NONE" ? "has no HEALTHCHECK" : undefined;
    },
  },
  {
    id: "not-privileged",
    cis: "5.4",
    broken: (c) => (host(c).Privileged ? "runs --privileged" : undefined),
  },
  {
    id: "capabilities-dropped",
    cis: "5.3",
    broken: (c) => {
      const drop = (host(c).CapDrop ?? []).map((cap) => cap.toUpperCase());
      const add = host(c).CapAdd ?? [];
      if (!drop.includes("ALL")) return `drops ${join(drop)}, not ALL`;
      return add.length > 0 ? `adds ${join(add)} back` : undefined;
    },
  },
  {
    id: "read-only-root",
    cis: "5.12",
    broken: (c) => (host(c).ReadonlyRootfs ? undefined : "has a writable root filesystem"),
  },
  {
    id: "declared-mounts-only",
    cis: "5.5, 5.31",
    broken: (c) => {
      const allowed = VOLUME_PATHS[c.role] ?? [];
      const found = new Set<string>();
      const mount = (type: string, target: string) => {
        if (type === "tmpfs") return;
        if (type === "volume" && allowed.includes(target)) return;
        found.add(`${type}:${target}`);
      };
      // "<host path or volume>:<target>[:options]": a host path starts with "/".
      for (const bind of host(c).Binds ?? []) {
        const [source, target = ""] = bind.split(":");
        mount(source.startsWith("/") ? "bind" : "volume", target);
      }
      for (const m of host(c).Mounts ?? []) mount(m.Type, m.Target);
      // What the engine mounted, whatever asked for it (anonymous volumes included).
      for (const m of c.info.Mounts ?? []) mount(m.Type ?? "", m.Destination);
      return found.size > 0 ? `mounts ${join([...found])}` : undefined;
    },
  },
  {
    id: "no-new-privileges",
    cis: "5.25",
    broken: (c) =>
      (host(c).SecurityOpt ?? []).some((opt) => /^no-new-privileges(:true|=true)?$/.test(opt))
        ? undefined
        : `security options ${join(host(c).SecurityOpt)} lack no-new-privileges`,
  },
  {
    id: "default-seccomp-apparmor",
    cis: "5.1, 5.21",
    broken: (c) => {
      const unconfined = (host(c).SecurityOpt ?? []).filter((opt) => /unconfined/.test(opt));
      return unconfined.length > 0 ? `runs ${join(unconfined)}` : undefined;
    },
  },
  {
    id: "memory-limit",
    cis: "5.10",
    broken: (c) => ((host(c).Memory ?? 0) > 0 ? undefined : "has no memory limit"),
  },
  {
    id: "no-swap-on-top",
    cis: "5.10",
    broken: (c) => {
      const { Memory: memory = 0, MemorySwap: swap = 0 } = host(c);
      // Without a memory limit there is nothing to add swap on top of (memory-limit says so).
      return memory === 0 || swap === memory
        ? undefined
        : `may swap: memory ${memory}, memory+swap ${swap}`;
    },
  },
  {
    id: "cpu-limit",
    cis: "5.11",
    broken: (c) =>
      (host(c).NanoCpus ?? 0) > 0 || (host(c).CpuQuota ?? 0) > 0 ? undefined : "has no CPU limit",
  },
  {
    id: "pids-limit",
    cis: "5.28",
    broken: (c) => ((host(c).PidsLimit ?? 0) > 0 ? undefined : "has no pids limit"),
  },
  {
    id: "log-rotation",
    cis: "",
    broken: (c) => {
      const { Type: type, Config: config = {} } = host(c).LogConfig ?? {};
      if (type === "local") return undefined;
      if (type === "json-file" && config["max-size"] && config["max-file"]) return undefined;
      return `logs with ${type} ${JSON.stringify(config)}: unbounded`;
    },
  },
  {
    id: "no-host-namespaces",
    cis: "5.9, 5.15, 5.16, 5.20, 5.30",
    broken: (c) => {
      const modes = {
        network: host(c).NetworkMode,
        pid: host(c).PidMode,
        ipc: host(c).IpcMode,
        uts: host(c).UTSMode,
        userns: host(c).UsernsMode,
      };
      const shared = Object.entries(modes).filter(([, mode]) => mode === "host");
      return shared.length > 0
        ? `shares the host's ${shared.map(([n]) => n).join(", ")}`
        : undefined;
    },
  },
  {
    id: "no-host-devices",
    cis: "5.17",
    broken: (c) =>
      (host(c).Devices ?? []).length > 0 ? `has devices ${join(host(c).Devices)}` : undefined,
  },
  {
    id: "default-cgroup",
    cis: "5.24",
    broken: (c) => (host(c).CgroupParent ? `runs under cgroup ${host(c).CgroupParent}` : undefined),
  },
  {
    // The published ports, on the host and in the container. (The images' EXPOSE lists can't
    // say: an image inherits its base's EXPOSE 80, and Dockerfiles have no way to take it back.)
    id: "unprivileged-ports",
    cis: "5.7",
    broken: (c) => {
      const low = Object.entries(host(c).PortBindings ?? {}).flatMap(([port, list]) =>
        [Number(port.split("/")[0]), ...(list ?? []).map((b) => Number(b.HostPort))]
          .filter((number) => number > 0 && number < 1024)
          .map(String),
      );
      return low.length > 0 ? `maps privileged ports ${join(low)}` : undefined;
    },
  },
  {
    id: "only-proxy-publishes",
    cis: "5.8",
    broken: (c, stack) => {
      const published = bindings(c).map((binding) => Number(binding.HostPort));
      if (c.role !== "proxy") {
        return published.length > 0 ? `publishes ${join(published)}` : undefined;
      }
      const expected = [stack.proxyPort, ...(stack.httpsPort ? [stack.httpsPort] : [])];
      const sorted = (ports: number[]) => join([...ports].sort((a, b) => a - b));
      return sorted(published) === sorted(expected)
        ? undefined
        : `publishes ${join(published)}, not only ${join(expected)}`;
    },
  },
  {
    id: "published-on-one-address",
    cis: "5.13",
    broken: (c, stack) => {
      if (c.role !== "proxy") return undefined;
      const addresses = bindings(c).map((binding) => binding.HostIp || "every interface");
      return addresses.every((address) => address === stack.proxyBindAddress)
        ? undefined
        : `binds ${join(addresses)}, not ${stack.proxyBindAddress ?? "one address"}`;
    },
  },
  {
    id: "restart-on-failure-5",
    cis: "5.14",
    broken: (c) => {
      const { Name: name, MaximumRetryCount: retries = 0 } = host(c).RestartPolicy ?? {};
      return name === "on-failure" && retries > 0 && retries <= 5
        ? undefined
        : `restart policy ${name}${retries ? `:${retries}` : ""}`;
    },
  },
];

/**
 * The rules the stack deliberately does not follow, per target, and why (docs/security.md says
 * more). An excepted rule that a container breaks is reported, not failed; a broken rule without
 * an exception fails the check.
 */
export const EXCEPTIONS: Readonly<Record<Target, Readonly<Record<string, string>>>> = {
  containers: {
    "pids-limit":
      "@pulumi/docker's Container has no pids limit (terraform-provider-docker v4.5.0 " +
      "docker_container has no pids_limit): Apache's ServerLimit/ThreadLimit and prefork's " +
      "MaxRequestWorkers bound the processes instead",
    "restart-on-failure-5":
      "unless-stopped, so that the stack comes back after a reboot or an engine restart; the " +
      "engine's restart back-off (doubling from 100 ms) slows a crash loop",
  },
  swarm: {
    "pids-limit":
      "@pulumi/docker's Service has no pids limit (docker_service's resources.limits has only " +
      "nano_cpus and memory_bytes)",
    "no-new-privileges":
      "neither @pulumi/docker's Service nor Docker 20.10's Swarm API can set it: the images carry " +
      "no setuid or setgid file instead, and every capability is dropped",
    "no-swap-on-top":
      "a service has no memory-swap setting: the engine gives each task twice its memory limit " +
      "as memory+swap",
    "published-on-one-address":
      "a host-mode published port listens on every interface of each node (Swarm's PortConfig " +
      "has no address); firewall the nodes",
    "restart-on-failure-5":
      "Swarm restarts the tasks (restart policy condition any); the task's container itself has " +
      "none",
  },
};

/**
 * The rules one role deliberately does not follow, whatever the target, and why (docs/security.md
 * says more).
 */
export const ROLE_EXCEPTIONS: Readonly<Partial<Record<Role, Readonly<Record<string, string>>>>> = {
  "tls-files": {
    "read-only-root":
      "the provider uploads a file by extracting a tar at / (CopyToContainer), which the engine " +
      "refuses on a read-only root filesystem; this container takes the upload of the proxy's " +
      "certificate files into their volume and is never started: it runs no process",
    "restart-on-failure-5":
      "never started, so no restart policy: a restart would start it (restart no, must_run false)",
  },
};

/** Every rule on every container: the failures, and the exceptions that applied. */
export function checkLeastPrivilege(
  containers: readonly InspectedContainer[],
  stack: StackExpectation,
): { failures: Finding[]; excepted: Finding[] } {
  const failures: Finding[] = [];
  const excepted: Finding[] = [];
  for (const container of containers) {
    for (const rule of RULES) {
      const detail = rule.broken(container, stack);
      if (detail === undefined) continue;
      const finding = { container: container.name, rule: rule.id, detail };
      const exception =
        EXCEPTIONS[stack.target][rule.id] ?? ROLE_EXCEPTIONS[container.role]?.[rule.id];
      (exception === undefined ? failures : excepted).push(finding);
    }
  }
  return { failures, excepted };
}

/** One line per finding: "<container> breaks <rule> (CIS x.y): <why>". */
export function formatFindings(findings: readonly Finding[]): string[] {
  const cis = (id: string) => RULES.find((rule) => rule.id === id)?.cis;
  return findings.map((finding) => {
    const reference = cis(finding.rule) ? ` (CIS ${cis(finding.rule)})` : "";
    return `${finding.container} breaks ${finding.rule}${reference}: ${finding.detail}`;
  });
}

/**
 * A task's role from its service's name: `<prefix>-proxy`, `<prefix>-static-<n>`,
 * `<prefix>-dynamic-<n>`, and the proxy's checks `<prefix>-proxy-<node>` (readyServiceName).
 */
export function roleOf(service: string, prefix: string): Role | undefined {
  if (service === `${prefix}-proxy`) return "proxy";
  const member = /^-(static|dynamic)-\d+$/.exec(service.slice(prefix.length));
  if (service.startsWith(prefix) && member) return member[1] as Role;
  return service.startsWith(`${prefix}-proxy-`) ? "proxy-check" : undefined;
}

/** The single-host stack's containers (label http-infra.stack=<stack>), inspected. */
export async function stackContainers(
  docker: Docker,
  stack: string,
): Promise<InspectedContainer[]> {
  const listed = await docker.listContainers({
    all: true,
    filters: { label: [`http-infra.stack=${stack}`] },
  });
  return Promise.all(
    listed.map(async (summary) => {
      const info = await docker.getContainer(summary.Id).inspect();
      const name = info.Name.replace(/^\//, "");
      const role = info.Config.Labels?.["http-infra.role"] as Role | undefined;
      if (!role)
        throw new Error(`container ${name} of stack ${stack} has no http-infra.role label`);
      return { name, role, info };
    }),
  );
}

/**
 * The containers of the stack's tasks on every node (their service name starts with `prefix`), as
 * each node's engine inspects them.
 */
export async function swarmTaskContainers(
  nodes: readonly { name: string; api: Docker }[],
  prefix: string,
): Promise<InspectedContainer[]> {
  const found: InspectedContainer[] = [];
  for (const node of nodes) {
    const listed = await node.api.listContainers({
      filters: { label: ["com.docker.swarm.service.name"] },
    });
    for (const summary of listed) {
      const service = summary.Labels["com.docker.swarm.service.name"];
      if (!service.startsWith(`${prefix}-`)) continue;
      const role = roleOf(service, prefix);
      if (!role) throw new Error(`task of ${service} on ${node.name}: no role in its name`);
      const info = await node.api.getContainer(summary.Id).inspect();
      found.push({ name: `${node.name}/${info.Name.replace(/^\//, "")}`, role, info });
    }
  }
  return found;
}

/**
 * Asserts that `expected` containers were inspected and that none breaks a rule without an
 * exception; prints what was checked and which exceptions applied.
 */
export function expectLeastPrivilege(
  containers: readonly InspectedContainer[],
  stack: StackExpectation,
  expected: number,
): void {
  expect(
    containers.map((container) => container.name),
    `the stack's containers (${expected})`,
  ).toHaveLength(expected);
  const { failures, excepted } = checkLeastPrivilege(containers, stack);
  const exceptions = [...new Set(excepted.map((finding) => finding.rule))];
  console.log(
    `[least privilege] ${stack.target}: ${containers.length} containers × ${RULES.length} rules, ` +
      `${failures.length} broken, excepted: ${exceptions.join(", ") || "none"}`,
  );
  expect(formatFindings(failures), "rules broken").toEqual([]);
}
