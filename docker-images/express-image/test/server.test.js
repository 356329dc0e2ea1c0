// Runs the real `node server.js` as a child process, bound to 127.0.0.1 only, and talks to it with
// raw sockets so the test controls exactly when a request is complete.
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Far below server.js's 9 s safety timer: a shutdown that only ends through the timer fails here.
const STEP_TIMEOUT_MS = 5_000;

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

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_TIMEOUT_MS);
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
    listening: () => withTimeout(listening, "the server to listen"),
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
  it("on SIGTERM answers the in-flight request, refuses new connections and exits 0", async () => {
    const port = await freePort();
    const server = runServer({ PORT: String(port) });
    await server.listening();
    expect(server.output.stdout).toMatch(`listening on 127.0.0.1:${port}`);

    // An idle keep-alive connection, like the ones Apache keeps in its pool.
    const idle = await connect(port);
    const idleResponse = firstResponse(idle);
    idle.write("GET /healthz HTTP/1.1\r\nHost: dynamic\r\n\r\n");
    await withTimeout(idleResponse, "the first response on the idle connection");
    const idleClosed = new Promise((resolve) => idle.once("close", resolve));

    // A request whose headers are only half sent when the signal arrives.
    const inFlight = await connect(port);
    const inFlightAnswer = readUntilClosed(inFlight);
    inFlight.write("GET / HTTP/1.1\r\nHost: dynamic\r\n");
    // Give the server a moment to read the partial request before it is told to stop.
    await sleep(200);

    server.child.kill("SIGTERM");
    await withTimeout(idleClosed, "the idle connection to be closed");
    await stopsAcceptingConnections(port);
    // Still running: it waits for the request that is not finished yet.
    expect(server.child.exitCode).toBeNull();

    inFlight.write("\r\n");
    const answer = await withTimeout(inFlightAnswer, "the in-flight response");
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(answer.split("\r\n\r\n")[1]).animals.length).toBeGreaterThanOrEqual(3);

    expect(await server.exited()).toEqual({ code: 0, signal: null });
    expect(server.output.stdout).toMatch(/received SIGTERM/);
    expect(server.output.stdout).toMatch(/stopped/);
    expect(server.output.stderr).toBe("");
  });

  it("exits 0 on SIGINT too", async () => {
    const port = await freePort();
    const server = runServer({ PORT: String(port) });
    await server.listening();

    server.child.kill("SIGINT");

    expect(await server.exited()).toEqual({ code: 0, signal: null });
    expect(server.output.stdout).toMatch(/received SIGINT/);
  });
});
