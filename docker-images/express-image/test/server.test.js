// Runs the real `node server.js` as a child process, bound to 127.0.0.1 only, and talks to it with
// raw sockets so the test controls exactly when a request is complete.
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
// Run by the project's vitest (package.json at the root), so the shared test helpers are at hand.
import { rawConnection } from "../../../test/support/rawHttp";

const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Below server.js's 5 s safety timer after closing: a shutdown that only ends through the timer
// fails here.
const STEP_TIMEOUT_MS = 4_000;
const LISTEN_TIMEOUT_MS = 15_000;

const children = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  for (const child of children) {
    child.kill("SIGKILL");
  }
  children.clear();
});

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function withTimeout(promise, what, ms = STEP_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function runServer(env) {
  const child = spawn(process.execPath, ["server.js"], {
    cwd: APP_DIR,
    env: { ...process.env, NODE_ENV: "production", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk) => (output.stdout += chunk));
  child.stderr.on("data", (chunk) => (output.stderr += chunk));
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const listening = new Promise((resolve, reject) => {
    child.stdout.on("data", () => {
      if (output.stdout.includes("listening")) resolve();
    });
    exited.then(({ code }) => reject(new Error(`server exited (${code}): ${output.stderr}`)));
  });
  // Only the tests that wait for it care; the others must not see an unhandled rejection.
  listening.catch(() => {});
  return {
    child,
    output,
    // The port opens after the warm-up (warmUp.js), which may take up to its 10 s deadline.
    listening: () => withTimeout(listening, "the server to listen", LISTEN_TIMEOUT_MS),
    exited: () => withTimeout(exited, "the server to exit"),
  };
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

// The listening socket closes a moment after the idle connections, so poll (bounded) for the refusal.
async function stopsAcceptingConnections(port) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      (await connect(port)).destroy();
    } catch (error) {
      if (error.code === "ECONNREFUSED") return;
      // Reset: the connection reached the backlog just as the listening socket closed. Try again.
      if (error.code !== "ECONNRESET") throw error;
    }
    await sleep(20);
  }
  throw new Error(`port ${port} still accepts connections after ${STEP_TIMEOUT_MS} ms`);
}

// Everything the server sends on this socket until it closes the connection.
function readUntilClosed(socket) {
  return new Promise((resolve) => {
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => (received += chunk));
    socket.once("close", () => resolve(received));
  });
}

function firstResponse(socket) {
  return new Promise((resolve) => {
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", function onData(chunk) {
      received += chunk;
      const [head, body = ""] = received.split("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(head);
      if (length && Buffer.byteLength(body) >= Number(length[1])) {
        socket.off("data", onData);
        resolve(received);
      }
    });
  });
}

describe("server.js configuration", () => {
  it.each(["abc", "0", "65536", "3000.5", "-1", " 80", "0x50"])(
    "exits non-zero and names PORT when PORT=%j",
    async (value) => {
      const server = runServer({ PORT: value });

      const { code } = await server.exited();

      expect(code).toBe(1);
      expect(server.output.stderr).toMatch(/PORT must be an integer from 1 to 65535/);
      expect(server.output.stdout).not.toMatch(/listening/);
    },
  );

  it.each(["abc", "-1", "61", "1.5", " 9"])(
    "exits non-zero and names DRAIN_SECONDS when DRAIN_SECONDS=%j",
    async (value) => {
      const server = runServer({ PORT: String(await freePort()), DRAIN_SECONDS: value });

      const { code } = await server.exited();

      expect(code).toBe(1);
      expect(server.output.stderr).toMatch(/DRAIN_SECONDS must be an integer from 0 to 60/);
      expect(server.output.stdout).not.toMatch(/listening/);
    },
  );

  it("keeps idle connections open longer than the proxy's 30 s pool ttl", async () => {
    const port = await freePort();
    const server = runServer({ PORT: String(port) });
    await server.listening();

    const socket = await connect(port);
    const response = firstResponse(socket);
    socket.write("GET /healthz HTTP/1.1\r\nHost: dynamic\r\n\r\n");

    expect(await withTimeout(response, "GET /healthz")).toMatch(/\r\nKeep-Alive: timeout=65\r\n/i);
    socket.destroy();
  });
});

describe("server.js shutdown", () => {
  // Short in these tests; the default follows the proxy's health check (drain.js).
  const DRAIN_SECONDS = 2;

  it("on SIGTERM drains: a kept-alive connection still gets 200 with Connection: close, /healthz answers 503, nothing is closed until the drain ends", async () => {
    const port = await freePort();
    const server = runServer({ PORT: String(port), DRAIN_SECONDS: String(DRAIN_SECONDS) });
    await server.listening();

    // Two keep-alive connections like the ones Apache keeps in its pool: one the proxy reuses
    // during the drain, one it never uses again.
    const reused = await rawConnection(port);
    const idle = await rawConnection(port);
    const before = await reused.get("/");
    expect(before.status).toBe(200);
    expect(before.headers.connection).toBe("keep-alive");
    expect((await idle.get("/healthz")).status).toBe(200);

    server.child.kill("SIGTERM");
    const signalled = performance.now();
    await sleep(200);

    const next = await reused.get("/");
    expect(next.status, "the next request on the kept-alive connection").toBe(200);
    expect(next.headers.connection).toBe("close");
    expect(JSON.parse(next.body).animals.length).toBeGreaterThanOrEqual(3);
    await withTimeout(reused.closed, "the connection to close after its last answer");

    // New connections are still accepted: the health check must get its answer.
    const probe = await rawConnection(port);
    const health = await probe.get("/healthz");
    expect(health.status, "/healthz while draining").toBe(503);
    expect(JSON.parse(health.body)).toEqual({ status: "draining", role: "dynamic" });
    expect(health.headers.connection).toBe("close");

    // A request whose headers are only half sent when the drain ends: still answered.
    const inFlight = await connect(port);
    const inFlightAnswer = readUntilClosed(inFlight);
    inFlight.write("GET / HTTP/1.1\r\nHost: dynamic\r\n");

    const idleClosedAt = await withTimeout(idle.closed, "the idle connection to be closed");
    expect(
      idleClosedAt - signalled,
      "ms from SIGTERM until the idle connection is closed",
    ).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000 - 50);
    await stopsAcceptingConnections(port);
    expect(server.child.exitCode, "still running: a request is not finished").toBeNull();

    inFlight.write("\r\n");
    const answer = await withTimeout(inFlightAnswer, "the in-flight response");
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);

    expect(await server.exited()).toEqual({ code: 0, signal: null });
    expect(server.output.stdout).toMatch(`received SIGTERM: draining for ${DRAIN_SECONDS} s`);
    expect(server.output.stdout).toMatch(/stopped/);
    expect(server.output.stderr).toBe("");
  });

  it("on SIGINT (Ctrl-C, no balancer in front) closes at once: idle connections closed, new ones refused, exits 0", async () => {
    const port = await freePort();
    const server = runServer({ PORT: String(port), DRAIN_SECONDS: "30" });
    await server.listening();
    const idle = await rawConnection(port);
    expect((await idle.get("/healthz")).status).toBe(200);

    server.child.kill("SIGINT");

    await withTimeout(idle.closed, "the idle connection to be closed");
    await stopsAcceptingConnections(port);
    expect(await server.exited()).toEqual({ code: 0, signal: null });
    expect(server.output.stdout).toMatch(/received SIGINT: closing/);
  });

  it("SIGINT during a drain cuts it short", async () => {
    const port = await freePort();
    const server = runServer({ PORT: String(port), DRAIN_SECONDS: "30" });
    await server.listening();

    server.child.kill("SIGTERM");
    await sleep(200);
    server.child.kill("SIGINT");

    expect(await server.exited()).toEqual({ code: 0, signal: null });
    expect(server.output.stdout).toMatch(/received SIGTERM: draining for 30 s/);
  });
});
