// What a client gets from the real proxy image when a member closes a pooled connection under it,
// the reason members drain before they stop. Backend test doubles stand in for the members: one
// answers the first request on each connection and drops the connection when the next one arrives
// on it, as a member does that closes its idle keep-alive connections at the moment the proxy reuses
// one; another answers every request with `Connection: close` and then closes, as a draining member
// does. mod_proxy_http does not retry a request whose reused backend connection died before the
// answer, even with a healthy member beside it: a client connection that already carried a request
// is closed with no answer, and a new client connection gets 502 (apache/httpd,
// modules/proxy/mod_proxy_http.c, ap_proxy_http_process_response, 2.4.x: AH01102, then AH01104 or
// "Error reading from remote server"). Required in CI.
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { baseImageConfig, describeWithDocker } from "../support/e2eStack";
import { buildImage } from "../support/harness/build";
import { HARNESS_LABEL } from "../support/harness/dockerHarness";
import { logTail } from "../support/harness/resources/engineApi";
import { HOST_PORTS } from "../support/ports";
import { rawConnection } from "../support/rawHttp";
import { PROXY_PORT } from "../../src/proxyEnvironment";

const STACK = "e2e-proxy-reuse";
const PROXY_TAG = `http-infra-${STACK}-proxy:latest`;
const NETWORK = `http-infra-${STACK}-net`;
const PORT = HOST_PORTS.proxyReusedConnection.ports.proxy;
const name = (role: string) => `http-infra-${STACK}-${role}`;

// The member double. MODE=drop: the second request on a connection gets no answer, the connection
// is destroyed. MODE=close: every answer says `Connection: close` and Node closes after it.
// /healthz always passes (it closes its connection), so the proxy's health check keeps both in.
const MEMBER_SCRIPT = `
const http = require("node:http");
const os = require("node:os");
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.setHeader("X-Served-By", os.hostname());
  if (req.url === "/healthz") {
    res.setHeader("Connection", "close");
    res.end(JSON.stringify({ status: "ok", role: process.env.ROLE }));
    return;
  }
  const served = (req.socket.served = (req.socket.served || 0) + 1);
  if (process.env.MODE === "drop" && served > 1) {
    req.socket.destroy();
    return;
  }
  if (process.env.MODE === "close") res.setHeader("Connection", "close");
  res.end(JSON.stringify({ servedBy: os.hostname(), requestOnConnection: served }));
});
server.keepAliveTimeout = 65000;
server.listen(3000);
process.on("SIGTERM", () => process.exit(0));
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithDocker("the proxy when a member closes a pooled connection (e2e-proxy-reuse)", () => {
  const docker = new Docker();
  const labels = { [HARNESS_LABEL]: STACK };
  const proxy = () => docker.getContainer(name("proxy"));
  const containers = ["proxy", "dropping", "closing", "static"].map(name);

  const cleanUp = async () => {
    for (const container of containers) {
      await docker
        .getContainer(container)
        .remove({ force: true })
        .catch(() => {});
    }
    await docker
      .getNetwork(NETWORK)
      .remove()
      .catch(() => {});
  };

  /** The proxy's error-log lines for a status line that could not be read from a member. */
  const readFailures = async () =>
    (await logTail(proxy(), 2_000)).split("\n").filter((line) => line.includes("AH01102"));

  beforeAll(async () => {
    await cleanUp();
    const config = await baseImageConfig(docker);
    await buildImage(docker, {
      context: "docker-images/apache-reverse-proxy",
      args: { BASE_IMAGE: config.proxyBaseImage },
      tag: PROXY_TAG,
      labels,
    });
    await docker.createNetwork({ Name: NETWORK, Labels: labels });
    const member = async (role: string, env: string[]) => {
      const container = await docker.createContainer({
        name: name(role),
        Hostname: name(role),
        Image: config.dynamicBaseImage,
        Cmd: ["node", "-e", MEMBER_SCRIPT],
        Env: env,
        Labels: labels,
        HostConfig: { NetworkMode: NETWORK },
      });
      await container.start();
    };
    await member("dropping", ["MODE=drop", "ROLE=dynamic"]);
    await member("closing", ["MODE=close", "ROLE=dynamic"]);
    await member("static", ["MODE=close", "ROLE=static"]);
    const proxyContainer = await docker.createContainer({
      name: name("proxy"),
      Image: PROXY_TAG,
      Env: [
        `STATIC_APP_1=${name("static")}:3000`,
        `DYNAMIC_APP_1=${name("dropping")}:3000`,
        `DYNAMIC_APP_2=${name("closing")}:3000`,
      ],
      Labels: labels,
      HostConfig: {
        NetworkMode: NETWORK,
        // The proxy image listens on an unprivileged port inside (it runs as www-data).
        PortBindings: { [`${PROXY_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(PORT) }] },
      },
    });
    await proxyContainer.start();
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const status = await fetch(`http://127.0.0.1:${PORT}/proxy-healthz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      await sleep(200);
    }
    // Two passing health checks (hcinterval=2) for both dynamic members.
    await sleep(5_000);
  }, 600_000);

  afterAll(cleanUp, 60_000);

  it("a member that drops a reused connection: the client's kept-alive connection is closed with no answer, a new client gets 502, and the healthy member is not tried", async () => {
    // ROUTEID=.1 pins the requests to the dropping member (route 1), as a sticky session is.
    const sticky = { Cookie: "ROUTEID=.1" };
    const before = (await readFailures()).length;

    // One client connection: its first request opens a pooled connection to the member; its
    // second is sent down that connection, which the member drops.
    const client = await rawConnection(PORT);
    const first = await client.get("/api/animals/", sticky);
    expect(first.status).toBe(200);
    expect(first.headers["x-served-by"]).toBe(name("dropping"));
    await expect(client.get("/api/animals/", sticky)).rejects.toThrow(
      "the server closed the connection without answering",
    );

    // A new client connection for every request: every other request lands on a reused backend
    // connection, and its client gets a 502.
    const statuses: number[] = [];
    const servedBy = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) {
      const fresh = await rawConnection(PORT);
      const reply = await fresh.get("/api/animals/", sticky);
      statuses.push(reply.status);
      if (reply.status === 200) servedBy.add(reply.headers["x-served-by"]);
      fresh.destroy();
    }
    expect(
      statuses.filter((status) => status === 502).length,
      `statuses ${statuses.join(",")}`,
    ).toBe(3);
    expect(
      statuses.filter((status) => status === 200).length,
      `statuses ${statuses.join(",")}`,
    ).toBe(3);
    expect([...servedBy], "no request was retried on the healthy member").toEqual([
      name("dropping"),
    ]);
    // AH01102: one per request that met a dropped connection (the log may lag a moment).
    let logged = 0;
    for (let i = 0; i < 20 && logged < 4; i++) {
      logged = (await readFailures()).length - before;
      if (logged < 4) await sleep(100);
    }
    expect(logged, "AH01102 lines in the proxy's error log").toBe(4);
  });

  it("a member that closes each connection after answering with Connection: close, as a draining member does: every request is answered", async () => {
    const sticky = { Cookie: "ROUTEID=.2" };
    const before = (await readFailures()).length;
    const client = await rawConnection(PORT);
    for (let i = 0; i < 10; i++) {
      const reply = await client.get("/api/animals/", sticky);
      expect(reply.status, `request ${i + 1}`).toBe(200);
      expect(reply.headers["x-served-by"]).toBe(name("closing"));
    }
    client.destroy();
    for (let i = 0; i < 6; i++) {
      const fresh = await rawConnection(PORT);
      expect((await fresh.get("/api/animals/", sticky)).status, `new client ${i + 1}`).toBe(200);
      fresh.destroy();
    }
    expect(await readFailures()).toHaveLength(before);
  });
});
