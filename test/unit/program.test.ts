// The resource graph of the real index.ts, run under Pulumi's mock runtime.
import type * as docker from "@pulumi/docker";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { candidateSubnets, upperHalf, type EngineNetwork } from "../../src/addressing";
import {
  inputsOf,
  isWireSecret,
  runProgram,
  type ProgramRun,
  type RecordedResource,
} from "../support/pulumiProgram";
import { unitMocks, type UnitMocks } from "../support/unitMocks";

// The networks the program finds on the "engine" when it picks the stack's subnet.
const engine = vi.hoisted(() => ({ networks: [] as EngineNetwork[] }));
vi.mock("../../src/engineNetworks", () => ({
  listEngineNetworks: async () => ({ networks: engine.networks }),
}));
beforeEach(() => {
  engine.networks = [];
});

const IMAGE = "docker:index/image:Image";
const NETWORK = "docker:index/network:Network";
const CONTAINER = "docker:index/container:Container";

const ofType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);
const named = (run: ProgramRun, type: string, name: string): RecordedResource => {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    throw new Error(`no ${type} named ${name}; got ${run.resources.map((r) => r.name).join()}`);
  }
  return found;
};
const envOf = (container: RecordedResource): Record<string, string> =>
  Object.fromEntries(
    (inputsOf<docker.ContainerArgs>(container).envs ?? []).map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)];
    }),
  );

/** The address a container asks for on its first network. */
const firstNetworkAddress = (container: RecordedResource) =>
  inputsOf<docker.ContainerArgs>(container).networksAdvanced![0].ipv4Address;

describe("the default stack", () => {
  let run: ProgramRun;
  let mocks: UnitMocks;

  beforeAll(async () => {
    mocks = unitMocks();
    run = await runProgram({ stack: "dev", newResource: mocks.newResource });
  });

  it("builds three local images from docker-images/* with their base image as a build arg", () => {
    const images = ofType(run, IMAGE);
    expect(images.map((i) => i.name).sort()).toEqual([
      "dynamic-image",
      "proxy-image",
      "static-image",
    ]);
    const expected = {
      "static-image": ["docker-images/apache-php-image", "php:8.4-apache-bookworm"],
      "dynamic-image": ["docker-images/express-image", "node:22-bookworm-slim"],
      "proxy-image": ["docker-images/apache-reverse-proxy", "php:8.4-apache-bookworm"],
    } as const;
    for (const image of images) {
      const [context, base] = expected[image.name as keyof typeof expected];
      expect(image.inputs.build, image.name).toMatchObject({
        context,
        dockerfile: `${context}/Dockerfile`,
        args: { BASE_IMAGE: base },
      });
      expect(image.inputs.skipPush, `${image.name} must never be pushed`).toBe(true);
      expect(image.inputs.imageName, image.name).toMatch(/^http-infra-dev-(static|dynamic|proxy):/);
    }
  });

  it("declares one user-defined bridge network named after the stack, on a /24 of its own", () => {
    const networks = ofType(run, NETWORK);
    expect(networks).toHaveLength(1);
    expect(networks[0].inputs).toMatchObject({ name: "http-infra-dev-net", driver: "bridge" });
    // The stack's own slot of the default pool, since no other network is in the way.
    const [subnet] = candidateSubnets("http-infra", "dev");
    expect(subnet).toMatch(/^10\.217\.\d+\.0\/24$/);
    expect(networks[0].inputs.ipamConfigs).toEqual([
      { subnet, ipRange: upperHalf(subnet), gateway: subnet.replace(/0\/24$/, "1") },
    ]);
    expect(run.outputs.networkSubnet).toBe(subnet);
    expect(networks[0].deleteBeforeReplace, "a fixed name can't exist twice").toBe(true);
  });

  it("gives every container a fixed address at its slot: proxy .2, static-i .2+i, dynamic-i .18+i", () => {
    const base = (run.outputs.networkSubnet as string).replace(/\.0\/24$/, "");
    const expected: Record<string, string> = {
      proxy: `${base}.2`,
      "static-1": `${base}.3`,
      "static-2": `${base}.4`,
      "dynamic-1": `${base}.19`,
      "dynamic-2": `${base}.20`,
    };
    for (const container of ofType(run, CONTAINER)) {
      expect(container.inputs.networksAdvanced, container.name).toEqual([
        { name: "http-infra-dev-net", ipv4Address: expected[container.name] },
      ]);
    }
  });

  it("runs 2 static and 2 dynamic backends on the network, none publishing a host port", () => {
    const backends = ofType(run, CONTAINER).filter((c) => c.name !== "proxy");
    expect(backends.map((c) => c.name).sort()).toEqual([
      "dynamic-1",
      "dynamic-2",
      "static-1",
      "static-2",
    ]);
    for (const backend of backends) {
      expect(backend.inputs.ports ?? [], `${backend.name} publishes a port`).toEqual([]);
      expect(backend.inputs.networksAdvanced, backend.name).toMatchObject([
        { name: "http-infra-dev-net" },
      ]);
      expect(backend.inputs.name, backend.name).toBe(`http-infra-dev-${backend.name}`);
      expect(backend.inputs.hostname, backend.name).toBe(backend.inputs.name);
    }
  });

  it("only the proxy publishes a host port, on 127.0.0.1:8080", () => {
    const publishing = ofType(run, CONTAINER).filter(
      (c) => (inputsOf<docker.ContainerArgs>(c).ports ?? []).length > 0,
    );
    expect(publishing.map((c) => c.name)).toEqual(["proxy"]);
    // Inside, Apache listens on 8080, a port that needs no privilege; outside, proxyPort.
    expect(publishing[0].inputs.ports).toEqual([
      { internal: 8080, external: 8080, ip: "127.0.0.1" },
    ]);
  });

  it("the proxy env lists every backend's IP on the stack network, member i as APP_i", () => {
    const env = envOf(named(run, CONTAINER, "proxy"));
    const ip = (name: string) => mocks.ipByContainer.get(`http-infra-dev-${name}`);
    expect(env).toEqual({
      STATIC_APP_1: `${ip("static-1")}:8080`,
      STATIC_APP_2: `${ip("static-2")}:8080`,
      DYNAMIC_APP_1: `${ip("dynamic-1")}:3000`,
      DYNAMIC_APP_2: `${ip("dynamic-2")}:3000`,
      SERVER_NAME: "demo.res.ch",
    });
  });

  it("leaves the balancer-manager off when no password is configured", () => {
    const env = envOf(named(run, CONTAINER, "proxy"));
    expect(Object.keys(env).filter((key) => key.startsWith("BALANCER_MANAGER"))).toEqual([]);
    expect(run.outputs.balancerManagerUrl).toMatch(/^disabled/);
  });

  it("feeds containers the image id, not the tag, so a rebuilt image replaces them", () => {
    for (const container of ofType(run, CONTAINER)) {
      expect(container.inputs.image, container.name).toMatch(/^sha256:/);
    }
    const kindOf = (name: string) => (name === "proxy" ? "proxy" : name.split("-")[0]);
    for (const container of ofType(run, CONTAINER)) {
      expect(container.inputs.image, container.name).toContain(`${kindOf(container.name)}-image`);
    }
  });

  it("replaces named containers delete-first and waits for them to be healthy", () => {
    for (const container of ofType(run, CONTAINER)) {
      expect(container.deleteBeforeReplace, `${container.name} deleteBeforeReplace`).toBe(true);
      expect(container.inputs.wait, `${container.name} wait`).toBe(true);
      expect(container.inputs.waitTimeout, container.name).toBeGreaterThan(0);
    }
  });

  it("groups each pool's containers under a BackendPool component", () => {
    const pools = run.resources.filter((r) => r.type === "http-infra:backends:BackendPool");
    expect(pools.map((p) => p.name).sort()).toEqual(["dynamic", "static"]);
    expect(named(run, CONTAINER, "static-1").parent).toMatch(/BackendPool::static$/);
    expect(named(run, CONTAINER, "dynamic-2").parent).toMatch(/BackendPool::dynamic$/);
  });

  it("labels every container and the network with the stack", () => {
    for (const resource of [...ofType(run, CONTAINER), ...ofType(run, NETWORK)]) {
      expect(resource.inputs.labels, resource.name).toContainEqual({
        label: "http-infra.stack",
        value: "dev",
      });
    }
  });

  it("runs every container read-only, without capabilities or new privileges, limited, logs rotated", () => {
    const writable: Record<string, string[]> = {
      proxy: ["/run/apache2"],
      static: ["/run/apache2", "/tmp"],
      dynamic: [],
    };
    for (const container of ofType(run, CONTAINER)) {
      const role = container.name === "proxy" ? "proxy" : container.name.split("-")[0];
      const inputs = inputsOf<docker.ContainerArgs>(container);
      expect(inputs.readOnly, `${container.name} readOnly`).toBe(true);
      expect(
        (inputs.mounts ?? []).map((m) => m.target),
        `${container.name} tmpfs`,
      ).toEqual(writable[role]);
      for (const mount of inputs.mounts ?? []) {
        expect(mount.type, `${container.name} ${mount.target}`).toBe("tmpfs");
        expect(mount.tmpfsOptions?.sizeBytes, `${container.name} ${mount.target}`).toBeGreaterThan(
          0,
        );
      }
      expect(inputs.capabilities, container.name).toEqual({ drops: ["ALL"] });
      expect(inputs.securityOpts, container.name).toEqual(["no-new-privileges:true"]);
      expect(inputs.memory, `${container.name} memory`).toBe(role === "proxy" ? 384 : 256);
      expect(inputs.memorySwap, `${container.name} no swap on top`).toBe(inputs.memory);
      expect(inputs.cpus, `${container.name} cpus`).toBe("1.0");
      expect(inputs.logDriver, container.name).toBe("json-file");
      expect(inputs.logOpts, container.name).toEqual({ "max-size": "10m", "max-file": "3" });
      // The user is the image's (USER in its Dockerfile), never overridden to root here.
      expect(inputs.user, container.name).toBeUndefined();
    }
  });

  it("exports the URL, the backends' addresses and the network name", () => {
    const ip = (name: string) => mocks.ipByContainer.get(`http-infra-dev-${name}`);
    expect(run.outputs).toMatchObject({
      url: "http://127.0.0.1:8080/",
      staticBackends: [`${ip("static-1")}:8080`, `${ip("static-2")}:8080`],
      dynamicBackends: [`${ip("dynamic-1")}:3000`, `${ip("dynamic-2")}:3000`],
      networkName: "http-infra-dev-net",
      proxyContainerName: "http-infra-dev-proxy",
    });
  });
});

describe("a configured stack", () => {
  let run: ProgramRun;
  let mocks: UnitMocks;

  beforeAll(async () => {
    mocks = unitMocks();
    run = await runProgram({
      stack: "lab",
      config: {
        staticBackends: 3,
        dynamicBackends: 5,
        proxyPort: 9090,
        proxyBindAddress: "0.0.0.0",
        networkSubnet: "172.30.5.0/24",
        serverName: "www.example.test",
        proxyBaseImage: "mirror.example.test/library/php:8.4-apache-bookworm",
      },
      secrets: { balancerManagerPassword: "correct-horse-battery" },
      newResource: mocks.newResource,
    });
  });

  it("runs as many backends as configured and lists all of them in order", () => {
    const env = envOf(named(run, CONTAINER, "proxy"));
    const ip = (name: string) => mocks.ipByContainer.get(`http-infra-lab-${name}`);
    for (let i = 1; i <= 3; i++) expect(env[`STATIC_APP_${i}`]).toBe(`${ip(`static-${i}`)}:8080`);
    for (let i = 1; i <= 5; i++) expect(env[`DYNAMIC_APP_${i}`]).toBe(`${ip(`dynamic-${i}`)}:3000`);
    expect(env.STATIC_APP_4).toBeUndefined();
    expect(env.DYNAMIC_APP_6).toBeUndefined();
  });

  it("publishes the configured port on the configured address", () => {
    expect(named(run, CONTAINER, "proxy").inputs.ports).toEqual([
      { internal: 8080, external: 9090, ip: "0.0.0.0" },
    ]);
    expect(run.outputs.url).toBe("http://127.0.0.1:9090/");
  });

  it("gives the network the configured subnet, its upper half for containers that are not the stack's", () => {
    expect(named(run, NETWORK, "network").inputs.ipamConfigs).toEqual([
      { subnet: "172.30.5.0/24", ipRange: "172.30.5.128/25", gateway: "172.30.5.1" },
    ]);
    expect(firstNetworkAddress(named(run, CONTAINER, "dynamic-5"))).toBe("172.30.5.23");
  });

  it("builds the proxy from the configured base image", () => {
    expect(inputsOf<docker.ImageArgs>(named(run, IMAGE, "proxy-image")).build?.args).toEqual({
      BASE_IMAGE: "mirror.example.test/library/php:8.4-apache-bookworm",
    });
  });

  it("gives each role the limits configured for it", async () => {
    const limited = await runProgram({
      stack: "limits",
      config: {
        proxyMemoryLimitMb: 512,
        staticMemoryLimitMb: 64,
        dynamicMemoryLimitMb: 1024,
        proxyCpuLimit: "2",
        staticCpuLimit: "0.25",
        dynamicCpuLimit: "1.50",
      },
      newResource: unitMocks().newResource,
    });
    const limits = (name: string) => {
      const { memory, memorySwap, cpus } = inputsOf<docker.ContainerArgs>(
        named(limited, CONTAINER, name),
      );
      return { memory, memorySwap, cpus };
    };
    // cpus spelled as the provider reads it back ("2.0", not "2"): it is ForceNew.
    expect(limits("proxy")).toEqual({ memory: 512, memorySwap: 512, cpus: "2.0" });
    expect(limits("static-1")).toEqual({ memory: 64, memorySwap: 64, cpus: "0.25" });
    expect(limits("dynamic-2")).toEqual({ memory: 1024, memorySwap: 1024, cpus: "1.5" });
  });

  it("passes the balancer-manager password to the proxy only as a Pulumi secret", () => {
    const proxy = named(run, CONTAINER, "proxy");
    expect(envOf(proxy)).toMatchObject({
      SERVER_NAME: "www.example.test",
      BALANCER_MANAGER_USER: "admin",
      BALANCER_MANAGER_PASSWORD: "correct-horse-battery",
    });
    expect(isWireSecret(proxy.wireInputs.envs), "proxy envs must be a secret").toBe(true);
    expect(run.outputs.balancerManagerUrl).toBe("http://127.0.0.1:9090/balancer-manager");
  });
});

describe("pulumi preview", () => {
  it("completes with unknown container outputs and declares the whole graph", async () => {
    const run = await runProgram({
      stack: "ci",
      preview: true,
      newResource: unitMocks({ preview: true }).newResource,
    });
    expect(ofType(run, IMAGE)).toHaveLength(3);
    expect(ofType(run, NETWORK)).toHaveLength(1);
    expect(
      ofType(run, CONTAINER)
        .map((c) => c.name)
        .sort(),
    ).toEqual(["dynamic-1", "dynamic-2", "proxy", "static-1", "static-2"]);
    for (const image of ofType(run, IMAGE)) {
      expect(image.inputs.buildOnPreview, `${image.name} builds during preview`).toBe(true);
    }
    expect(run.outputs.url).toBe("http://127.0.0.1:8080/");
    expect(run.outputs.staticBackends, "unknown until the containers exist").toBeUndefined();
  });
});

describe("bad config", () => {
  it("fails before any resource is declared, naming the key", async () => {
    const mocks = unitMocks();
    const resources: RecordedResource[] = [];
    await expect(
      runProgram({
        stack: "bad",
        config: { dynamicBackends: 0 },
        newResource: async (args) => {
          resources.push({ type: args.type, name: args.name } as RecordedResource);
          return mocks.newResource(args);
        },
      }),
    ).rejects.toThrow("dynamicBackends must be an integer from 1 to 16 (got 0)");
    expect(resources).toEqual([]);
  });
});

describe("addresses come from the outputs, not from the program's own table", () => {
  it("the proxy env holds the addresses Docker reports, even where they differ from the ones asked for", async () => {
    const mocks = unitMocks({ honourIpv4Address: false });
    const run = await runProgram({ stack: "wiring", newResource: mocks.newResource });
    const ip = (name: string) => mocks.ipByContainer.get(`http-infra-wiring-${name}`);
    const proxy = named(run, CONTAINER, "proxy");
    expect(ip("static-1")).not.toBe(firstNetworkAddress(named(run, CONTAINER, "static-1")));
    expect(envOf(proxy)).toMatchObject({
      STATIC_APP_1: `${ip("static-1")}:8080`,
      STATIC_APP_2: `${ip("static-2")}:8080`,
      DYNAMIC_APP_1: `${ip("dynamic-1")}:3000`,
      DYNAMIC_APP_2: `${ip("dynamic-2")}:3000`,
    });
  });
});

describe("choosing the network's subnet against the engine's networks", () => {
  const runWith = (stack: string, config: Record<string, string | number> = {}) =>
    runProgram({ stack, config, newResource: unitMocks().newResource });
  const subnetOf = (run: ProgramRun) =>
    inputsOf<docker.NetworkArgs>(named(run, NETWORK, "network")).ipamConfigs![0].subnet!;

  it("two stacks with default config get different subnets on one engine", async () => {
    const first = await runWith("twin");
    engine.networks = [{ name: "http-infra-twin-net", subnets: [subnetOf(first)] }];
    const second = await runWith("twin-2");
    expect(subnetOf(second)).not.toBe(subnetOf(first));
  });

  it("skips a /24 another network already uses, and keeps its own subnet on the next run", async () => {
    const [preferred, next] = candidateSubnets("http-infra", "busy");
    engine.networks = [{ name: "someone-else", subnets: [preferred] }];
    const chosen = subnetOf(await runWith("busy"));
    expect(chosen).toBe(next);
    // Next `pulumi up`: the stack's network exists with that subnet, and the other one is gone.
    engine.networks = [{ name: "http-infra-busy-net", subnets: [chosen] }];
    expect(subnetOf(await runWith("busy"))).toBe(chosen);
  });

  it("refuses a configured networkSubnet that overlaps another network, naming the key and the network", async () => {
    engine.networks = [
      { name: "bridge", subnets: ["172.17.0.0/16"] },
      { name: "http-infra-other-net", subnets: ["10.217.9.0/24"] },
    ];
    const resources: string[] = [];
    await expect(
      runProgram({
        stack: "clash",
        config: { networkSubnet: "10.217.0.0/16" },
        newResource: async (args) => {
          resources.push(`${args.type}::${args.name}`);
          return unitMocks().newResource(args);
        },
      }),
    ).rejects.toThrow(
      "networkSubnet 10.217.0.0/16 overlaps network http-infra-other-net (10.217.9.0/24) on this Docker engine",
    );
    const containersAndNetworks = resources.filter(
      (r) => r.startsWith(CONTAINER) || r.startsWith(NETWORK),
    );
    expect(containersAndNetworks, "no network or container was created").toEqual([]);
  });

  it("accepts a configured networkSubnet that only its own network uses", async () => {
    engine.networks = [{ name: "http-infra-mine-net", subnets: ["172.30.7.0/24"] }];
    const run = await runWith("mine", { networkSubnet: "172.30.7.0/24" });
    expect(subnetOf(run)).toBe("172.30.7.0/24");
  });
});
