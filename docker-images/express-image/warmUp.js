"use strict";

// Serves a burst of requests to the app on a private loopback port before the real port opens.
// A freshly started Node process runs its code in V8's interpreter and starts with a small heap:
// a crowd of new sessions arriving on a fresh deploy made the members, not the proxy, answer some
// requests after 2.5 s and some never within 5 s (packet captures on the stack's bridge: the time
// was between the request reaching Express and Express answering; the same crowd sent straight to
// a cold member timed out too, and none did on a warmed one).
// Many connections at once, not one: the burst also warms the per-connection paths (accept,
// HTTP parser, socket objects).
// https://v8.dev/blog/maglev (tiers: code gets fast only after it has run a while)

const http = require("node:http");

/**
 * Runs `requests` GETs of `path` spread over `connections` keep-alive connections against a
 * throw-away server on 127.0.0.1 that uses `handler`. Bounded: it stops at `deadlineMs` whatever is
 * left, and never fails: a member that could not warm up still starts, only colder.
 * Resolves with the number of requests answered.
 */
async function warmUp(
  handler,
  { path = "/", requests = 3000, connections = 100, deadlineMs = 10_000 } = {},
) {
  const server = http.createServer(handler);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const deadline = Date.now() + deadlineMs;
  let sent = 0;
  let answered = 0;
  const one = () =>
    new Promise((resolve) => {
      const request = http.get(
        { host: "127.0.0.1", port, path, agent, timeout: deadlineMs },
        (response) => {
          response.resume();
          response.on("end", () => {
            answered++;
            resolve();
          });
          response.on("error", resolve);
        },
      );
      request.on("timeout", () => request.destroy());
      request.on("error", resolve);
    });
  const lane = async () => {
    while (sent < requests && Date.now() < deadline) {
      sent++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, lane));
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return answered;
}

module.exports = { warmUp };
