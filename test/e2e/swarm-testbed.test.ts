// The swarm test bed itself (test/support/swarm/testBed.ts), before any suite trusts it: three
// nodes, overlay networking across them, dnsrr names, host-mode ports reached through 127.0.0.1,
// the registry, losing and regaining a node, and a teardown that leaves nothing on the host.
// Required in CI; its own bed, on the bed's ports (swarmTestBed in test/support/ports.ts).
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithDocker } from "../support/e2eStack";
import { listNodes, listTasks } from "../support/harness/resources/engineApi";
import { execInContainer } from "../support/swarm/exec";
import { ensureTestbedImage, TESTBED_IMAGES } from "../support/swarm/images";
import { NODE_PROXY_PORT, startSwarmTestBed, type SwarmTestBed } from "../support/swarm/testBed";
import { followStream, waitFor } from "../support/swarm/wait";

const SERVICE = "testbed-probe";
const NETWORK = "testbed-probe-net";
/** A node the manager stops hearing from must be Down within this (measured: about 15 s). */
const NODE_DOWN_WITHIN_S = 30;

/** The memory cgroup (v1) or unified cgroup (v2) directory of a process, on the host. */
function cgroupDir(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
  const memory = lines.find((line) => line.split(":")[1] === "memory");
  if (memory) return `/sys/fs/cgroup/memory${memory.split(":")[2]}`;
  const unified = lines.find((line) => line.startsWith("0::"));
  if (unified) return `/sys/fs/cgroup${unified.slice(3)}`;
  throw new Error(`no memory or unified cgroup for process ${pid}: ${lines.join("; ")}`);
}

interface RunningTask {
  node: string;
  containerId: string;
  address: string;
}

describeWithDocker("the swarm test bed", () => {
  let bed: SwarmTestBed;
  let removed = false;
  /** Each node's cgroup directory on the host: its inner containers' cgroups live below it. */
  let nodeCgroupDirs: string[] = [];

  beforeAll(async () => {
    bed = await startSwarmTestBed();
    nodeCgroupDirs = await Promise.all(
      bed.nodes.map(async (node) => {
        const { State } = await bed.host.getContainer(node.name).inspect();
        return cgroupDir(State.Pid);
      }),
    );
  }, 300_000);

  afterAll(async () => {
    if (bed && !removed) await bed.remove();
  }, 120_000);

  /** The probe service's running tasks, with their node, container and overlay address. */
  async function runningTasks(): Promise<RunningTask[]> {
    const nodes = await listNodes(bed.manager);
    const hostnameOf = (id?: string) => nodes.find((n) => n.ID === id)?.Description.Hostname;
    const tasks = await listTasks(bed.manager, {
      filters: JSON.stringify({ service: [SERVICE], "desired-state": ["running"] }),
    });
    return tasks
      .filter((task) => task.Status.State === "running")
      .map((task) => {
        const node = hostnameOf(task.NodeID);
        const containerId = task.Status.ContainerStatus?.ContainerID;
        const attachment = task.NetworksAttachments?.find((a) => a.Network.Spec.Name === NETWORK);
        if (!node || !containerId || !attachment) {
          throw new Error(`running task ${task.ID}: no node, container or ${NETWORK} attachment`);
        }
        return { node, containerId, address: attachment.Addresses[0].split("/")[0] };
      });
  }

  it("has three Ready nodes, one of them the manager", async () => {
    const nodes = await listNodes(bed.manager);
    const summary = nodes
      .map((node) => `${node.Description.Hostname} ${node.Spec.Role} ${node.Status.State}`)
      .sort();
    expect(summary).toEqual([
      "http-infra-swarm-manager manager ready",
      "http-infra-swarm-worker-1 worker ready",
      "http-infra-swarm-worker-2 worker ready",
    ]);
    // The teardown check below looks for these: they must exist while the nodes run.
    expect(nodeCgroupDirs.filter((dir) => !existsSync(dir))).toEqual([]);
  });

  it(
    "runs an image the manager pushed to the registry as a dnsrr service on both workers, " +
      "each answering HTTP on its node's host-mode port through 127.0.0.1",
    async () => {
      await ensureTestbedImage(bed.host, "probe");
      await bed.loadImages([TESTBED_IMAGES.probe.tag]);
      const probeId = (await bed.manager.getImage(TESTBED_IMAGES.probe.tag).inspect()).Id;
      const repository = `${bed.registry}/http-infra-swarm-probe`;
      const tag = probeId.slice("sha256:".length, "sha256:".length + 12);
      await bed.manager.getImage(TESTBED_IMAGES.probe.tag).tag({ repo: repository, tag });
      // The engine refuses a push without an X-Registry-Auth header; the test registry needs none.
      const push = bed.manager.getImage(`${repository}:${tag}`).push({ authconfig: {} });
      await followStream(bed.manager, await push);

      await bed.manager.createNetwork({ Name: NETWORK, Driver: "overlay", Attachable: true });
      await bed.manager.createService({
        Name: SERVICE,
        TaskTemplate: {
          ContainerSpec: {
            Image: `${repository}:${tag}`,
            Env: ["NODE_NAME={{.Node.Hostname}}"],
          },
          // Only the workers: they have nothing but what the registry gives them.
          Placement: { Constraints: ["node.role == worker"], MaxReplicas: 1 },
          Networks: [{ Target: NETWORK }],
        },
        Mode: { Replicated: { Replicas: 2 } },
        EndpointSpec: {
          Mode: "dnsrr",
          Ports: [
            {
              Protocol: "tcp",
              TargetPort: 8080,
              PublishedPort: NODE_PROXY_PORT,
              PublishMode: "host",
            },
          ],
        },
      });
      const tasks = await waitFor("2 running probe tasks", 120_000, 500, async () => {
        const running = await runningTasks();
        return running.length === 2 ? running : undefined;
      });
      expect(tasks.map((task) => task.node).sort()).toEqual(bed.workers.map((w) => w.name));

      for (const worker of bed.workers) {
        const body = await waitFor(`HTTP from ${worker.proxyUrl}`, 20_000, 250, async () => {
          const response = await fetch(worker.proxyUrl, { signal: AbortSignal.timeout(2000) });
          return response.ok ? response.text() : undefined;
        });
        expect(body, `the probe published on ${worker.name}`).toMatch(
          new RegExp(` on ${worker.name}\\n$`),
        );
      }
    },
    240_000,
  );

  it("resolves the service's tasks by dnsrr name and carries HTTP between nodes on the overlay", async () => {
    const [from, to] = await runningTasks();
    expect(from.node).not.toBe(to.node);
    const fromNode = bed.node(from.node);

    const lookup = await execInContainer(fromNode.api, from.containerId, [
      "busybox",
      "nslookup",
      `tasks.${SERVICE}`,
      "127.0.0.11",
    ]);
    // BusyBox prints the server first ("Address: 127.0.0.11:53"), then each answer.
    const answers = [...lookup.stdout.matchAll(/^Address:\s*([\d.]+)$/gm)].map((m) => m[1]);
    expect(answers.sort(), lookup.stdout + lookup.stderr).toEqual(
      [from.address, to.address].sort(),
    );

    // The overlay learns a peer's address from the swarm's gossip: allow it a few seconds.
    let last = "";
    const reply = await waitFor(
      `HTTP from ${from.node} to ${to.address}`,
      20_000,
      500,
      async () => {
        const wget = await execInContainer(fromNode.api, from.containerId, [
          // BusyBox 1.35's wget crashes (exit 139) on its own -T option: coreutils' timeout instead.
          "timeout",
          "5",
          "busybox",
          "wget",
          "-q",
          "-O",
          "-",
          `http://${to.address}:8080/`,
        ]);
        last = `exit ${wget.exitCode}: ${wget.stderr}`;
        return wget.exitCode === 0 ? wget.stdout : undefined;
      },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last attempt ${last}`);
    });
    expect(reply).toMatch(new RegExp(` on ${to.node}\\n$`));
  });

  it(`marks a stopped worker Down within ${NODE_DOWN_WITHIN_S} s and Ready again once restarted`, async () => {
    const worker = bed.workers[1];
    await bed.manager.getService(SERVICE).remove();
    await bed.stopNode(worker.name);
    const downAfter = await bed.waitForNodeState(worker.name, "down", 90_000);
    const readyAfter = await bed.startNode(worker.name, 90_000);
    console.log(
      `[swarm testbed] ${worker.name}: Down ${downAfter.toFixed(1)}s after the cut, ` +
        `Ready ${readyAfter.toFixed(1)}s after docker start`,
    );
    expect(downAfter).toBeLessThan(NODE_DOWN_WITHIN_S);
    expect(await bed.nodeState(bed.workers[0].name)).toBe("ready");
  }, 200_000);

  it("leaves nothing on the host once removed: no container, volume, network or cgroup", async () => {
    const leftovers = await bed.remove();
    removed = true;
    expect(leftovers).toEqual([]);
    // The nodes' containers ran in cgroups below each node's own: none of them may remain.
    expect(nodeCgroupDirs.filter((dir) => existsSync(dir))).toEqual([]);
  }, 120_000);
});
