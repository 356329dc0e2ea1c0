// The one question swarm mode asks the manager before declaring anything: which nodes the swarm
// has, and where each node's proxy check stands (see preflight.ts for why, and proxyReady.ts for
// what each node gets). Like src/engineNetworks.ts, the only direct call to the engine.
import Docker from "dockerode";
import { PROXY_CHECK_NODE_LABEL } from "../naming";

/** A proxy check service as the manager holds it, as far as the next `up` needs to know. */
export interface ProxyCheckState {
  /** TaskTemplate.ForceUpdate, the counter that `docker service update --force` raises. */
  forceUpdate: number;
  /** Whether a task of its current spec runs: its node's proxy reported the configuration. */
  settled: boolean;
}

/** A node as the manager lists it (`docker node ls`, the fields the program uses). */
export interface SwarmNode {
  id: string;
  hostname: string;
  /** The node's labels (`docker node update --label-add`), which proxyNodeLabel matches. */
  labels: Readonly<Record<string, string>>;
  /** "active", "pause" or "drain": the scheduler places new tasks on active nodes only. */
  availability: string;
  /** "ready", or "down" (missed heartbeats), "unknown", "disconnected". */
  state: string;
  /** The node's OS and architecture as its engine reports them (`uname -m`: "x86_64"). */
  platform: { os: string; architecture: string };
  /** The proxy checks placed on this node, of every stack on the swarm, by service name. */
  proxyChecks: Readonly<Record<string, ProxyCheckState>>;
}

export type SwarmNodes = { nodes: SwarmNode[] } | { nodes: undefined; why: string };

/** The Engine API's answers (v1.41), the fields read here; dockerode types them `any`. */
interface ListedNode {
  ID: string;
  Description?: { Hostname?: string; Platform?: { OS?: string; Architecture?: string } };
  Spec?: { Labels?: Record<string, string>; Availability?: string };
  Status?: { State?: string };
}
interface TaskSpec {
  ContainerSpec?: { Healthcheck?: { Test?: string[] } };
  ForceUpdate?: number;
}
interface ListedService {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string>; TaskTemplate?: TaskSpec };
}
interface ListedTask {
  ServiceID: string;
  Spec?: TaskSpec;
  Status?: { State?: string };
}

/**
 * The proxy checks on the swarm, with the node (hostname) each is placed on. A check has settled
 * when a task of its current spec runs: its health command names the configuration (proxyReady.ts
 * readyProbe), and Swarm counts a task with a health check as running only once it is healthy.
 */
async function listProxyChecks(docker: Docker) {
  const services = (await docker.listServices({
    filters: { label: [PROXY_CHECK_NODE_LABEL] },
  })) as ListedService[];
  if (services.length === 0) return [];
  const tasks = (await docker.listTasks({
    filters: { service: services.map((s) => s.ID), "desired-state": ["running"] },
  })) as ListedTask[];
  const probe = (spec?: TaskSpec) => JSON.stringify(spec?.ContainerSpec?.Healthcheck?.Test ?? null);
  return services.map((service) => ({
    node: service.Spec?.Labels?.[PROXY_CHECK_NODE_LABEL] ?? "",
    name: service.Spec?.Name ?? service.ID,
    state: {
      forceUpdate: service.Spec?.TaskTemplate?.ForceUpdate ?? 0,
      settled: tasks.some(
        (task) =>
          task.ServiceID === service.ID &&
          task.Status?.State === "running" &&
          probe(task.Spec) === probe(service.Spec?.TaskTemplate),
      ),
    },
  }));
}

/**
 * The nodes of the swarm that DOCKER_HOST (or the local socket) manages, the engine the provider
 * talks to unless `docker:host` says otherwise. Never throws: the caller decides.
 */
export async function listSwarmNodes(): Promise<SwarmNodes> {
  try {
    const docker = new Docker();
    const listed = (await docker.listNodes()) as ListedNode[];
    const checks = await listProxyChecks(docker);
    return {
      nodes: listed.map((node) => {
        const hostname = node.Description?.Hostname ?? node.ID;
        return {
          id: node.ID,
          hostname,
          labels: node.Spec?.Labels ?? {},
          availability: node.Spec?.Availability ?? "active",
          state: node.Status?.State ?? "unknown",
          platform: {
            os: node.Description?.Platform?.OS ?? "",
            architecture: node.Description?.Platform?.Architecture ?? "",
          },
          proxyChecks: Object.fromEntries(
            checks.filter((check) => check.node === hostname).map((c) => [c.name, c.state]),
          ),
        };
      }),
    };
  } catch (error) {
    return { nodes: undefined, why: (error as Error).message };
  }
}
