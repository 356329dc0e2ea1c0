// The one question swarm mode asks the manager before declaring anything: which nodes the swarm
// has (see preflight.ts for why, and proxyReady.ts for what each node gets). Like
// src/engineNetworks.ts, the only direct call to the engine.
import Docker from "dockerode";

/** A node as the manager lists it (`docker node ls`, the fields the program uses). */
export interface SwarmNode {
  id: string;
  hostname: string;
  /** The node's labels (`docker node update --label-add`), which proxyNodeLabel matches. */
  labels: Readonly<Record<string, string>>;
  /** "active", "pause" or "drain": the scheduler places new tasks on active nodes only. */
  availability: string;
  /** The node's OS and architecture as its engine reports them (`uname -m`: "x86_64"). */
  platform: { os: string; architecture: string };
}

export type SwarmNodes = { nodes: SwarmNode[] } | { nodes: undefined; why: string };

/**
 * The nodes of the swarm that DOCKER_HOST (or the local socket) manages, the engine the provider
 * talks to unless `docker:host` says otherwise. Never throws: the caller decides.
 */
export async function listSwarmNodes(): Promise<SwarmNodes> {
  try {
    // NodeList (Engine API v1.41), the fields read here; dockerode types the answer `any`.
    const listed = (await new Docker().listNodes()) as {
      ID: string;
      Description?: { Hostname?: string; Platform?: { OS?: string; Architecture?: string } };
      Spec?: { Labels?: Record<string, string>; Availability?: string };
    }[];
    return {
      nodes: listed.map((node) => ({
        id: node.ID,
        hostname: node.Description?.Hostname ?? node.ID,
        labels: node.Spec?.Labels ?? {},
        availability: node.Spec?.Availability ?? "active",
        platform: {
          os: node.Description?.Platform?.OS ?? "",
          architecture: node.Description?.Platform?.Architecture ?? "",
        },
      })),
    };
  } catch (error) {
    return { nodes: undefined, why: (error as Error).message };
  }
}
