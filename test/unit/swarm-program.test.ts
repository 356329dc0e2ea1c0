// Swarm mode's resource graph: the real index.ts with `deployTarget: swarm`, under Pulumi's mock
// runtime. The manager's answers (its nodes, its networks) are mocked.
import type * as docker from "@pulumi/docker";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { EngineNetwork } from "../../src/addressing";
import type { SwarmNode, SwarmNodes } from "../../src/swarm/swarmNodes";
import { MAX_SECRET_NAME, secretName } from "../../src/swarm/secret";
import { stackNames } from "../../src/naming";
import {
  inputsOf,
  isWireSecret,
  runProgram,
  type ProgramRun,
  type RecordedResource,
} from "../support/pulumiProgram";
import { keyMaterial, leaksOutsideSecrets } from "../support/secretLeaks";
import { createTestCa } from "../support/testCa";
import { unitMocks } from "../support/unitMocks";

/** `count` active nodes named node-1..node-count, with ids id1..; `labels` on every node. */
const swarmOf = (count: number, labels: Record<string, string> = {}): { nodes: SwarmNode[] } => ({
  nodes: Array.from({ length: count }, (_, i): SwarmNode => ({
    id: `id${i + 1}`,
    hostname: `node-${i + 1}`,
    labels,
    availability: "active",
    state: "ready",
    platform: { os: "linux", architecture: "x86_64" },
    proxyChecks: {},
  })),
});
const engine = vi.hoisted((): { networks: EngineNetwork[]; nodes: SwarmNodes } => ({
  networks: [],
  nodes: { nodes: undefined, why: "set in beforeEach" },
}));
vi.mock("../../src/engineNetworks", () => ({
  listEngineNetworks: async () => ({ networks: engine.networks }),
}));
vi.mock("../../src/swarm/swarmNodes", () => ({
  listSwarmNodes: async () => engine.nodes,
}));
beforeEach(() => {
  engine.networks = [];
  engine.nodes = swarmOf(3);
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
  if (!found) {
    throw new Error(`no ${type} named ${name}; got ${run.resources.map((r) => r.name).join()}`);
  }
  return found;
};
/** A service's task spec, as @pulumi/docker types a Service's args. */
const taskSpec = (service: RecordedResource) => inputsOf<docker.ServiceArgs>(service).taskSpec;
/** The proxy and the checks on its nodes that `up` waits for (src/swarm/proxyReady.ts). */
const isProxy = (name: string) => name === "proxy" || name.startsWith("proxy-ready-");
const members = (run: ProgramRun) => ofType(run, SERVICE).filter((s) => !isProxy(s.name));

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
    engine.nodes = swarmOf(3);
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
    ).toEqual([
      "dynamic-1",
      "dynamic-2",
      "proxy",
      "proxy-ready-node-1",
      "proxy-ready-node-2",
      "proxy-ready-node-3",
      "static-1",
      "static-2",
    ]);
  });

  it("pushes the three images under the registry, with their base image as a build arg", () => {
    const images = ofType(run, IMAGE);
    expect(images).toHaveLength(3);
    for (const image of images) {
      const kind = image.name.replace(/-image$/, "");
      expect(image.inputs.skipPush, `${image.name} must be pushed`).toBe(false);
      expect(image.inputs.imageName).toBe(`127.0.0.1:5000/http-infra-sw-${kind}:latest`);
      expect(inputsOf<docker.ImageArgs>(image).build?.args?.BASE_IMAGE, image.name).toMatch(
        /bookworm/,
      );
    }
  });

  it("services run the pushed image by repoDigest, not by tag, so a rebuilt image rolls them", () => {
    for (const service of ofType(run, SERVICE)) {
      const kind = isProxy(service.name) ? "proxy" : service.name.split("-")[0];
      expect(taskSpec(service).containerSpec.image, service.name).toBe(
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
      // By id: the provider reads the attachment back as `id`; a `name` would replace the service
      // on every run.
      expect(taskSpec(service).networksAdvanceds, service.name).toEqual([
        { id: "net-http-infra-sw-net" },
      ]);
    }
  });

  it("each member is one replica named like single-host mode's container, on dnsrr, published nowhere", () => {
    for (const member of members(run)) {
      expect(member.inputs.name).toBe(`http-infra-sw-${member.name}`);
      expect(member.inputs.mode, member.name).toEqual({ replicated: { replicas: 1 } });
      expect(member.inputs.endpointSpec, member.name).toEqual({ mode: "dnsrr" });
      expect(taskSpec(member).containerSpec.hostname).toBe(member.inputs.name);
      expect(taskSpec(member).containerSpec.healthcheck, "the image's own").toBeUndefined();
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

  it("every service states its whole restart policy (Swarm's defaults) and a stop grace period", () => {
    for (const service of ofType(run, SERVICE)) {
      // Unset fields would be sent as 0 (a restart loop, a kill at once) and read back as "0s".
      expect(taskSpec(service).restartPolicy, service.name).toEqual({
        condition: "any",
        delay: "5s",
        maxAttempts: 0,
        window: "0s",
      });
      expect(taskSpec(service).containerSpec.stopGracePeriod, service.name).toBe("30s");
    }
  });

  it("a replaced network replaces every service on it, deleted before it (replaceWith)", async () => {
    const replaceWith = new Map<string, string[] | undefined>();
    const mocks = unitMocks();
    await runProgram({
      stack: "sw",
      config: SWARM,
      secrets: { balancerManagerPassword: PASSWORD },
      newResource: async (args, registration) => {
        replaceWith.set(args.name, registration.replaceWith);
        return mocks.newResource(args);
      },
    });
    const network = "urn:pulumi:sw::http-infra::docker:index/network:Network::network";
    for (const service of ["static-1", "static-2", "dynamic-1", "dynamic-2", "proxy"]) {
      expect(replaceWith.get(service), service).toEqual([network]);
    }
    expect(replaceWith.get("balancer-manager-password"), "the secret is on no network").toEqual([]);
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
      expect(taskSpec(member).containerSpec.env, member.name).toEqual(
        member.name.startsWith("dynamic") ? { PORT: "3000" } : undefined,
      );
    }
  });

  it("the proxy finds members by service name, with a new connection per request (a lost node's members fail over instead of hanging)", () => {
    const env = taskSpec(named(run, SERVICE, "proxy")).containerSpec.env;
    expect(env).toMatchObject({
      STATIC_APP_1: "http-infra-sw-static-1:8080",
      STATIC_APP_2: "http-infra-sw-static-2:8080",
      DYNAMIC_APP_1: "http-infra-sw-dynamic-1:3000",
      DYNAMIC_APP_2: "http-infra-sw-dynamic-2:3000",
      BALANCER_MEMBER_CONNECTIONS: "per-request",
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
    expect(taskSpec(proxy).placement).toBeUndefined();
  });

  it("`up` waits for every node's proxy: on each node a replicated check, pinned there, that converges once that node's proxy reports the new configuration", () => {
    const proxy = named(run, SERVICE, "proxy");
    const configId = taskSpec(proxy).containerSpec.env?.PROXY_CONFIG_ID ?? "";
    // Swarm expands {{.Node.ID}} per task: each proxy names its node next to the digest.
    expect(configId).toMatch(/^\{\{\.Node\.ID\}\}-[0-9a-f]{16}$/);
    const digest = configId.split("-").pop();
    for (const n of [1, 2, 3]) {
      const check = named(run, SERVICE, `proxy-ready-node-${n}`);
      const args = inputsOf<docker.ServiceArgs>(check);
      expect(args.name).toBe(`http-infra-sw-proxy-ready-node-${n}`);
      expect(args.mode).toEqual({ replicated: { replicas: 1 } });
      // The platforms as the Docker client would add them, stated so that they read back unchanged.
      expect(taskSpec(check).placement).toEqual({
        constraints: [`node.id==id${n}`],
        platforms: [{ os: "linux", architecture: "amd64" }],
      });
      expect(args.convergeConfig, "what the provider waits with").toBeDefined();
      const healthcheck = taskSpec(check).containerSpec.healthcheck;
      const [kind, probe] = healthcheck?.tests ?? [];
      expect(kind).toBe("CMD-SHELL");
      expect(probe).toContain(`X-Proxy-Config: id${n}-${digest}`);
      expect(probe).toContain("tasks.http-infra-sw-proxy");
      // Failed probes must not count while the proxy rolls towards this node.
      expect(healthcheck?.startPeriod).toBe(args.convergeConfig?.timeout);
      expect(taskSpec(check).networksAdvanceds).toEqual(taskSpec(proxy).networksAdvanceds);
    }
  });

  it("the checks are updated after the proxy: each depends on it", async () => {
    const registrations = new Map<string, string[]>();
    const mocks = unitMocks();
    await runProgram({
      stack: "sw",
      config: SWARM,
      newResource: async (args, registration) => {
        registrations.set(args.name, registration.dependencies);
        return mocks.newResource(args);
      },
    });
    for (const n of [1, 2, 3]) {
      expect(
        registrations.get(`proxy-ready-node-${n}`)?.some((urn) => urn.endsWith("::proxy")),
        `proxy-ready-node-${n}`,
      ).toBe(true);
    }
  });

  it("a new digest for any change of the proxy's configuration, the same digest for the same one", async () => {
    const digestOf = async (config: Record<string, string | number>) => {
      const { run } = await attempt({ ...SWARM, ...config });
      return taskSpec(named(await run, SERVICE, "proxy")).containerSpec.env?.PROXY_CONFIG_ID;
    };
    const base = await digestOf({});
    expect(await digestOf({})).toBe(base);
    expect(await digestOf({ serverName: "other.example" })).not.toBe(base);
    expect(await digestOf({ dynamicBackends: 3 })).not.toBe(base);
  });

  it("the password reaches the proxy only as a secret file: never in the service's env", () => {
    const proxy = named(run, SERVICE, "proxy");
    const env = taskSpec(proxy).containerSpec.env;
    expect(JSON.stringify(proxy.inputs)).not.toContain(PASSWORD);
    expect(env).toMatchObject({
      BALANCER_MANAGER_USER: "admin",
      BALANCER_MANAGER_PASSWORD_FILE: "/run/secrets/balancer-manager-password",
    });
    expect(env?.BALANCER_MANAGER_PASSWORD).toBeUndefined();

    const secret = named(run, SECRET, "balancer-manager-password");
    const secretArgs = inputsOf<docker.SecretArgs>(secret);
    expect(Buffer.from(secretArgs.data, "base64").toString("utf8")).toBe(PASSWORD);
    expect(isWireSecret(secret.wireInputs.data), "data is a Pulumi secret").toBe(true);
    expect(secret.inputs.name).toBe(
      secretName(stackNames("http-infra", "sw"), "balancer-manager", PASSWORD),
    );
    expect(taskSpec(proxy).containerSpec.secrets).toEqual([
      {
        secretId: `secret-${secretArgs.name}`,
        secretName: secretArgs.name,
        fileName: "/run/secrets/balancer-manager-password",
        // Readable by the image's user (www-data) only: the entrypoint does not run as root.
        fileUid: "33",
        fileGid: "33",
        fileMode: 0o400,
      },
    ]);
  });

  it("runs every task read-only, without capabilities, limited, logs rotated: the proxy's checks too", () => {
    const writable: Record<string, string[]> = {
      proxy: ["/run/apache2"],
      static: ["/run/apache2", "/tmp"],
      dynamic: [],
      check: ["/tmp"],
    };
    const memoryMb: Record<string, number> = { proxy: 384, static: 256, dynamic: 256, check: 64 };
    const services = ofType(run, SERVICE);
    expect(services.filter((s) => s.name.startsWith("proxy-ready-")).length).toBeGreaterThan(0);
    for (const service of services) {
      const role =
        service.name === "proxy"
          ? "proxy"
          : service.name.startsWith("proxy-ready-")
            ? "check"
            : service.name.split("-")[0];
      const { containerSpec, resources, logDriver } = taskSpec(service);
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
          memoryBytes: memoryMb[role] * 1024 * 1024,
          nanoCpus: role === "check" ? 250_000_000 : 1_000_000_000,
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
    expect(secretName(names, "balancer-manager", "another long secret")).not.toBe(
      secret.inputs.name,
    );
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
    const env = taskSpec(named(result, SERVICE, "proxy")).containerSpec.env;
    expect(Object.keys(env!).filter((key) => key.startsWith("BALANCER_MANAGER"))).toEqual([]);
    expect(taskSpec(named(result, SERVICE, "proxy")).containerSpec.secrets).toBeUndefined();
  });

  it("proxyNodeLabel places the proxy on the labelled nodes only, and only those get a check", async () => {
    const { nodes } = swarmOf(3);
    engine.nodes = {
      nodes: nodes.map((node, i) => (i === 1 ? { ...node, labels: { edge: "true" } } : node)),
    };
    const { run } = await attempt({ ...SWARM, proxyNodeLabel: "edge=true" });
    const result = await run;
    const proxy = named(result, SERVICE, "proxy");
    expect(taskSpec(proxy).placement).toEqual({ constraints: ["node.labels.edge==true"] });
    expect(
      ofType(result, SERVICE)
        .map((s) => s.name)
        .filter((name) => name.startsWith("proxy-ready-")),
    ).toEqual(["proxy-ready-node-2"]);
  });

  it("a check that has not settled on a node that is up again is forced (forceUpdate + 1), so `up` waits for that node's proxy; the others keep what Swarm holds", async () => {
    const { nodes } = swarmOf(3);
    const check = (n: number) => `http-infra-sw-proxy-ready-node-${n}`;
    engine.nodes = {
      nodes: nodes.map((node, i) => ({
        ...node,
        proxyChecks: { [check(i + 1)]: { forceUpdate: 2, settled: i !== 1 } },
      })),
    };
    const result = await (await attempt(SWARM)).run;
    const forced = [1, 2, 3].map(
      (n) => taskSpec(named(result, SERVICE, `proxy-ready-node-${n}`)).forceUpdate,
    );
    expect(forced).toEqual([2, 3, 2]);
  });

  it("drained and paused nodes run no proxy task, so they get no check", async () => {
    const { nodes } = swarmOf(3);
    engine.nodes = {
      nodes: nodes.map((node, i) => ({ ...node, availability: ["active", "drain", "pause"][i] })),
    };
    const { run } = await attempt(SWARM);
    expect(
      ofType(await run, SERVICE)
        .map((s) => s.name)
        .filter((name) => name.startsWith("proxy-ready-")),
    ).toEqual(["proxy-ready-node-1"]);
  });

  it("a proxyNodeLabel on no active node is refused, naming the key and the nodes; nothing is created", async () => {
    const { run, registered } = await attempt({ ...SWARM, proxyNodeLabel: "edge=true" });
    await expect(run).rejects.toThrow(
      /proxyNodeLabel edge=true is on no active node of the swarm \(nodes: node-1 \(active\), node-2/,
    );
    expect(registered).toEqual([]);
  });

  it("without a registry a one-node swarm runs the local images, unpushed", async () => {
    engine.nodes = swarmOf(1);
    const { run } = await attempt({ deployTarget: "swarm" });
    for (const image of ofType(await run, IMAGE)) {
      expect(image.inputs.skipPush, image.name).toBe(true);
      expect(image.inputs.imageName).toMatch(/^http-infra-sw-(static|dynamic|proxy):latest$/);
    }
  });

  it("without a registry a swarm of several nodes is refused, naming registry; nothing is created", async () => {
    engine.nodes = swarmOf(3);
    const { run, registered } = await attempt({ deployTarget: "swarm" });
    await expect(run).rejects.toThrow(/registry is unset, but the swarm has 3 nodes/);
    expect(registered).toEqual([]);
  });

  it("an engine that is no swarm manager is refused, naming deployTarget; nothing is created", async () => {
    engine.nodes = { nodes: undefined, why: "This node is not a swarm manager." };
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

describe("swarm mode with tlsMode given", () => {
  const ca = createTestCa();
  const issued = ca.issue({ names: ["www.example.test"] });
  const renewed = ca.issue({ names: ["www.example.test"] });
  afterAll(() => ca.dispose());
  const TLS = {
    ...SWARM,
    tlsMode: "given",
    tlsCertificate: issued.chain,
    httpsPort: 9443,
  };
  const tlsSecrets = { balancerManagerPassword: PASSWORD, tlsPrivateKey: issued.privateKey };
  let run: ProgramRun;
  beforeAll(async () => {
    engine.nodes = swarmOf(3);
    run = await runProgram({
      stack: "sw",
      config: TLS,
      secrets: tlsSecrets,
      newResource: unitMocks().newResource,
    });
  });
  const proxy = () => named(run, SERVICE, "proxy");

  it("the chain and the key are Docker secrets, mounted as files in the proxy's tasks: the key readable by Apache's user (www-data) alone", () => {
    const names = stackNames("http-infra", "sw");
    const certificate = named(run, SECRET, "tls-certificate");
    const key = named(run, SECRET, "tls-private-key");
    const data = (secret: RecordedResource) =>
      Buffer.from(inputsOf<docker.SecretArgs>(secret).data, "base64").toString("utf8");
    expect(data(certificate)).toBe(issued.chain);
    expect(data(key)).toBe(issued.privateKey);
    expect(isWireSecret(key.wireInputs.data), "the key's data is a Pulumi secret").toBe(true);
    expect(certificate.inputs.name).toBe(secretName(names, "tls-certificate", issued.chain));
    expect(key.inputs.name).toBe(secretName(names, "tls-private-key", issued.privateKey));
    expect(isWireSecret(key.wireInputs.name), "the name shows only a hash").toBe(false);
    const mounted = (secret: RecordedResource) => {
      const { name } = inputsOf<docker.SecretArgs>(secret);
      return { secretId: `secret-${name}`, secretName: name };
    };
    // Apache runs as www-data (uid and gid 33 in both base images), no root process reads them.
    const apacheUser = { fileUid: "33", fileGid: "33" };
    expect(taskSpec(proxy()).containerSpec.secrets).toEqual([
      {
        ...mounted(named(run, SECRET, "balancer-manager-password")),
        fileName: "/run/secrets/balancer-manager-password",
        ...apacheUser,
        fileMode: 0o400,
      },
      {
        ...mounted(certificate),
        fileName: "/run/secrets/tls-certificate.pem",
        ...apacheUser,
        fileMode: 0o444,
      },
      {
        ...mounted(key),
        fileName: "/run/secrets/tls-private-key.pem",
        ...apacheUser,
        fileMode: 0o400,
      },
    ]);
  });

  it("a new certificate or key is a new secret, created before the old one is deleted", () => {
    for (const name of ["tls-certificate", "tls-private-key"]) {
      expect(named(run, SECRET, name).deleteBeforeReplace, name).toBe(false);
    }
  });

  it("the proxy's env names the files, never the key; no input carries the key outside a secret", () => {
    const env = taskSpec(proxy()).containerSpec.env;
    expect(env).toMatchObject({
      TLS_MODE: "given",
      TLS_PUBLIC_PORT: "9443",
      TLS_CERTIFICATE_FILE: "/run/secrets/tls-certificate.pem",
      TLS_PRIVATE_KEY_FILE: "/run/secrets/tls-private-key.pem",
    });
    expect(JSON.stringify(env)).not.toContain("PRIVATE KEY");
    expect(leaksOutsideSecrets(run.resources, keyMaterial(issued.privateKey))).toEqual([]);
  });

  it("publishes HTTPS beside HTTP on every node, in host mode", () => {
    expect(proxy().inputs.endpointSpec).toEqual({
      mode: "dnsrr",
      ports: [
        { targetPort: 8080, publishedPort: 8080, publishMode: "host", protocol: "tcp" },
        { targetPort: 8443, publishedPort: 9443, publishMode: "host", protocol: "tcp" },
      ],
    });
  });

  it("a new certificate, or a new key, is a new configuration digest: `up` waits until every node serves it", async () => {
    const configId = async (config: Record<string, string | number>, secrets: object) => {
      const { run } = await attempt(config, secrets);
      return taskSpec(named(await run, SERVICE, "proxy")).containerSpec.env?.PROXY_CONFIG_ID;
    };
    const base = taskSpec(proxy()).containerSpec.env?.PROXY_CONFIG_ID;
    expect(await configId(TLS, tlsSecrets)).toBe(base);
    const next = await configId(
      { ...TLS, tlsCertificate: renewed.chain },
      { ...tlsSecrets, tlsPrivateKey: renewed.privateKey },
    );
    expect(next).not.toBe(base);
    // The checks wait for the new digest on every node.
    const digest = next?.split("-").pop();
    const { run: again } = await attempt(
      { ...TLS, tlsCertificate: renewed.chain },
      { ...tlsSecrets, tlsPrivateKey: renewed.privateKey },
    );
    for (const n of [1, 2, 3]) {
      const check = taskSpec(named(await again, SERVICE, `proxy-ready-node-${n}`));
      expect(check.containerSpec.healthcheck?.tests?.[1]).toContain(`id${n}-${digest}`);
    }
  });

  it("secret names fit Swarm's 64 characters even under the longest stack prefix, and stay apart", () => {
    const longest = stackNames("http-infra", "s".repeat(52 - "http-infra-".length));
    const other = stackNames("http-infra", `${"s".repeat(52 - "http-infra-".length - 1)}t`);
    for (const purpose of ["balancer-manager", "tls-certificate", "tls-private-key"]) {
      const name = secretName(longest, purpose, "content");
      expect(name.length, name).toBeLessThanOrEqual(MAX_SECRET_NAME);
      expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$/);
      expect(name).not.toBe(secretName(other, purpose, "content"));
    }
    // A short prefix keeps the whole name: an existing stack's password secret is not renamed.
    expect(secretName(stackNames("http-infra", "sw"), "balancer-manager", "x")).toMatch(
      /^http-infra-sw-balancer-manager-[0-9a-f]{12}$/,
    );
  });

  it("a certificate over Swarm's secret size is refused before anything is created, naming the key", async () => {
    const padded = `${issued.chain}\n${"#".repeat(512_000)}\n`;
    const { run, registered } = await attempt({ ...TLS, tlsCertificate: padded }, tlsSecrets);
    await expect(run).rejects.toThrow(
      /tlsCertificate must be under 512000 bytes with deployTarget swarm \(got 51\d{4}\)/,
    );
    expect(registered).toEqual([]);
  });

  it("tlsMode acme is refused on a swarm before anything is created, naming the key and why", async () => {
    const { run, registered } = await attempt({
      ...SWARM,
      tlsMode: "acme",
      acmeDomains: "www.example.test",
      acmeEmail: "ops@example.test",
    });
    await expect(run).rejects.toThrow(
      /tlsMode acme can't be used with deployTarget swarm: every node must serve one certificate, but mod_md runs in each proxy task, so each node would order its own .*rate limits.*http-01/,
    );
    expect(registered).toEqual([]);
  });
});
