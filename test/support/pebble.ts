// Pebble (Let's Encrypt's ACME test server, Debian's package: test/support/pebble/) for the ACME
// e2e suite: its image, its config and HTTPS certificate (from the test's own CA), and a container
// that joins the stack's network as soon as `up` has made it, with its mock DNS pointing the
// domain at the proxy's fixed address. Pebble validates http-01 for real: it fetches the token from
// the proxy's plain HTTP port (8080 in its container) over the stack's network.
import type Docker from "dockerode";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestCa } from "./testCa";

export const PEBBLE_IMAGE = "http-infra-test/pebble:bookworm";
const PEBBLE_CONTEXT = join(__dirname, "pebble");
/** The offline Debian base, or the official one when that is what the engine has. */
const DEBIAN_BASES = ["http-infra-base/debian:bookworm", "debian:bookworm"];

/** Inside the container (test/support/pebble/pebble-entrypoint). */
const ACME_PORT = 14000;
const MANAGEMENT_PORT = 15000;
const DNS_MANAGEMENT_PORT = 8055;

/** Builds the image with the classic builder (the engine is Docker 20.10, no BuildKit). */
export async function buildPebbleImage(docker: Docker): Promise<void> {
  let base: string | undefined;
  for (const candidate of DEBIAN_BASES) {
    const present = await docker
      .getImage(candidate)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (present) {
      base = candidate;
      break;
    }
  }
  if (!base) {
    throw new Error(
      `neither ${DEBIAN_BASES.join(" nor ")} is on this engine: run scripts/offline-base-images.sh`,
    );
  }
  const build = spawnSync(
    "docker",
    ["build", "--quiet", "--build-arg", `BASE_IMAGE=${base}`, "-t", PEBBLE_IMAGE, PEBBLE_CONTEXT],
    { encoding: "utf8", env: { ...process.env, DOCKER_BUILDKIT: "0" }, timeout: 300_000 },
  );
  if (build.status !== 0) {
    throw new Error(`docker build ${PEBBLE_IMAGE} failed: ${build.stderr || build.error?.message}`);
  }
}

export interface PebbleOptions {
  docker: Docker;
  /** The container's name: also the host name in the directory URL and on Pebble's certificate. */
  name: string;
  ca: TestCa;
  /** Host ports on 127.0.0.1 (test/support/ports.ts). */
  ports: { acme: number; management: number; dns: number };
  /** Lifetime of the certificates Pebble issues (its `certificateValidityPeriod`), in seconds. */
  certificateValiditySeconds?: number;
  /** Labels, so a leftovers check finds the container. */
  labels?: Record<string, string>;
}

export interface Pebble {
  /** The ACME directory URL, as the proxy reaches it over the stack's network. */
  directoryUrl: string;
  /** The PEM root that signs Pebble's own HTTPS (the test CA's): the proxy's acmeCaRoot. */
  httpsRoot: string;
  /** The root of what Pebble issues (management API /roots/0; a new one at each start). */
  issuingRoot(): Promise<string>;
  /** Joins `network` and points the mock DNS's every A answer at `proxyAddress`. */
  attach(network: string, proxyAddress: string): Promise<void>;
  logs(): Promise<string>;
  remove(): Promise<void>;
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const { docker, name, ca, ports } = options;
  const dir = mkdtempSync(join(tmpdir(), "http-infra-pebble-"));
  const issued = ca.issue({ names: [name, "127.0.0.1"] });
  writeFileSync(join(dir, "cert.pem"), issued.chain);
  writeFileSync(join(dir, "key.pem"), issued.privateKey);
  writeFileSync(
    join(dir, "pebble-config.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `0.0.0.0:${ACME_PORT}`,
        managementListenAddress: `0.0.0.0:${MANAGEMENT_PORT}`,
        certificate: "/etc/pebble/cert.pem",
        privateKey: "/etc/pebble/key.pem",
        // http-01 goes to the proxy's plain HTTP port (8080 inside its container, where the host
        // would map 80: MDPortMap in templates/tls.php).
        httpPort: 8080,
        tlsPort: 443,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        ...(options.certificateValiditySeconds !== undefined && {
          certificateValidityPeriod: options.certificateValiditySeconds,
        }),
      },
    }),
  );
  const container = await docker.createContainer({
    name,
    Image: PEBBLE_IMAGE,
    Labels: options.labels,
    Env: [
      // No random 0-15 s sleep before each validation (README "Testing at full speed").
      "PEBBLE_VA_NOSLEEP=1",
      // Pebble rejects 5 % of good nonces by default to exercise clients' badNonce retry; mod_md
      // retries them, but a retry is a delay the timing figure should not carry at random.
      "PEBBLE_WFE_NONCEREJECT=0",
    ],
    ExposedPorts: {
      [`${ACME_PORT}/tcp`]: {},
      [`${MANAGEMENT_PORT}/tcp`]: {},
      [`${DNS_MANAGEMENT_PORT}/tcp`]: {},
    },
    HostConfig: {
      Binds: [`${dir}:/etc/pebble:ro`],
      PortBindings: {
        [`${ACME_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(ports.acme) }],
        [`${MANAGEMENT_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(ports.management) }],
        [`${DNS_MANAGEMENT_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(ports.dns) }],
      },
    },
  });
  await container.start();

  const get = (port: number, path: string, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path,
          method: body === undefined ? "GET" : "POST",
          ca: ca.root,
          servername: name,
          agent: false,
          timeout: 5_000,
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`pebble ${path} timed out`)));
      req.on("error", reject);
      req.end(body);
    });
  // pebble-challtestsrv's management API is plain HTTP.
  const post = (path: string, body: unknown) =>
    fetch(`http://127.0.0.1:${ports.dns}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    }).then(async (response) => {
      if (!response.ok) throw new Error(`challtestsrv ${path}: ${response.status}`);
    });
  const logs = async () =>
    (await container.logs({ stdout: true, stderr: true, tail: 60 })).toString("utf8");

  // Ready when the directory answers (a few hundred ms: Pebble makes its root and intermediate).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await get(ports.acme, "/dir").catch(() => undefined);
    if (answer?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`Pebble did not start:\n${await logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    directoryUrl: `https://${name}:${ACME_PORT}/dir`,
    httpsRoot: ca.root,
    issuingRoot: async () => {
      const answer = await get(ports.management, "/roots/0");
      if (answer.status !== 200) throw new Error(`Pebble /roots/0 answered ${answer.status}`);
      return answer.body;
    },
    attach: async (network, proxyAddress) => {
      await post("/set-default-ipv4", { ip: proxyAddress });
      await docker.getNetwork(network).connect({ Container: container.id });
    },
    logs,
    remove: async () => {
      await container.remove({ force: true }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
