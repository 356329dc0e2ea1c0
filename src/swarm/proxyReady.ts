// What `pulumi up` waits for on a swarm: every node's proxy running the new configuration. The
// proxy is a global service (one task per node), and the provider can't wait for one: its schema
// refuses converge_config beside mode.0.global (terraform-provider-docker
// internal/provider/resource_docker_service.go, ConflictsWith). It can wait for a replicated
// service. So each node that runs a proxy task gets a small one, pinned to that node
// (`node.id==…`), with a convergeConfig: its task is healthy, and Swarm counts it as running, only
// once the proxy on its node answers /proxy-healthz with this configuration's id (X-Proxy-Config).
// The check is updated with every change of the proxy's configuration, after the proxy, so the
// provider returns when that node's proxy runs it, or fails on the check named after the node.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { PROXY_CHECK_LIMITS, WRITABLE_PATHS } from "../hardening";
import { dnsLabel, PROXY_CHECK_NODE_LABEL, type StackNames } from "../naming";
import { PROXY_PORT } from "../proxyEnvironment";
import { containerSpecHardening, taskSpecHardening } from "./hardening";
import { restartPolicy, STOP_GRACE_PERIOD } from "./policies";
import type { SwarmNode } from "./swarmNodes";

/**
 * The nodes that run a proxy task: the active ones (Swarm places no new task on a paused or
 * drained node, so a global service has none there), with the proxyNodeLabel if one is set.
 */
export function proxyNodes(nodes: readonly SwarmNode[], label: string | undefined): SwarmNode[] {
  const [key, value] =
    label === undefined
      ? []
      : [label.slice(0, label.indexOf("=")), label.slice(label.indexOf("=") + 1)];
  const chosen = nodes.filter(
    (node) => node.availability === "active" && (key === undefined || node.labels[key] === value),
  );
  if (chosen.length === 0) {
    const listed = nodes.map((node) => `${node.hostname} (${node.availability})`).join(", ");
    throw new Error(
      label === undefined
        ? `the swarm has no active node to run the proxy on (nodes: ${listed})`
        : `proxyNodeLabel ${label} is on no active node of the swarm (nodes: ${listed}): ` +
            `label one (docker node update --label-add ${label} <node>) or change proxyNodeLabel`,
    );
  }
  return chosen;
}

/** The names of the secrets the proxy mounts, which carry a hash of their content (secret.ts). */
export interface ProxySecretNames {
  password?: string;
  /** The certificate's and the key's, with tlsMode given. */
  tls?: readonly string[];
}

/**
 * A short digest of what makes the proxy's configuration: its environment (the members, the
 * settings), its image and the secrets it mounts. Any change to one of them is a new configuration.
 */
export function proxyConfigDigest(
  env: Readonly<Record<string, string>>,
  image: string,
  secrets: ProxySecretNames,
): string {
  const sorted = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = JSON.stringify({
    env: sorted,
    image,
    secretName: secrets.password ?? null,
    // Left out without TLS, so that a stack without it keeps its digest (and its proxy tasks).
    ...(secrets.tls && secrets.tls.length > 0 ? { tlsSecretNames: secrets.tls } : {}),
  });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * The configuration id the proxy task on a node reports: Swarm expands `{{.Node.ID}}` in a
 * service's env per task (https://docs.docker.com/reference/cli/docker/service/create/#create-services-using-templates),
 * so each proxy names its node, and a node's check can't be satisfied by another node's proxy.
 */
export const PROXY_CONFIG_ID_TEMPLATE = (digest: string) => `{{.Node.ID}}-${digest}`;
const configIdOn = (node: SwarmNode, digest: string) => `${node.id}-${digest}`;

/**
 * The check's service name: `<proxy>-ready-<hostname>` when that is a valid Swarm service name
 * (a DNS label, 63 characters at most), else the proxy's name and as much of the node's id as fits.
 */
export function readyServiceName(names: StackNames, node: SwarmNode): string {
  const readable = `${names.proxy}-ready-${dnsLabel(node.hostname)}`;
  if (dnsLabel(node.hostname) !== "" && readable.length <= 63) return readable;
  return `${names.proxy}-${node.id.toLowerCase().slice(0, 63 - names.proxy.length - 1)}`;
}

/**
 * The check's health command (`sh -c`): finds the proxy task on its node among the proxy service's
 * tasks on the stack's network (`tasks.<service>`, Swarm's DNS), by the id it reports on its port
 * inside the task, and remembers its address so that later probes ask that one proxy only (in the
 * check's one writable path, a tmpfs). Exits 0 only when that proxy reports `expected`.
 */
export function readyProbe(
  proxyService: string,
  expected: string,
  port: number = PROXY_PORT,
  // A path inside the check's container, on its tmpfs: the rest of its root filesystem is read-only.
  memo = `${WRITABLE_PATHS.proxyCheck[0].target}/proxy-address`,
): string {
  return [
    `want='X-Proxy-Config: ${expected}'`,
    `ask() { curl -fsS --max-time 1 -o /dev/null -D - "http://$1:${port}/proxy-healthz" | tr -d '\\r' | grep -qixF "$want"; }`,
    `ip=$(cat ${memo} 2>/dev/null) && ask "$ip" && exit 0`,
    `for ip in $(getent ahostsv4 tasks.${proxyService} | cut -d' ' -f1 | sort -u); do`,
    `  ask "$ip" && echo "$ip" > ${memo} && exit 0`,
    `done`,
    `exit 1`,
  ].join("\n");
}

/**
 * The platform Docker's client puts in a service's placement when it creates one from a registry
 * image (docker/docker client/service_create.go resolveContainerSpecImage: the image's platforms as
 * the registry lists them, Go's names, the architecture cleared for arm), for an image built for
 * this node. Stated, the provider reads back what it sent: left out, the first `pulumi up` after a
 * create would see the platforms it did not send and update every check once. Node and image
 * architectures are compared the way Swarm's scheduler does (moby/swarmkit
 * manager/scheduler/filter.go PlatformFilter.platformEqual: x86_64 is amd64, aarch64 is arm64).
 */
export function imagePlatform(node: SwarmNode): { os: string; architecture: string } {
  const { os, architecture } = node.platform;
  const goArch: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };
  const named = goArch[architecture] ?? architecture;
  return { os, architecture: named === "arm" || named.startsWith("armv") ? "" : named };
}

/**
 * The check's `forceUpdate`: what Swarm holds, raised by one when the node is up but its check has
 * not settled (an `up` that changed the proxy while the node was down failed on it). Without the
 * raise, the next `up` would find nothing to change: the failed update stored the new spec (with
 * an initialization error), and the bridge answers the empty update that clears the error without
 * calling the provider (pulumi/pulumi-terraform-bridge pkg/tfbridge/provider.go, Update: `diff ==
 * nil`), so `up` would return before that node's proxy runs the configuration. Raised, the check is
 * updated (`docker service update --force`) and the provider waits for it again. Undefined for a
 * check that does not exist yet: Swarm starts the counter at 0, which the provider reads back.
 */
export function checkForceUpdate(node: SwarmNode, serviceName: string): number | undefined {
  const check = node.proxyChecks[serviceName];
  if (check === undefined) return undefined;
  return check.settled || node.state !== "ready" ? check.forceUpdate : check.forceUpdate + 1;
}

/**
 * How long a check waits: the proxy rolls one node at a time, and each node takes its old task's
 * stop, the new one's start and health check, and the 15 s monitor window.
 */
export function readyTimeoutSeconds(nodeCount: number): number {
  return 60 + 30 * nodeCount;
}

/**
 * A whole number of seconds as the provider reads a duration back (terraform-provider-docker
 * resource_docker_service_structures.go shortDur: Go's Duration.String() without a trailing
 * "0s"), so that the state read back equals what the program sends: "2m30s", "3m", "45s".
 */
export function shortDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `${rest}s`;
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}

export interface ProxyReadyArgs {
  names: StackNames;
  nodes: readonly SwarmNode[];
  proxy: docker.Service;
  /** The proxy's image: every node that runs the proxy has it, with curl and getent. */
  image: pulumi.Input<string>;
  network: docker.Network;
  digest: pulumi.Input<string>;
}

/** One check per proxy node; each depends on the proxy, so it is updated after it. */
export function proxyReadyChecks(args: ProxyReadyArgs): docker.Service[] {
  const { names, nodes, proxy } = args;
  const timeout = shortDuration(readyTimeoutSeconds(nodes.length));
  return nodes.map(
    (node) =>
      new docker.Service(
        `proxy-ready-${node.hostname}`,
        {
          name: readyServiceName(names, node),
          labels: [
            ...names.labels("proxy"),
            { label: PROXY_CHECK_NODE_LABEL, value: node.hostname },
          ],
          taskSpec: {
            forceUpdate: checkForceUpdate(node, readyServiceName(names, node)),
            // Least privilege as every task of the stack (src/hardening.ts), within limits of
            // its own.
            ...taskSpecHardening(PROXY_CHECK_LIMITS),
            containerSpec: {
              ...containerSpecHardening("proxyCheck"),
              image: args.image,
              // Idle until stopped; the health command does the work. `wait` returns on the stop
              // signal, the image's SIGWINCH (Apache's graceful stop) or SIGTERM, so a stop takes
              // no grace period (PID 1 ignores a signal it has no handler for).
              commands: ["sh", "-c", "trap 'exit 0' TERM WINCH; sleep infinity & wait"],
              healthcheck: {
                tests: [
                  "CMD-SHELL",
                  pulumi
                    .output(args.digest)
                    .apply((digest) => readyProbe(names.proxy, configIdOn(node, digest))),
                ],
                interval: "2s",
                timeout: "5s",
                // Failed probes count only after this: the proxy may take the whole rollout to
                // reach this node. The first probe that passes makes the task healthy.
                startPeriod: timeout,
                retries: 3,
              },
              stopGracePeriod: STOP_GRACE_PERIOD,
            },
            networksAdvanceds: [{ id: args.network.id }],
            placement: {
              constraints: [`node.id==${node.id}`],
              platforms: [imagePlatform(node)],
            },
            restartPolicy,
          },
          mode: { replicated: { replicas: 1 } },
          updateConfig: { parallelism: 1, order: "start-first", failureAction: "pause" },
          // The provider waits until the new task runs, that is, is healthy (Swarm starts a task
          // with a health check as running only once it is healthy).
          convergeConfig: { delay: "2s", timeout },
        },
        // Updated after the proxy; a fixed name can't exist twice; a new network replaces it,
        // first (see members.ts).
        { dependsOn: [proxy], deleteBeforeReplace: true, replaceWith: [args.network] },
      ),
  );
}
