"use strict";

// Binds the app to $PORT and stops gracefully on SIGTERM/SIGINT. Run as `node server.js`, not
// `npm start`, so the signals from `docker stop` reach this process (through tini, see Dockerfile).

const http = require("node:http");
const os = require("node:os");
const app = require("./app");
const { warmUp } = require("./warmUp");

const DEFAULT_PORT = 3000;
// Must stay below Docker's stop timeout (10 s by default), so a stuck request still ends with our
// own log line instead of a SIGKILL.
const SHUTDOWN_TIMEOUT_MS = 9_000;

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
try {
  port = parsePort(process.env.PORT);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
// Optional: by default listen on every interface (the container's bridge address). Tests set
// HOST=127.0.0.1 so they never open a port beyond loopback.
const host = process.env.HOST || undefined;

let shuttingDown = false;

const server = http.createServer((req, res) => {
  // server.close() waits for every open connection, and a keep-alive connection that just got its
  // answer would otherwise stay open (for keepAliveTimeout). During shutdown, answer with
  // `Connection: close` so each connection ends with its last response.
  if (shuttingDown) {
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
    if (shuttingDown) return;
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

function shutdown(signal) {
  if (shuttingDown) {
    return;
  }
  shuttingDown = true;
  console.log(`express-animals received ${signal}, closing after in-flight requests`);
  if (!server.listening) {
    // Stopped while warming up: nothing to drain.
    console.log("express-animals stopped");
    process.exit(0);
  }

  // Safety net for requests that never finish; unref'd so it never keeps a finished process alive.
  setTimeout(() => {
    console.error(
      `express-animals forced exit: requests still open after ${SHUTDOWN_TIMEOUT_MS} ms`,
    );
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();

  // Stops accepting connections and, since Node 19, closes the idle keep-alive ones; the callback
  // runs once the in-flight requests have been answered and their connections closed.
  // https://nodejs.org/docs/latest-v22.x/api/http.html#serverclosecallback
  server.close((error) => {
    if (error) {
      console.error(`express-animals shutdown error: ${error.message}`);
      process.exit(1);
    }
    console.log("express-animals stopped");
    process.exit(0);
  });
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
