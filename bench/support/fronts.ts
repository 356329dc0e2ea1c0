// The fronts the benchmark compares, all on one stack's backends: the stack's own proxy, a
// reference HAProxy (bench/haproxy/) on the stack's network, and one backend of each kind reached
// directly (a separate container of the same image). Every one is published on 127.0.0.1 only.
import { buildImage } from "../../test/support/harness/build";
import type { DeployedStack } from "../../test/support/e2eStack";
import { HOST_PORTS } from "../../test/support/ports";

export const BENCH_PORTS = HOST_PORTS.benchFronts.ports;

export type BenchPath = "/" | "/api/animals/";
export const BENCH_PATHS: BenchPath[] = ["/api/animals/", "/"];
/**
 * "HAProxy" writes one access-log line per request to stdout (one write(2) each, read by Docker),
 * as the proxy logs every request; "HAProxy no-log" is the same config without the per-request
 * log: the fastest this HAProxy gets, and the bar the proxy is measured against.
 */
export type FrontName = "direct" | "HAProxy" | "HAProxy no-log" | "proxy";
export const FRONT_NAMES: FrontName[] = ["direct", "HAProxy", "HAProxy no-log", "proxy"];

/** What one load run aims at: a URL, the front container in the way, the backends behind it. */
export interface Target {
  front: FrontName;
  path: BenchPath;
  /** On 127.0.0.1. */
  url: string;
  /** The front's container (none when the backend is reached directly). */
  frontId?: string;
  /** The containers doing the backend work for this path. */
  backendIds: string[];
}

const containerId = async (stack: DeployedStack, name: string) =>
  (await stack.harness.docker.getContainer(name).inspect()).Id;

/** The image the stack's program gave a container, by the container's name. */
function imageOf(stack: DeployedStack, containerName: string): string {
  const resource = stack.run.resources.find(
    (r) => r.inputs.name === containerName && r.inputs.image,
  );
  if (!resource) throw new Error(`bench: the program declared no container ${containerName}`);
  return resource.inputs.image as string;
}

/** Builds bench/haproxy on the stand-in Debian base when there is one, else on debian:bookworm-slim. */
async function buildHaproxyImage(stack: DeployedStack): Promise<string> {
  const docker = stack.harness.docker;
  const standIn = "http-infra-base/debian:bookworm";
  const hasStandIn = await docker
    .getImage(standIn)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  return buildImage(docker, {
    context: "bench/haproxy",
    tag: `http-infra-${stack.harness.stack}-haproxy:latest`,
    args: { BASE_IMAGE: hasStandIn ? standIn : "debian:bookworm-slim" },
    labels: {},
  });
}

/** Removes the containers startFronts added (the stack's own destroy leaves them to their maker). */
export async function removeFronts(stack: DeployedStack): Promise<void> {
  const prefix = `http-infra-${stack.harness.stack}`;
  for (const name of [
    `${prefix}-haproxy`,
    `${prefix}-haproxy-no-log`,
    `${prefix}-direct-static`,
    `${prefix}-direct-dynamic`,
  ]) {
    await stack.harness.docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
  }
}

const published = (port: number, internal: number) => [
  { internal, external: port, ip: "127.0.0.1" },
];

/** Where HAProxy reads its certificate: the chain, then the key, in one PEM (`crt`). */
const HAPROXY_PEM = "/usr/local/etc/haproxy/tls/site.pem";
/** The HTTPS port inside the HAProxy container, as inside the Apache proxy's (PROXY_HTTPS_PORT). */
const HAPROXY_HTTPS_PORT = 8443;

/** A certificate for the fronts' HTTPS, the same for every front. */
export interface BenchCertificate {
  chain: string;
  privateKey: string;
}

/**
 * Starts a reference HAProxy on the stack's network and backends, published on 127.0.0.1:port;
 * with accessLog false, without its per-request log (NO_ACCESS_LOG, see haproxy.cfg); with `tls`,
 * also HTTPS with that certificate on 127.0.0.1:tls.port. Returns its container id and URL once
 * Docker reports it healthy.
 */
export async function startHaproxy(
  stack: DeployedStack,
  options: {
    port: number;
    accessLog: boolean;
    tls?: { certificate: BenchCertificate; port: number };
  },
): Promise<{ id: string; url: string }> {
  const { outputs } = stack.run;
  const staticAddresses = outputs.staticBackends as string[];
  const dynamicAddresses = outputs.dynamicBackends as string[];
  if (staticAddresses.length !== 2 || dynamicAddresses.length !== 2) {
    throw new Error("bench: the HAProxy reference is configured for 2 static + 2 dynamic backends");
  }
  const prefix = `http-infra-${stack.harness.stack}`;
  const created = await stack.harness.runContainer({
    name: options.accessLog ? `${prefix}-haproxy` : `${prefix}-haproxy-no-log`,
    image: await buildHaproxyImage(stack),
    envs: [
      ...staticAddresses.map((address, i) => `STATIC_APP_${i + 1}=${address}`),
      ...dynamicAddresses.map((address, i) => `DYNAMIC_APP_${i + 1}=${address}`),
      ...(options.accessLog ? [] : ["NO_ACCESS_LOG=1"]),
      ...(options.tls ? [`TLS_PEM_FILE=${HAPROXY_PEM}`] : []),
    ],
    networksAdvanced: [{ name: outputs.networkName as string }],
    ports: [
      ...published(options.port, 80),
      ...(options.tls ? published(options.tls.port, HAPROXY_HTTPS_PORT) : []),
    ],
    // Read as root before HAProxy drops to its user, as Apache reads its key.
    uploads: options.tls && [
      {
        file: HAPROXY_PEM,
        content: `${options.tls.certificate.chain.trim()}\n${options.tls.certificate.privateKey}`,
        permissions: "0600",
      },
    ],
    wait: true,
    waitTimeout: 60,
  });
  return { id: created.id, url: `http://127.0.0.1:${options.port}` };
}

/**
 * Starts both HAProxy variants (with HTTPS on `certificate`, for the HTTPS comparison) and the
 * direct backends; returns where each front serves each path over plain HTTP.
 */
export async function startFronts(
  stack: DeployedStack,
  certificate: BenchCertificate,
): Promise<(front: FrontName, path: BenchPath) => Target> {
  const { outputs } = stack.run;
  const prefix = `http-infra-${stack.harness.stack}`;
  const network = outputs.networkName as string;
  const backends = {
    static: await Promise.all([1, 2].map((i) => containerId(stack, `${prefix}-static-${i}`))),
    dynamic: await Promise.all([1, 2].map((i) => containerId(stack, `${prefix}-dynamic-${i}`))),
  };
  const haproxy = {
    HAProxy: await startHaproxy(stack, {
      port: BENCH_PORTS.haproxy,
      accessLog: true,
      tls: { certificate, port: BENCH_PORTS.haproxyHttps },
    }),
    "HAProxy no-log": await startHaproxy(stack, {
      port: BENCH_PORTS.haproxyNoLog,
      accessLog: false,
      tls: { certificate, port: BENCH_PORTS.haproxyNoLogHttps },
    }),
  };
  const direct = async (role: "static" | "dynamic", port: number, internal: number) => {
    const name = `${prefix}-direct-${role}`;
    const created = await stack.harness.runContainer({
      name,
      hostname: name,
      image: imageOf(stack, `${prefix}-${role}-1`),
      networksAdvanced: [{ name: network }],
      ports: published(port, internal),
      wait: true,
      waitTimeout: 120,
    });
    return created.id;
  };
  // The static image's Apache listens on 8080, a port that needs no privilege.
  const directStatic = await direct("static", BENCH_PORTS.directStatic, 8080);
  const directDynamic = await direct("dynamic", BENCH_PORTS.directDynamic, 3000);

  const proxyId = await containerId(stack, outputs.proxyContainerName as string);
  const role = (path: BenchPath) => (path === "/" ? "static" : "dynamic");
  return (front: FrontName, path: BenchPath): Target => {
    switch (front) {
      case "direct":
        return path === "/"
          ? {
              front,
              path,
              url: `http://127.0.0.1:${BENCH_PORTS.directStatic}/`,
              backendIds: [directStatic],
            }
          : // Express serves the animals at its root: the fronts strip "/api/animals/".
            {
              front,
              path,
              url: `http://127.0.0.1:${BENCH_PORTS.directDynamic}/`,
              backendIds: [directDynamic],
            };
      case "HAProxy":
      case "HAProxy no-log":
        return {
          front,
          path,
          url: haproxy[front].url + path,
          frontId: haproxy[front].id,
          backendIds: backends[role(path)],
        };
      case "proxy":
        return {
          front,
          path,
          url: new URL(path, stack.url).toString(),
          frontId: proxyId,
          backendIds: backends[role(path)],
        };
    }
  };
}

/** The fronts the HTTPS comparison runs: all three terminate TLS with the same certificate. */
export type HttpsFrontName = Exclude<FrontName, "direct">;
export const HTTPS_FRONT_NAMES: HttpsFrontName[] = ["HAProxy", "HAProxy no-log", "proxy"];

/** What one HTTPS load run aims at: a 127.0.0.1 port, the front's container, its backends. */
export interface HttpsTarget {
  front: HttpsFrontName;
  port: number;
  frontId: string;
  backendIds: string[];
}

/**
 * Where each front serves HTTPS for `/api/animals/`, once the stack's proxy runs with tlsMode
 * given (published on BENCH_PORTS.proxyHttps) and startFronts gave the HAProxys their HTTPS.
 */
export async function httpsTargets(
  stack: DeployedStack,
): Promise<Record<HttpsFrontName, HttpsTarget>> {
  const prefix = `http-infra-${stack.harness.stack}`;
  const backendIds = await Promise.all(
    [1, 2].map((i) => containerId(stack, `${prefix}-dynamic-${i}`)),
  );
  return {
    HAProxy: {
      front: "HAProxy",
      port: BENCH_PORTS.haproxyHttps,
      frontId: await containerId(stack, `${prefix}-haproxy`),
      backendIds,
    },
    "HAProxy no-log": {
      front: "HAProxy no-log",
      port: BENCH_PORTS.haproxyNoLogHttps,
      frontId: await containerId(stack, `${prefix}-haproxy-no-log`),
      backendIds,
    },
    proxy: {
      front: "proxy",
      port: BENCH_PORTS.proxyHttps,
      frontId: await containerId(stack, `${prefix}-proxy`),
      backendIds,
    },
  };
}
