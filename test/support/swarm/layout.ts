// Names, addresses and ports of the swarm test bed (test/support/swarm/testBed.ts). Every host
// port is bound to 127.0.0.1 and comes from the bed's range in test/support/ports.ts.
import { HOST_PORTS } from "../ports";

/** Label on every container, volume and network of the test bed: what teardown looks for. */
export const TESTBED_LABEL = "http-infra.swarm-testbed";

export const TESTBED_NETWORK = "http-infra-swarm-net";
/**
 * The bed's own bridge network on the host engine (the nodes' "underlay"). Fixed, so that nodes
 * keep their addresses across a stop and start (a swarm remembers its peers by address). Outside
 * 10.217.0.0/16, where the program picks stack networks, and outside the nodes' inner pools below.
 */
export const TESTBED_SUBNET = process.env.SWARM_TESTBED_SUBNET ?? "10.218.0.0/24";
/** Where each node's engine takes the subnets of its local bridges (docker0, docker_gwbridge). */
export const NODE_BRIDGE_POOL = "10.219.0.0/16";
/** Where the swarm takes overlay subnets that a network does not set itself. */
export const SWARM_OVERLAY_POOL = "10.220.0.0/16";

export const REGISTRY_NAME = "http-infra-swarm-registry";
/** The registry as the nodes' engines see it; each node lists it under insecure-registries. */
export const REGISTRY_ADDRESS = `${REGISTRY_NAME}:5000`;

/**
 * The port inside every node where a stack's proxy publishes in host mode (the program's default
 * `proxyPort`). The host reaches it on each node at that node's `proxyUrl`.
 */
export const NODE_PROXY_PORT = 8080;

/**
 * The port inside every node where a stack with TLS publishes HTTPS in host mode (the program's
 * default `httpsPort`). The host reaches it on each node at that node's `httpsPort`.
 */
export const NODE_HTTPS_PORT = 8443;

/** The port each node's engine API listens on, inside the bed's network. */
export const NODE_API_PORT = 2375;

export type NodeRole = "manager" | "worker";

export interface NodeLayout {
  /** Container name, also the node's hostname and so its swarm node name. */
  name: string;
  role: NodeRole;
  /** Fixed address on the bed's network. */
  address: string;
  /** 127.0.0.1 port of the node's engine API. */
  apiHostPort: number;
  /** 127.0.0.1 port of the node's NODE_PROXY_PORT. */
  proxyHostPort: number;
  /** 127.0.0.1 port of the node's NODE_HTTPS_PORT. */
  httpsHostPort: number;
}

/** The node's entry in one of the bed's port lists; a node without one is an error. */
function hostPort(list: "nodeApi" | "nodeProxy" | "nodeHttps", index: number): number {
  const port = HOST_PORTS.swarmTestBed.ports[list][index];
  if (port === undefined) {
    throw new Error(`test/support/ports.ts: swarmTestBed.${list} has no port for node ${index}`);
  }
  return port;
}

function addressInSubnet(subnet: string, hostNumber: number): string {
  const [base] = subnet.split("/");
  const octets = base.split(".").map(Number);
  octets[3] += hostNumber;
  return octets.join(".");
}

/** The manager first, then the workers: 1 manager + 2 workers. */
export const NODES: readonly NodeLayout[] = [
  { name: "http-infra-swarm-manager", role: "manager", index: 0 },
  { name: "http-infra-swarm-worker-1", role: "worker", index: 1 },
  { name: "http-infra-swarm-worker-2", role: "worker", index: 2 },
].map(({ name, role, index }) => ({
  name,
  role: role as NodeRole,
  // .1 is the bridge's gateway; the registry takes .9.
  address: addressInSubnet(TESTBED_SUBNET, 10 + index),
  apiHostPort: hostPort("nodeApi", index),
  proxyHostPort: hostPort("nodeProxy", index),
  httpsHostPort: hostPort("nodeHttps", index),
}));

export const REGISTRY_IP = addressInSubnet(TESTBED_SUBNET, 9);
