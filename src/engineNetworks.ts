// The one thing the program asks the Docker engine directly: which subnets its networks already
// use, so the stack's subnet can be chosen free (or a configured one rejected, naming
// networkSubnet) before any resource exists. The Docker provider offers no data source that lists
// networks, and Docker's own error ("Pool overlaps with other one on this address space") would
// name neither the key nor the network in the way.
import Docker from "dockerode";
import type { EngineNetwork } from "./addressing";

export type EngineNetworks = { networks: EngineNetwork[] } | { networks: undefined; why: string };

/**
 * The engine's networks and their IPv4/IPv6 subnets. It talks to the engine that DOCKER_HOST names
 * (or the local socket), the one the Docker provider uses unless `docker:host` says otherwise.
 * Never throws: an engine that can't be asked is reported, and the caller decides.
 */
export async function listEngineNetworks(): Promise<EngineNetworks> {
  try {
    const networks = await new Docker().listNetworks();
    return {
      networks: networks.map((network) => ({
        name: network.Name,
        subnets: (network.IPAM?.Config ?? []).flatMap((config) =>
          config.Subnet ? [config.Subnet] : [],
        ),
      })),
    };
  } catch (error) {
    return { networks: undefined, why: (error as Error).message };
  }
}
