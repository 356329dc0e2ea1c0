// The static image's own stop contract, on a real container of it (no proxy): told to stop
// (`docker stop`, as the provider does when it replaces or destroys a member), it drains before
// Apache stops. A request on a connection kept alive from before the stop is still answered, with
// `Connection: close`; /healthz answers 503 so the proxy's health check takes the member out; no
// kept-alive connection is closed under the proxy before the drain ends; then Apache stops
// gracefully and the container exits 0 within the stack's grace. The container runs as the stack
// runs it: read-only, tmpfs only where the stack mounts one, no capabilities. Required in CI.
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { STOP_GRACE_SECONDS } from "../../src/containers/backends";
import { DROPPED_CAPABILITIES, WRITABLE_PATHS } from "../../src/hardening";
import { baseImageConfig, describeWithDocker } from "../support/e2eStack";
import { buildImage } from "../support/harness/build";
import { HARNESS_LABEL } from "../support/harness/dockerHarness";
import { logTail } from "../support/harness/resources/engineApi";
import { HOST_PORTS } from "../support/ports";
import { rawConnection } from "../support/rawHttp";

const STACK = "e2e-static-drain";
const TAG = `http-infra-${STACK}:latest`;
const NAME = `http-infra-${STACK}`;
const PORT = HOST_PORTS.staticDrain.ports.member;
// Short here; the image's default follows the proxy's health check (test/unit/drain-timing.test.ts).
const DRAIN_SECONDS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The least-privilege part of the HostConfig the stack gives a static member (src/hardening.ts). */
const HARDENED = {
  ReadonlyRootfs: true,
  Mounts: WRITABLE_PATHS.static.map(({ target, sizeBytes }) => ({
    Type: "tmpfs" as const,
    Source: "",
    Target: target,
    // Mode 0: the engine's default (1777), as the stack leaves it.
    TmpfsOptions: { SizeBytes: sizeBytes, Mode: 0 },
  })),
  CapDrop: [...DROPPED_CAPABILITIES],
  SecurityOpt: ["no-new-privileges:true"],
};

describeWithDocker("the static image drains before it stops (e2e-static-drain)", () => {
  const docker = new Docker();
  const container = () => docker.getContainer(NAME);

  const remove = () =>
    container()
      .remove({ force: true })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });

  /** A fresh container of the image on 127.0.0.1:PORT, once /healthz answers 200. */
  const run = async (env: string[]) => {
    await remove();
    await docker.createContainer({
      name: NAME,
      Image: TAG,
      Env: env,
      Labels: { [HARNESS_LABEL]: STACK },
      HostConfig: {
        ...HARDENED,
        PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(PORT) }] },
      },
    });
    await container().start();
    await servesHealthz();
  };

  const servesHealthz = async () => {
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const status = await fetch(`http://127.0.0.1:${PORT}/healthz`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await sleep(200);
    }
    throw new Error(
      `${NAME} does not answer /healthz with 200 within 30 s:\n${await logTail(container())}`,
    );
  };

  beforeAll(async () => {
    const config = await baseImageConfig(docker);
    await buildImage(docker, {
      context: "docker-images/apache-php-image",
      args: { BASE_IMAGE: config.staticBaseImage },
      tag: TAG,
      labels: { [HARNESS_LABEL]: STACK },
    });
  }, 600_000);

  afterAll(remove, 60_000);

  it("on docker stop: a kept-alive connection still gets 200 with Connection: close, /healthz answers 503, nothing is closed until the drain ends, exit 0 within the grace", async () => {
    await run([`DRAIN_SECONDS=${DRAIN_SECONDS}`]);
    // Two connections kept alive as the proxy keeps them in its pool: one it reuses during the
    // drain, one it never uses again.
    const reused = await rawConnection(PORT);
    const idle = await rawConnection(PORT);
    const before = await reused.get("/");
    expect(before.status).toBe(200);
    expect(
      before.headers.connection ?? "kept alive",
      "HTTP/1.1: kept alive unless it says close",
    ).not.toMatch(/close/i);
    expect((await idle.get("/healthz")).status).toBe(200);

    const signalled = performance.now();
    const stopped = container().stop({ t: STOP_GRACE_SECONDS });
    await sleep(500);

    const next = await reused.get("/");
    expect(next.status, "the next request on the kept-alive connection").toBe(200);
    expect(next.headers.connection).toBe("close");
    expect(next.body).toContain("Animals behind the balancer");
    await reused.closed;

    const probe = await rawConnection(PORT);
    const health = await probe.get("/healthz");
    expect(health.status, "/healthz while draining").toBe(503);
    expect(health.headers.connection).toBe("close");

    const idleClosedAt = await idle.closed;
    expect(
      idleClosedAt - signalled,
      "ms from the stop until the idle connection is closed",
    ).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000 - 50);
    await stopped;
    const seconds = (performance.now() - signalled) / 1000;
    const state = (await container().inspect()).State;
    console.log(`[static drain] docker stop took ${seconds.toFixed(1)} s`);
    expect(state.ExitCode, "exited by itself, not killed at the end of the grace").toBe(0);
    expect(seconds).toBeLessThan(STOP_GRACE_SECONDS);
    expect(await logTail(container())).toMatch(`received SIGTERM: draining for ${DRAIN_SECONDS} s`);
  }, 120_000);

  it("started again after a drain, it passes its health check (the drain does not outlive the stop)", async () => {
    await run(["DRAIN_SECONDS=1"]);
    await container().stop({ t: STOP_GRACE_SECONDS });
    await container().start();
    await servesHealthz();
    const connection = await rawConnection(PORT);
    const reply = await connection.get("/");
    expect(reply.status).toBe(200);
    expect(reply.headers.connection ?? "kept alive").not.toMatch(/close/i);
    connection.destroy();
  }, 60_000);

  it("on SIGINT (Ctrl-C in a terminal) stops gracefully at once, without draining", async () => {
    await run(["DRAIN_SECONDS=60"]);
    const signalled = performance.now();
    await container().kill({ signal: "SIGINT" });
    await container().wait();
    const seconds = (performance.now() - signalled) / 1000;
    expect(seconds, "seconds until the container exited").toBeLessThan(10);
    expect((await container().inspect()).State.ExitCode).toBe(0);
  }, 60_000);

  it.each(["abc", "61", "-1"])(
    "exits 1 and names DRAIN_SECONDS when DRAIN_SECONDS=%j",
    async (value) => {
      await remove();
      await docker.createContainer({
        name: NAME,
        Image: TAG,
        Env: [`DRAIN_SECONDS=${value}`],
        Labels: { [HARNESS_LABEL]: STACK },
        HostConfig: HARDENED,
      });
      await container().start();
      const { StatusCode } = (await container().wait()) as { StatusCode: number };
      expect(StatusCode).toBe(1);
      expect(await logTail(container())).toMatch(/DRAIN_SECONDS must be an integer from 0 to 60/);
    },
    60_000,
  );
});
