// What swarm mode checks before declaring anything. Every node that runs a task must be able to
// get its image; without a registry the images exist only on the engine that built them, so only a
// one-node swarm can run them.
import { proxyNodes } from "./proxyReady";
import { listSwarmNodes, type SwarmNode, type SwarmNodes } from "./swarmNodes";

/** Throws, naming the setting to change, when the swarm can't run the stack as configured. */
export function checkSwarmNodes(swarm: SwarmNodes, registry: string | undefined): SwarmNode[] {
  if (swarm.nodes === undefined) {
    throw new Error(
      `deployTarget is swarm, but the Docker engine did not list the swarm's nodes (${swarm.why}); ` +
        `point DOCKER_HOST (or docker:host) at a swarm manager`,
    );
  }
  if (registry === undefined && swarm.nodes.length > 1) {
    throw new Error(
      `registry is unset, but the swarm has ${swarm.nodes.length} nodes: every node must pull the ` +
        `images, so set registry (e.g. 127.0.0.1:5000) for the program to push them there; ` +
        `without a registry only a one-node swarm is supported`,
    );
  }
  return swarm.nodes;
}

/**
 * The nodes that run the proxy, once the swarm passed the check (and has such a node: see
 * proxyNodes); every swarm resource waits for it.
 */
export async function swarmPreflight(
  registry: string | undefined,
  proxyNodeLabel: string | undefined,
): Promise<SwarmNode[]> {
  return proxyNodes(checkSwarmNodes(await listSwarmNodes(), registry), proxyNodeLabel);
}
