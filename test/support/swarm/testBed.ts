// A three-node Docker Swarm (1 manager + 2 workers) for the swarm e2e suites, made of
// Docker-in-Docker nodes on the host engine, plus a registry every node can pull from.
//
// What an unprivileged test machine allows shapes it: no --privileged (CAP_SYS_RESOURCE is
// withheld), so each node gets every other capability, no seccomp/AppArmor profile, the host's
// cgroup namespace with /sys/fs/cgroup read-write, a tmpfs on /run and a volume for
// /var/lib/docker. The kernel has no IPVS, so swarm suites use dnsrr endpoints and host-mode
// published ports: a node's NODE_PROXY_PORT is published on the host's 127.0.0.1 as that node's
// `proxyUrl`, its NODE_HTTPS_PORT as its `httpsPort`.
//
//   const bed = await startSwarmTestBed();
//   ... bed.manager (dockerode), bed.managerHost (DOCKER_HOST), bed.registry, bed.nodes ...
//   expect(await bed.remove()).toEqual([]);
import Docker from "dockerode";
import { listNodes } from "../harness/resources/engineApi";
import { ensureTestbedImage, TESTBED_IMAGES } from "./images";
import {
  NODE_API_PORT,
  NODE_BRIDGE_POOL,
  NODE_HTTPS_PORT,
  NODE_PROXY_PORT,
  NODES,
  REGISTRY_ADDRESS,
  REGISTRY_IP,
  REGISTRY_NAME,
  SWARM_OVERLAY_POOL,
  TESTBED_LABEL,
  TESTBED_NETWORK,
  TESTBED_SUBNET,
  type NodeLayout,
  type NodeRole,
} from "./layout";
import { acquireTestbedLock, releaseTestbedLock, testbedLockHolder } from "./ownerLock";
import { followStream, waitFor } from "./wait";

export { NODE_HTTPS_PORT, NODE_PROXY_PORT, REGISTRY_ADDRESS } from "./layout";

export interface SwarmNode {
  /** Container name, hostname and swarm node name. */
  name: string;
  hostname: string;
  role: NodeRole;
  /** The node's address on the bed's network (its swarm advertise address). */
  address: string;
  /** dockerode client for this node's own engine (on 127.0.0.1). */
  api: Docker;
  /** "tcp://127.0.0.1:<port>", the port from swarmTestBed.nodeApi in test/support/ports.ts. */
  apiHost: string;
  /** http://127.0.0.1:<port> reaching NODE_PROXY_PORT inside this node. */
  proxyUrl: string;
  /** The 127.0.0.1 port reaching NODE_HTTPS_PORT inside this node. */
  httpsPort: number;
}

export type NodeState = "ready" | "down";

const log = (message: string) => console.log(`[swarm testbed] ${message}`);

const seconds = (since: number) => (performance.now() - since) / 1000;

function nodeClient(layout: NodeLayout): Docker {
  return new Docker({ host: "127.0.0.1", port: layout.apiHostPort, protocol: "http" });
}

function toSwarmNode(layout: NodeLayout): SwarmNode {
  return {
    name: layout.name,
    hostname: layout.name,
    role: layout.role,
    address: layout.address,
    api: nodeClient(layout),
    apiHost: `tcp://127.0.0.1:${layout.apiHostPort}`,
    proxyUrl: `http://127.0.0.1:${layout.proxyHostPort}`,
    httpsPort: layout.httpsHostPort,
  };
}

/**
 * Removes every container, volume and network of a test bed (this run's or a crashed one's) from
 * the host engine and returns what is still there afterwards (nothing, normally).
 */
export async function removeTestbedFromHost(host: Docker): Promise<string[]> {
  const filters = JSON.stringify({ label: [TESTBED_LABEL] });
  const containers = await host.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      host.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreGone),
    ),
  );
  const { Volumes: volumes } = await host.listVolumes({ filters });
  await Promise.all(
    (volumes ?? []).map((volume) => host.getVolume(volume.Name).remove().catch(ignoreGone)),
  );
  const networks = await host.listNetworks({ filters });
  for (const network of networks) await host.getNetwork(network.Id).remove().catch(ignoreGone);
  return listTestbedLeftovers(host);
}

/** Something already gone (404) is what removal wants; anything else is an error. */
function ignoreGone(error: Error & { statusCode?: number }): void {
  if (error.statusCode !== 404) throw error;
}

/** Containers, volumes and networks of a test bed on the host engine, as "kind name" strings. */
export async function listTestbedLeftovers(host: Docker): Promise<string[]> {
  const filters = JSON.stringify({ label: [TESTBED_LABEL] });
  const [containers, { Volumes: volumes }, networks] = await Promise.all([
    host.listContainers({ all: true, filters }),
    host.listVolumes({ filters }),
    host.listNetworks({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]?.replace(/^\//, "")}`),
    ...(volumes ?? []).map((v) => `volume ${v.Name}`),
    ...networks.map((n) => `network ${n.Name}`),
  ];
}

async function createVolume(host: Docker, name: string) {
  await host.createVolume({ Name: name, Labels: { [TESTBED_LABEL]: "data" } });
  return name;
}

async function startRegistry(host: Docker): Promise<void> {
  const volume = await createVolume(host, `${REGISTRY_NAME}-data`);
  const container = await host.createContainer({
    name: REGISTRY_NAME,
    Hostname: REGISTRY_NAME,
    Image: TESTBED_IMAGES.registry.tag,
    Labels: { [TESTBED_LABEL]: "registry" },
    HostConfig: {
      Mounts: [{ Type: "volume", Source: volume, Target: "/var/lib/docker-registry" }],
    },
    NetworkingConfig: {
      EndpointsConfig: { [TESTBED_NETWORK]: { IPAMConfig: { IPv4Address: REGISTRY_IP } } },
    },
  });
  await container.start();
}

async function startNodeContainer(host: Docker, layout: NodeLayout): Promise<void> {
  const volume = await createVolume(host, `${layout.name}-data`);
  const container = await host.createContainer({
    name: layout.name,
    Hostname: layout.name,
    Image: TESTBED_IMAGES.node.tag,
    Env: [`SWARM_INSECURE_REGISTRY=${REGISTRY_ADDRESS}`, `SWARM_ADDRESS_POOL=${NODE_BRIDGE_POOL}`],
    Labels: { [TESTBED_LABEL]: "node", [`${TESTBED_LABEL}.role`]: layout.role },
    ExposedPorts: {
      [`${NODE_API_PORT}/tcp`]: {},
      [`${NODE_PROXY_PORT}/tcp`]: {},
      [`${NODE_HTTPS_PORT}/tcp`]: {},
    },
    HostConfig: {
      // Everything --privileged would give except CAP_SYS_RESOURCE, which such a machine withholds.
      CapAdd: ["ALL"],
      CapDrop: ["SYS_RESOURCE"],
      SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
      // The node's engine makes cgroups for its containers next to (below) its own.
      CgroupnsMode: "host",
      Binds: ["/sys/fs/cgroup:/sys/fs/cgroup:rw"],
      // containerd and dockerd keep sockets and pid files here; a restarted node starts clean.
      Tmpfs: { "/run": "" },
      // overlay2 can't stack on the node's overlay root: the engine's data needs a real volume.
      Mounts: [{ Type: "volume", Source: volume, Target: "/var/lib/docker" }],
      PortBindings: {
        [`${NODE_API_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(layout.apiHostPort) }],
        [`${NODE_PROXY_PORT}/tcp`]: [
          { HostIp: "127.0.0.1", HostPort: String(layout.proxyHostPort) },
        ],
        [`${NODE_HTTPS_PORT}/tcp`]: [
          { HostIp: "127.0.0.1", HostPort: String(layout.httpsHostPort) },
        ],
      },
    } as Docker.HostConfig & { CgroupnsMode: string },
    NetworkingConfig: {
      EndpointsConfig: { [TESTBED_NETWORK]: { IPAMConfig: { IPv4Address: layout.address } } },
    },
  });
  await container.start();
}

export class SwarmTestBed {
  readonly nodes: SwarmNode[] = NODES.map(toSwarmNode);
  readonly manager: Docker = this.nodes[0].api;
  readonly managerHost: string = this.nodes[0].apiHost;
  /** The registry's address for the nodes' engines (push from the manager, pull on every node). */
  readonly registry = REGISTRY_ADDRESS;
  /** Seconds per start-up phase. */
  readonly timings: Record<string, number> = {};

  constructor(readonly host: Docker = new Docker()) {}

  node(name: string): SwarmNode {
    const node = this.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`swarm test bed: no node named ${name}`);
    return node;
  }

  get workers(): SwarmNode[] {
    return this.nodes.filter((node) => node.role === "worker");
  }

  /** The swarm's view of a node: "ready", "down", "unknown" or "disconnected". */
  async nodeState(name: string): Promise<string | undefined> {
    const nodes = await listNodes(this.manager);
    const node = nodes.find((candidate) => candidate.Description.Hostname === name);
    return node?.Status.State;
  }

  /** Waits until the manager reports the node in that state; returns the seconds it took. */
  async waitForNodeState(name: string, state: NodeState, timeoutMs = 60_000): Promise<number> {
    const started = performance.now();
    await waitFor(`swarm node ${name} to be ${state}`, timeoutMs, 250, async () =>
      (await this.nodeState(name).catch(() => undefined)) === state ? true : undefined,
    );
    return seconds(started);
  }

  /**
   * Stops a node's container as a lost machine: by default a power cut, where the node vanishes
   * from the network with every connection still open and its engine can't stop its tasks or say
   * goodbye to the manager. Returns at once; the swarm notices by missed heartbeats (see
   * waitForNodeState). `graceSeconds` stops it the way `docker stop` does instead.
   *
   * The cut takes the node off the bed's network first, then kills it. Killed while still on the
   * network, its processes' sockets would be closed by the kernel, and the FIN or RST each sends
   * would tell every peer (the proxies' pooled connections among them) that the connection is
   * gone: a gentler loss than a machine that loses power or its link, whose peers hear nothing.
   * While it is stopped the node is attached again at its address, so startNode brings it back
   * as it was.
   */
  async stopNode(name: string, options: { graceSeconds?: number } = {}): Promise<void> {
    const node = this.node(name);
    const container = this.host.getContainer(name);
    if (options.graceSeconds !== undefined) {
      await container.stop({ t: options.graceSeconds });
      return;
    }
    const network = this.host.getNetwork(TESTBED_NETWORK);
    await network.disconnect({ Container: name, Force: true });
    await container.kill();
    await container.wait();
    await network.connect({
      Container: name,
      EndpointConfig: { IPAMConfig: { IPv4Address: node.address } },
    });
  }

  /** Starts a stopped node again and waits until its engine answers and the swarm has it Ready. */
  async startNode(name: string, timeoutMs = 60_000): Promise<number> {
    const node = this.node(name);
    const started = performance.now();
    await this.host.getContainer(name).start();
    await waitFor(`the engine of ${name}`, timeoutMs, 200, () => node.api.ping().then(() => true));
    await this.waitForNodeState(name, "ready", timeoutMs);
    return seconds(started);
  }

  /**
   * Copies images from the host engine into the manager (or every node), `docker save | docker
   * load`, skipping those a node already has. Builds in swarm mode run on the manager, so it needs
   * the base images; the workers pull what the manager pushes to the registry.
   */
  async loadImages(images: string[], options: { to?: "manager" | "all" } = {}): Promise<void> {
    const started = performance.now();
    const targets = options.to === "all" ? this.nodes : [this.nodes[0]];
    const hostIds = new Map<string, string>();
    for (const image of images) {
      const inspected = await this.host
        .getImage(image)
        .inspect()
        .catch(() => {
          throw new Error(`swarm test bed: image ${image} is not on the host engine`);
        });
      hostIds.set(image, inspected.Id);
    }
    await Promise.all(
      targets.map(async (node) => {
        const missing = [];
        for (const image of images) {
          const there = await node.api
            .getImage(image)
            .inspect()
            .catch(() => undefined);
          if (there?.Id !== hostIds.get(image)) missing.push(image);
        }
        if (missing.length === 0) return;
        const getImages = (this.host as unknown as ImageExport).getImages.bind(this.host);
        const archive = await getImages({ names: missing });
        await followStream(node.api, await node.api.loadImage(archive, { quiet: true }));
      }),
    );
    this.timings.loadImages = (this.timings.loadImages ?? 0) + seconds(started);
    log(
      `loaded ${images.join(", ")} into ${options.to ?? "manager"}: ${seconds(started).toFixed(1)}s`,
    );
  }

  private removal: Promise<string[]> | undefined;

  /**
   * Removes the whole bed from the host and gives up the lock; returns what is left (nothing,
   * normally). Once only: calling it again returns the first answer and touches nothing, since by
   * then the host may hold another suite's bed. A bed whose lock another process holds is not
   * removed (that process's bed is on the host).
   */
  remove(): Promise<string[]> {
    this.removal ??= (async () => {
      const holder = testbedLockHolder();
      if (holder !== undefined && holder !== process.pid) {
        return [`test bed lock held by process ${holder}: its bed was left alone`];
      }
      const started = performance.now();
      const leftovers = await removeTestbedFromHost(this.host);
      releaseTestbedLock();
      const left = leftovers.length ? `, left: ${leftovers.join(", ")}` : "";
      log(`removed in ${seconds(started).toFixed(1)}s${left}`);
      return leftovers;
    })();
    return this.removal;
  }
}

/** dockerode's GET /images/get (docker save), missing from its type definitions. */
interface ImageExport {
  getImages(options: { names: string[] }): Promise<NodeJS.ReadableStream>;
}

export interface StartOptions {
  /** How long to wait for another process's bed to go before giving up. */
  ownerTimeoutMs?: number;
}

/**
 * Starts a fresh bed: waits for the test bed lock (one bed per host; a suite still using one keeps
 * it until its remove()), removes leftovers of an earlier run, builds the node and registry images if
 * their sources changed, starts the registry and the nodes in parallel, makes the swarm, and waits
 * until every node is Ready. Prints how long each phase took.
 */
export async function startSwarmTestBed(options: StartOptions = {}): Promise<SwarmTestBed> {
  const bed = new SwarmTestBed();
  const { host } = bed;
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    bed.timings[name] = seconds(started);
    return result;
  };
  const started = performance.now();
  // Outside the try: a bed we never owned is not ours to remove.
  await phase("wait", () => acquireTestbedLock(options.ownerTimeoutMs ?? 15 * 60_000, log));
  try {
    await phase("clean", () => removeTestbedFromHost(host));
    await phase("images", () =>
      Promise.all([ensureTestbedImage(host, "node"), ensureTestbedImage(host, "registry")]),
    );
    await phase("network", () =>
      host.createNetwork({
        Name: TESTBED_NETWORK,
        Driver: "bridge",
        IPAM: { Config: [{ Subnet: TESTBED_SUBNET }] },
        Labels: { [TESTBED_LABEL]: "network" },
      }),
    );
    await phase("containers", () =>
      Promise.all([startRegistry(host), ...NODES.map((node) => startNodeContainer(host, node))]),
    );
    await phase("engines", () =>
      Promise.all(
        bed.nodes.map((node) =>
          waitFor(`the engine of ${node.name}`, 60_000, 200, () =>
            node.api.ping().then(() => true),
          ),
        ),
      ),
    );
    await phase("swarm", () => formSwarm(bed));
    log(
      `started in ${seconds(started).toFixed(1)}s (` +
        Object.entries(bed.timings)
          .map(([name, value]) => `${name} ${value.toFixed(1)}s`)
          .join(", ") +
        ")",
    );
    return bed;
  } catch (error) {
    await bed.remove().catch(() => undefined);
    throw error;
  }
}

/** swarm init on the manager, swarm join on the workers, then every node Ready. */
async function formSwarm(bed: SwarmTestBed): Promise<void> {
  const [manager, ...workers] = bed.nodes;
  await manager.api.swarmInit({
    ListenAddr: `0.0.0.0:2377`,
    AdvertiseAddr: `${manager.address}:2377`,
    DefaultAddrPool: [SWARM_OVERLAY_POOL],
    SubnetSize: 24,
  });
  // The Engine API's SwarmInspect answer, the field read here; dockerode types it `any`.
  const swarm = (await manager.api.swarmInspect()) as { JoinTokens: { Worker: string } };
  await Promise.all(
    workers.map((worker) =>
      worker.api.swarmJoin({
        ListenAddr: "0.0.0.0:2377",
        AdvertiseAddr: `${worker.address}:2377`,
        RemoteAddrs: [`${manager.address}:2377`],
        JoinToken: swarm.JoinTokens.Worker,
      }),
    ),
  );
  await Promise.all(bed.nodes.map((node) => bed.waitForNodeState(node.name, "ready", 60_000)));
}
