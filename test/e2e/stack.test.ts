// End to end: the real index.ts deployed on a Docker engine through the harness, checked only
// through the proxy's published 127.0.0.1 port, then destroyed. Required in CI; skipped outside CI
// when no engine answers (the reason is printed).
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  deployStack,
  describeWithDocker,
  formatTimings,
  type DeployedStack,
} from "../support/e2eStack";
import { expectLeastPrivilege, stackContainers } from "../support/cisCheck";
import { logTail } from "../support/harness/resources/engineApi";
import { HttpSession, tally } from "../support/httpSession";
import { HOST_PORTS } from "../support/ports";

const MANAGER_PASSWORD = "e2e-manager-password";
const ports = HOST_PORTS.stack.ports;

describeWithDocker("the deployed stack", () => {
  let main: DeployedStack;
  let scale: DeployedStack | undefined;
  const checksStarted = performance.now();

  const containerName = (stack: DeployedStack, role: string, index: number) =>
    `http-infra-${stack.harness.stack}-${role}-${index}`;

  beforeAll(async () => {
    main = await deployStack({
      stack: "e2e",
      config: { proxyPort: ports.main },
      secrets: { balancerManagerPassword: MANAGER_PASSWORD },
    });
  }, 600_000);

  afterAll(async () => {
    for (const stack of [main, scale]) {
      if (!stack) continue;
      await stack.harness.destroy();
      console.log(formatTimings(stack.harness.stack, stack.harness.timings));
    }
    console.log(`[e2e timings] checks ${((performance.now() - checksStarted) / 1000).toFixed(1)}s`);
  }, 120_000);

  it("every container runs with least privilege: each CIS Docker Benchmark rule, or a stated exception", async () => {
    expectLeastPrivilege(
      await stackContainers(main.harness.docker, main.harness.stack),
      { target: "containers", proxyPort: ports.main, proxyBindAddress: "127.0.0.1" },
      5,
    );
  });

  it("round-robins static / over both static backends (20 requests, each at least 5)", async () => {
    const replies = [];
    for (let i = 0; i < 20; i++) replies.push(await new HttpSession(main.url).get("/"));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const counts = tally(replies.map((r) => r.servedBy));
    expect([...counts.keys()].sort()).toEqual([
      containerName(main, "static", 1),
      containerName(main, "static", 2),
    ]);
    for (const [backend, count] of counts) expect(count, `${backend}`).toBeGreaterThanOrEqual(5);
    expect(
      replies.flatMap((r) => r.setCookie),
      "static replies set no cookie",
    ).toEqual([]);
  });

  it("spreads new sessions (no cookie) over both dynamic backends", async () => {
    const servedBy = new Set<string | null>();
    for (let i = 0; i < 10; i++) {
      const reply = await new HttpSession(main.url).get("/api/animals/");
      expect(reply.status).toBe(200);
      servedBy.add(reply.servedBy);
    }
    expect([...servedBy].sort()).toEqual([
      containerName(main, "dynamic", 1),
      containerName(main, "dynamic", 2),
    ]);
  });

  it("keeps a ROUTEID session on one dynamic backend for 50 requests", async () => {
    const session = new HttpSession(main.url);
    const first = await session.get("/api/animals/");
    expect(session.cookie, "the first reply sets ROUTEID").toMatch(/^\.\d+$/);
    expect(`.${first.route}`).toBe(session.cookie);
    for (let i = 0; i < 50; i++) {
      const reply = await session.get("/api/animals/");
      expect(reply.status).toBe(200);
      expect(reply.servedBy, `request ${i + 1}`).toBe(first.servedBy);
      expect(reply.setCookie, "the cookie is set only when the route changes").toEqual([]);
    }
    const body = JSON.parse((await session.get("/api/animals/")).body) as {
      servedBy: string;
      animals: unknown[];
    };
    expect(body.servedBy).toBe(first.servedBy);
    expect(body.animals.length).toBeGreaterThan(0);
  });

  it("sets ROUTEID with Path=/, HttpOnly and SameSite=Lax", async () => {
    const reply = await new HttpSession(main.url).get("/api/animals/");
    expect(reply.setCookie).toHaveLength(1);
    const [cookie, ...attributes] = reply.setCookie[0].split(";").map((part) => part.trim());
    expect(cookie).toMatch(/^ROUTEID=\.\d+$/);
    expect(attributes).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "SameSite=Lax"]));
  });

  it("answers whatever Host the client sends", async () => {
    const { port } = new URL(main.url);
    const reply = await new Promise<{ status?: number; servedBy?: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port, path: "/", headers: { host: "some-other-name.test" } },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode, servedBy: res.headers["x-served-by"] as string });
        },
      );
      req.setTimeout(5_000, () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end();
    });
    expect(reply.status).toBe(200);
    expect(reply.servedBy).toMatch(/^http-infra-e2e-static-\d$/);
  });

  it("guards the balancer-manager with basic auth and lists every member", async () => {
    const anonymous = await new HttpSession(main.url).get("/balancer-manager");
    expect(anonymous.status).toBe(401);
    const basic = (password: string) =>
      `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
    const wrong = await new HttpSession(main.url).get("/balancer-manager", {
      authorization: basic("not-the-password"),
    });
    expect(wrong.status).toBe(401);
    const manager = await new HttpSession(main.url).get("/balancer-manager", {
      authorization: basic(MANAGER_PASSWORD),
    });
    expect(manager.status).toBe(200);
    const members = [
      ...(main.run.outputs.staticBackends as string[]),
      ...(main.run.outputs.dynamicBackends as string[]),
    ];
    for (const member of members) expect(manager.body).toContain(member);
  });

  it("moves a sticky client to the live dynamic backend within 2 s when its own stops", async () => {
    const session = new HttpSession(main.url);
    const bound = await session.get("/api/animals/");
    const cookieBefore = session.cookie;
    const boundContainer = main.harness.docker.getContainer(bound.servedBy!);
    await boundContainer.stop({ t: 5 });
    try {
      const started = performance.now();
      const moved = await session.get("/api/animals/");
      expect((performance.now() - started) / 1000, "seconds to fail over").toBeLessThan(2);
      expect(moved.status).toBe(200);
      expect(moved.servedBy).not.toBe(bound.servedBy);
      expect(session.cookie, "the cookie moves to the live backend").not.toBe(cookieBefore);
      for (let i = 0; i < 10; i++) {
        const reply = await session.get("/api/animals/");
        expect(reply.status).toBe(200);
        expect(reply.servedBy).toBe(moved.servedBy);
      }
    } finally {
      await boundContainer.start();
    }
  });

  it("keeps serving static pages when one static backend stops", async () => {
    const stopped = main.harness.docker.getContainer(containerName(main, "static", 1));
    await stopped.stop({ t: 5 });
    try {
      for (let i = 0; i < 20; i++) {
        const reply = await new HttpSession(main.url).get("/");
        expect(reply.status, `request ${i + 1}`).toBe(200);
        expect(reply.servedBy).toBe(containerName(main, "static", 2));
      }
    } finally {
      await stopped.start();
    }
  });

  it("a proxy started with an invalid DYNAMIC_APP_1 fails the provider's wait; its log names the variable", async () => {
    // What a user sees: the provider's own error after the whole wait_timeout (it polls the
    // container's health every second even though the entrypoint exited at once,
    // resourceDockerContainerCreate), the container left behind, exited, and `docker logs` naming
    // the variable (the entrypoint fails fast, naming it).
    const proxyImage = main.run.resources.find((r) => r.name === "proxy")!.inputs.image as string;
    const staticAddress = (main.run.outputs.staticBackends as string[])[0];
    const name = "http-infra-e2e-bad-proxy";
    const waitTimeout = 10;
    const started = performance.now();
    await expect(
      main.harness.runContainer({
        name,
        image: proxyImage,
        envs: [`STATIC_APP_1=${staticAddress}`, "DYNAMIC_APP_1=10.0.0.1:99999"],
        wait: true,
        waitTimeout,
      }),
    ).rejects.toThrow(/^container failed to be in healthy state$/);
    expect((performance.now() - started) / 1000, "seconds waited").toBeGreaterThanOrEqual(
      waitTimeout,
    );
    const bad = main.harness.docker.getContainer(name);
    const info = await bad.inspect();
    expect(info.State.Running, "the container exited").toBe(false);
    expect(info.State.ExitCode).toBeGreaterThan(0);
    expect(await logTail(bad), "docker logs").toMatch(/DYNAMIC_APP_1/);
  });

  it("runs a second stack beside the first: 3 static + 4 dynamic, every member serving", async () => {
    scale = await deployStack({
      stack: "e2e-scale",
      config: { proxyPort: ports.scale, staticBackends: 3, dynamicBackends: 4 },
    });
    const staticServers = new Set<string | null>();
    for (let i = 0; i < 12; i++)
      staticServers.add((await new HttpSession(scale.url).get("/")).servedBy);
    expect([...staticServers].sort()).toEqual(
      [1, 2, 3].map((i) => containerName(scale!, "static", i)),
    );
    const dynamicServers = new Set<string | null>();
    for (let i = 0; i < 16; i++) {
      dynamicServers.add((await new HttpSession(scale.url).get("/api/animals/")).servedBy);
    }
    expect([...dynamicServers].sort()).toEqual(
      [1, 2, 3, 4].map((i) => containerName(scale!, "dynamic", i)),
    );
    expectLeastPrivilege(
      await stackContainers(scale.harness.docker, scale.harness.stack),
      { target: "containers", proxyPort: ports.scale, proxyBindAddress: "127.0.0.1" },
      8,
    );
    // No password in this stack: the balancer-manager is not served at all.
    expect((await new HttpSession(scale.url).get("/balancer-manager")).status).toBe(404);
    // Both with default config: each got a subnet of its own on the one engine.
    expect(scale.run.outputs.networkSubnet, "the second stack's subnet").not.toBe(
      main.run.outputs.networkSubnet,
    );
    // The first stack still serves from its own backends.
    const reply = await new HttpSession(main.url).get("/api/animals/");
    expect(reply.status).toBe(200);
    expect(reply.servedBy).toMatch(/^http-infra-e2e-dynamic-\d$/);
  }, 600_000);

  it("destroys both stacks leaving nothing behind", async () => {
    for (const stack of [scale!, main]) {
      expect(await stack.harness.destroy(), stack.harness.stack).toEqual({
        containers: [],
        networks: [],
      });
    }
  }, 120_000);
});
