"use strict";

// Binds the app to $PORT; on SIGTERM drains, then closes (drain.js); on SIGINT closes. Run as
// `node server.js`, not `npm start`, so the signals from `docker stop` reach this process (through
// tini, see Dockerfile).

const http = require("node:http");
const os = require("node:os");
const { createApp } = require("./app");
const { CLOSE_TIMEOUT_SECONDS, parseDrainSeconds } = require("./drain");
const { warmUp } = require("./warmUp");

const DEFAULT_PORT = 3000;

function parsePort(value) {
  if (value === undefined || value === "") {
    return DEFAULT_PORT;
  }
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`PORT must be an integer from 1 to 65535 (got ${JSON.stringify(value)})`);
  }
  return port;
}

let port;
let drainSeconds;
try {
  port = parsePort(process.env.PORT);
  drainSeconds = parseDrainSeconds(process.env.DRAIN_SECONDS);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
// Optional: by default listen on every interface (the container's bridge address). Tests set
// HOST=127.0.0.1 so they never open a port beyond loopback.
const host = process.env.HOST || undefined;

// Set once the member is told to stop: from then on /healthz fails and no connection is kept open.
let draining = false;
const app = createApp({ isDraining: () => draining });

const server = http.createServer((req, res) => {
  // While draining, each connection ends with its next response: the proxy then opens a new one
  // for its next request instead of reusing this one, and the member never closes a connection
  // the proxy may be sending on. `server.close()` also waits for every open connection, and a
  // keep-alive connection that just got its answer would otherwise stay open (keepAliveTimeout).
  if (draining) {
    res.setHeader("Connection", "close");
  }
  app(req, res);
});

// Apache's mod_proxy keeps pooled connections to each backend and reuses them for up to ttl=30 s.
// If Node (default keepAliveTimeout: 5 s) closes an idle pooled connection first, Apache can send a
// request down a socket that is being closed and answer the client with a 502. So the backend must
// keep idle connections open longer than the proxy does.
// https://httpd.apache.org/docs/2.4/mod/mod_proxy.html#workers
// https://nodejs.org/docs/latest-v22.x/api/http.html#serverkeepalivetimeout
server.keepAliveTimeout = 65_000;
// headersTimeout must exceed keepAliveTimeout, or a reused connection can be cut while the next
// request's headers are in flight: https://github.com/nodejs/node/issues/27363
server.headersTimeout = 66_000;

server.on("error", (error) => {
  console.error(`express-animals cannot listen on port ${port}: ${error.message}`);
  process.exit(1);
});

// The real port opens only once the app is warm (warmUp.js): until then Docker's health check
// fails, so neither the deploy nor the proxy's health checks send a crowd to a cold member.
warmUp(app).then(
  (answered) => {
    if (draining) return;
    console.log(`express-animals warmed up with ${answered} requests`);
    server.listen(port, host, () => {
      const { address, port: boundPort } = server.address();
      console.log(`express-animals listening on ${address}:${boundPort} as ${os.hostname()}`);
    });
  },
  (error) => {
    console.error(`express-animals cannot warm up: ${error.message}`);
    process.exit(1);
  },
);

let closing = false;

// Stops accepting connections and closes the idle keep-alive ones (Node ≥ 19); the callback runs
// once the requests in flight have been answered and their connections closed.
// https://nodejs.org/docs/latest-v22.x/api/http.html#serverclosecallback
function close() {
  if (closing) return;
  closing = true;
  // Safety net for requests that never finish; unref'd so it never keeps a finished process alive.
  setTimeout(() => {
    console.error(
      `express-animals forced exit: requests still open ${CLOSE_TIMEOUT_SECONDS} s after closing`,
    );
    process.exit(1);
  }, CLOSE_TIMEOUT_SECONDS * 1000).unref();
  server.close((error) => {
    if (error) {
      console.error(`express-animals shutdown error: ${error.message}`);
      process.exit(1);
    }
    console.log("express-animals stopped");
    process.exit(0);
  });
}

function stop(signal, { drain }) {
  const wasDraining = draining;
  draining = true;
  if (!server.listening) {
    // Stopped while warming up: the proxy has never sent anything here.
    console.log(`express-animals received ${signal} before listening: stopped`);
    process.exit(0);
  }
  if (!drain) {
    console.log(`express-animals received ${signal}: closing after in-flight requests`);
    close();
    return;
  }
  if (wasDraining) return;
  console.log(
    `express-animals received ${signal}: draining for ${drainSeconds} s (/healthz answers 503, ` +
      "every response closes its connection), then closing",
  );
  setTimeout(close, drainSeconds * 1000);
}

// `docker stop` (and swarm, and the Pulumi provider's destroy) sends SIGTERM: drain first, so the
// proxy takes this member out before it closes (drain.js). SIGINT is Ctrl-C in a terminal, with no
// balancer in front: close at once, even in the middle of a drain.
process.on("SIGTERM", () => stop("SIGTERM", { drain: true }));
process.on("SIGINT", () => stop("SIGINT", { drain: false }));
