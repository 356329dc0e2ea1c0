// The one question swarm mode asks the manager before declaring anything: how many nodes the swarm
// has (see preflight.ts for why). Like src/engineNetworks.ts, the only direct call to the engine.
import Docker from "dockerode";

export type SwarmNodes = { count: number } | { count: undefined; why: string };

/**
 * The number of nodes of the swarm that DOCKER_HOST (or the local socket) manages, the engine the
 * provider talks to unless `docker:host` says otherwise. Never throws: the caller decides.
 */
export async function countSwarmNodes(): Promise<SwarmNodes> {
  try {
    return { count: (await new Docker().listNodes()).length };
  } catch (error) {
    return { count: undefined, why: (error as Error).message };
  }
}
