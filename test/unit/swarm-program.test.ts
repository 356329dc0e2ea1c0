// Swarm mode's resource graph: the real index.ts with `deployTarget: swarm`, under Pulumi's mock
// runtime. The manager's answers (its nodes, its networks) are mocked.
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { EngineNetwork } from "../../src/addressing";
import type { SwarmNodes } from "../../src/swarm/swarmNodes";
import { secretName } from "../../src/swarm/secret";
import { stackNames } from "../../src/naming";
import {
  isWireSecret,
  runProgram,
  type ProgramRun,
  type RecordedResource,
} from "../support/pulumiProgram";
import { unitMocks } from "../support/unitMocks";

const engine = vi.hoisted(() => ({
  networks: [] as EngineNetwork[],
  nodes: { count: 3 } as SwarmNodes,
}));
vi.mock("../../src/engineNetworks", () => ({
  listEngineNetworks: async () => ({ networks: engine.networks }),
}));
vi.mock("../../src/swarm/swarmNodes", () => ({
  countSwarmNodes: async () => engine.nodes,
}));
beforeEach(() => {
  engine.networks = [];
  engine.nodes = { count: 3 };
});

const IMAGE = "docker:index/image:Image";
const NETWORK = "docker:index/network:Network";
const SERVICE = "docker:index/service:Service";
const SECRET = "docker:index/secret:Secret";
const CONTAINER = "docker:index/container:Container";

const SWARM = { deployTarget: "swarm", registry: "127.0.0.1:5000" };
const PASSWORD = "a long enough secret";

const ofType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);
const named = (run: ProgramRun, type: string, name: string): RecordedResource => {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}; got ${run.resources.map((r) => r.name)}`);
  return found;
};
const members = (run: ProgramRun) => ofType(run, SERVICE).filter((s) => s.name !== "proxy");

/** Runs the program and records every registration, even of a run that fails. */
async function attempt(config: Record<string, string | number>, secrets = {}) {
  const registered: string[] = [];
  const mocks = unitMocks();
  const run = runProgram({
    stack: "sw",
    config,
    secrets,
    newResource: async (args) => {
      // Components live only in the state: "nothing created" is about the provider's resources.
      if (args.custom !== false) registered.push(`${args.type}::${args.name}`);
      return mocks.newResource(args);
    },
  });
  return { run, registered };
}

describe("swarm mode", () => {
  let run: ProgramRun;

  beforeAll(async () => {
    engine.nodes = { count: 3 };
    run = await runProgram({
      stack: "sw",
      config: SWARM,
      secrets: { balancerManagerPassword: PASSWORD },
      newResource: unitMocks().newResource,
    });
  });

  it("declares no container: one service per member and one for the proxy", () => {
    expect(ofType(run, CONTAINER)).toEqual([]);
    expect(
      ofType(run, SERVICE)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["dynamic-1", "dynamic-2", "proxy", "static-1", "static-2"]);
  });

  it("pushes the three images under the registry, with their base image as a build arg", () => {
    const images = ofType(run, IMAGE);
    expect(images).toHaveLength(3);
    for (const image of images) {
      const kind = image.name.replace(/-image$/, "");
      expect(image.inputs.skipPush, `${image.name} must be pushed`).toBe(false);
      expect(image.inputs.imageName).toBe(`127.0.0.1:5000/http-infra-sw-${kind}:latest`);
      expect(image.inputs.build.args.BASE_IMAGE, image.name).toMatch(/bookworm/);
    }
  });

  it("services run the pushed image by repoDigest, not by tag, so a rebuilt image rolls them", () => {
    for (const service of ofType(run, SERVICE)) {
      const kind = service.name === "proxy" ? "proxy" : service.name.split("-")[0];
      expect(service.inputs.taskSpec.containerSpec.image, service.name).toBe(
        `sha256:${`${kind}-image`.padEnd(64, "0")}`,
      );
    }
  });

  it("puts everything on one overlay network with an explicit subnet", () => {
    const [network] = ofType(run, NETWORK);
    expect(ofType(run, NETWORK)).toHaveLength(1);
    expect(network.inputs).toMatchObject({ name: "http-infra-sw-net", driver: "overlay" });
    const subnet = run.outputs.networkSubnet as string;
    expect(network.inputs.ipamConfigs).toEqual([
      { subnet, gateway: subnet.replace(/\.0\/24$/, ".1") },
    ]);
    expect(run.outputs.networkSubnet).toMatch(/^10\.217\.\d+\.0\/24$/);
    for (const service of ofType(run, SERVICE)) {
      expect(service.inputs.taskSpec.networksAdvanceds, service.name).toEqual([
        { name: "net-http-infra-sw-net" },
      ]);
    }
  });

  it("each member is one replica named like single-host mode's container, on dnsrr, published nowhere", () => {
    for (const member of members(run)) {
      expect(member.inputs.name).toBe(`http-infra-sw-${member.name}`);
      expect(member.inputs.mode, member.name).toEqual({ replicated: { replicas: 1 } });
      expect(member.inputs.endpointSpec, member.name).toEqual({ mode: "dnsrr" });
      expect(member.inputs.taskSpec.containerSpec.hostname).toBe(member.inputs.name);
      expect(member.inputs.taskSpec.containerSpec.healthcheck, "the image's own").toBeUndefined();
    }
  });

  it("members roll start-first and roll back on failure, and `up` waits for them to converge", () => {
    for (const member of members(run)) {
      expect(member.inputs.updateConfig, member.name).toMatchObject({
        parallelism: 1,
        order: "start-first",
        failureAction: "rollback",
      });
      expect(member.inputs.rollbackConfig, member.name).toMatchObject({ order: "start-first" });
      expect(member.inputs.convergeConfig, member.name).toMatchObject({ timeout: "3m" });
    }
  });

  it("members of a pool roll one after another: each depends on the one before", async () => {
    const registrations = new Map<string, string[]>();
    const mocks = unitMocks();
    await runProgram({
      stack: "sw",
      config: { ...SWARM, staticBackends: 3 },
      newResource: async (args, registration) => {
        registrations.set(args.name, registration.dependencies);
        return mocks.newResource(args);
      },
    });
    const urnOf = (name: string) => `ServicePool$docker:index/service:Service::${name}`;
    const dependsOn = (name: string, other: string) =>
      (registrations.get(name) ?? []).some((urn) => urn.endsWith(urnOf(other)));
    expect(dependsOn("static-2", "static-1")).toBe(true);
    expect(dependsOn("static-3", "static-2")).toBe(true);
    expect(dependsOn("static-1", "static-2")).toBe(false);
    expect(dependsOn("dynamic-1", "static-3"), "pools roll independently").toBe(false);
  });

  it("only the dynamic members get PORT=3000", () => {
    for (const member of members(run)) {
      expect(member.inputs.taskSpec.containerSpec.env, member.name).toEqual(
        member.name.startsWith("dynamic") ? { PORT: "3000" } : undefined,
      );
    }
  });

  it("the proxy finds members by service name and looks them up again every 5 s", () => {
    const env = named(run, SERVICE, "proxy").inputs.taskSpec.containerSpec.env;
    expect(env).toMatchObject({
      STATIC_APP_1: "http-infra-sw-static-1:8080",
      STATIC_APP_2: "http-infra-sw-static-2:8080",
      DYNAMIC_APP_1: "http-infra-sw-dynamic-1:3000",
      DYNAMIC_APP_2: "http-infra-sw-dynamic-2:3000",
      BALANCER_MEMBER_ADDRESS_TTL: "5",
      SERVER_NAME: "demo.res.ch",
    });
  });

  it("the proxy runs on every node, publishing its port in host mode, rolling stop-first", () => {
    const proxy = named(run, SERVICE, "proxy");
    expect(proxy.inputs.mode).toEqual({ global: true });
    expect(proxy.inputs.endpointSpec).toEqual({
      mode: "dnsrr",
      ports: [{ targetPort: 8080, publishedPort: 8080, publishMode: "host", protocol: "tcp" }],
    });
    expect(proxy.inputs.updateConfig).toMatchObject({ order: "stop-first", parallelism: 1 });
    expect(proxy.inputs.convergeConfig, "the provider refuses it on a global service").toBe(
      undefined,
    );
    expect(proxy.inputs.taskSpec.placement).toBeUndefined();
  });

  it("the password reaches the proxy only as a secret file: never in the service's env", () => {
    const proxy = named(run, SERVICE, "proxy");
    const env = proxy.inputs.taskSpec.containerSpec.env;
    expect(JSON.stringify(proxy.inputs)).not.toContain(PASSWORD);
    expect(env).toMatchObject({
      BALANCER_MANAGER_USER: "admin",
      BALANCER_MANAGER_PASSWORD_FILE: "/run/secrets/balancer-manager-password",
    });
    expect(env.BALANCER_MANAGER_PASSWORD).toBeUndefined();

    const secret = named(run, SECRET, "balancer-manager-password");
    expect(Buffer.from(secret.inputs.data, "base64").toString("utf8")).toBe(PASSWORD);
    expect(isWireSecret(secret.wireInputs.data), "data is a Pulumi secret").toBe(true);
    expect(secret.inputs.name).toBe(secretName(stackNames("http-infra", "sw"), PASSWORD));
    expect(proxy.inputs.taskSpec.containerSpec.secrets).toEqual([
      {
        secretId: `secret-${secret.inputs.name}`,
        secretName: secret.inputs.name,
        fileName: "/run/secrets/balancer-manager-password",
        // Readable by the image's user (www-data) only: the entrypoint does not run as root.
        fileUid: "33",
        fileGid: "33",
        fileMode: 0o400,
      },
    ]);
  });

  it("runs every task read-only, without capabilities, limited, logs rotated", () => {
    const writable: Record<string, string[]> = {
      proxy: ["/run/apache2"],
      static: ["/run/apache2", "/tmp"],
      dynamic: [],
    };
    for (const service of ofType(run, SERVICE)) {
      const role = service.name === "proxy" ? "proxy" : service.name.split("-")[0];
      const { containerSpec, resources, logDriver } = service.inputs.taskSpec;
      expect(containerSpec.readOnly, `${service.name} readOnly`).toBe(true);
      expect(
        (containerSpec.mounts ?? []).map((m: { target: string }) => m.target),
        `${service.name} tmpfs`,
      ).toEqual(writable[role]);
      for (const mount of containerSpec.mounts ?? []) {
        expect(mount.type, `${service.name} ${mount.target}`).toBe("tmpfs");
      }
      expect(containerSpec.capDrops, service.name).toEqual(["ALL"]);
      expect(containerSpec.capAdds, service.name).toBeUndefined();
      // The user is the image's; the provider has no no-new-privileges for a service (the images
      // carry no setuid file instead).
      expect(containerSpec.user, service.name).toBeUndefined();
      expect(resources, service.name).toEqual({
        limits: {
          memoryBytes: (role === "proxy" ? 384 : 256) * 1024 * 1024,
          nanoCpus: 1_000_000_000,
        },
      });
      expect(logDriver, service.name).toEqual({
        name: "json-file",
        options: { "max-size": "10m", "max-file": "3" },
      });
    }
  });

  it("a new password is a new secret, created before the old one is deleted", () => {
    const secret = named(run, SECRET, "balancer-manager-password");
    expect(secret.deleteBeforeReplace).toBe(false);
    const names = stackNames("http-infra", "sw");
    expect(secretName(names, "another long secret")).not.toBe(secret.inputs.name);
    expect(secret.inputs.name).not.toContain(PASSWORD);
  });

  it("labels every service, the secret and the network with the stack", () => {
    for (const resource of [
      ...ofType(run, SERVICE),
      ...ofType(run, SECRET),
      ...ofType(run, NETWORK),
    ]) {
      expect(resource.inputs.labels, resource.name).toEqual(
        expect.arrayContaining([{ label: "http-infra.stack", value: "sw" }]),
      );
    }
  });

  it("exports the members' service addresses and the proxy service's name", () => {
    expect(run.outputs.staticBackends).toEqual([
      "http-infra-sw-static-1:8080",
      "http-infra-sw-static-2:8080",
    ]);
    expect(run.outputs.proxyContainerName).toBe("http-infra-sw-proxy");
  });
});

describe("swarm mode settings", () => {
  it("without a password: no secret, no balancer-manager variables", async () => {
    const { run } = await attempt(SWARM);
    const result = await run;
    expect(ofType(result, SECRET)).toEqual([]);
    const env = named(result, SERVICE, "proxy").inputs.taskSpec.containerSpec.env;
    expect(Object.keys(env).filter((key) => key.startsWith("BALANCER_MANAGER"))).toEqual([]);
    expect(named(result, SERVICE, "proxy").inputs.taskSpec.containerSpec.secrets).toBeUndefined();
  });

  it("proxyNodeLabel places the proxy on the labelled nodes only", async () => {
    const { run } = await attempt({ ...SWARM, proxyNodeLabel: "edge=true" });
    const proxy = named(await run, SERVICE, "proxy");
    expect(proxy.inputs.taskSpec.placement).toEqual({ constraints: ["node.labels.edge==true"] });
  });

  it("without a registry a one-node swarm runs the local images, unpushed", async () => {
    engine.nodes = { count: 1 };
    const { run } = await attempt({ deployTarget: "swarm" });
    for (const image of ofType(await run, IMAGE)) {
      expect(image.inputs.skipPush, image.name).toBe(true);
      expect(image.inputs.imageName).toMatch(/^http-infra-sw-(static|dynamic|proxy):latest$/);
    }
  });

  it("without a registry a swarm of several nodes is refused, naming registry; nothing is created", async () => {
    engine.nodes = { count: 3 };
    const { run, registered } = await attempt({ deployTarget: "swarm" });
    await expect(run).rejects.toThrow(/registry is unset, but the swarm has 3 nodes/);
    expect(registered).toEqual([]);
  });

  it("an engine that is no swarm manager is refused, naming deployTarget; nothing is created", async () => {
    engine.nodes = { count: undefined, why: "This node is not a swarm manager." };
    const { run, registered } = await attempt(SWARM);
    await expect(run).rejects.toThrow(/deployTarget is swarm, but .*not a swarm manager/);
    expect(registered).toEqual([]);
  });

  it("a networkSubnet that overlaps another network is refused, naming the key; nothing is created", async () => {
    engine.networks = [{ name: "ingress", subnets: ["10.0.0.0/24"] }];
    const { run, registered } = await attempt({ ...SWARM, networkSubnet: "10.0.0.0/16" });
    await expect(run).rejects.toThrow(/networkSubnet 10\.0\.0\.0\/16 overlaps network ingress/);
    expect(registered.filter((r) => !r.startsWith(IMAGE))).toEqual([]);
  });

  it.each([
    [{ deployTarget: "kubernetes" }, "deployTarget must be one of containers, swarm"],
    [{ registry: "127.0.0.1:5000" }, "registry is only used with deployTarget swarm"],
    [{ proxyNodeLabel: "edge=true" }, "proxyNodeLabel is only used with deployTarget swarm"],
    [{ ...SWARM, registry: "http://127.0.0.1:5000" }, "registry must be a registry host"],
    [{ ...SWARM, proxyNodeLabel: "edge" }, "proxyNodeLabel must be a node label as key=value"],
    [
      { ...SWARM, proxyBindAddress: "0.0.0.0" },
      "proxyBindAddress can't be set with deployTarget swarm",
    ],
  ])("refuses %j before any resource: %s", async (config, message) => {
    const { run, registered } = await attempt(config);
    await expect(run).rejects.toThrow(message);
    expect(registered).toEqual([]);
  });
});
