// New TLS connections per second: `openssl s_time -new`, a full handshake (no session resumed)
// and one HTTP/1.0 GET per connection, from several client processes at once, all on 127.0.0.1.
// s_time rather than wrk with `Connection: close`: wrk keeps a connection's TLS session across its
// reconnects (SSL_clear keeps it), so its new connections may be resumptions; `-new` never asks
// for one, so every connection pays the handshake both fronts are compared on.
// https://docs.openssl.org/3.0/man1/openssl-s_time/
import { spawn, spawnSync } from "node:child_process";
import { assertLoopback } from "../../test/support/httpSession";

export interface HandshakeResult {
  /** Connections completed by all clients together. */
  connections: number;
  /** Connections per second of wall time, all clients together. */
  perSecond: number;
  /** Response bytes per connection, the least any client read: the same page from every front. */
  bytesPerConnection: number;
  /** The last lines of each client that failed (its connections are not counted). */
  failures: string[];
}

/** Fails with the install hint when the openssl command is missing. */
export function assertOpensslInstalled(): void {
  const probe = spawnSync("openssl", ["version"], { encoding: "utf8" });
  if (probe.error) throw new Error("openssl is not installed: `apt-get install openssl`");
}

function sTime(args: string[], timeoutMs: number): Promise<{ output: string; ok: boolean }> {
  return new Promise((resolve) => {
    const child = spawn("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ output, ok: code === 0 });
    });
  });
}

/** `clients` s_time processes for `seconds` against https://127.0.0.1:port`path`. */
export async function runHandshakes(options: {
  port: number;
  path: string;
  seconds: number;
  clients: number;
}): Promise<HandshakeResult> {
  assertLoopback(`https://127.0.0.1:${options.port}${options.path}`);
  const args = [
    "s_time",
    "-connect",
    `127.0.0.1:${options.port}`,
    "-new",
    "-www",
    options.path,
    "-time",
    String(options.seconds),
  ];
  const started = performance.now();
  const runs = await Promise.all(
    Array.from({ length: options.clients }, () => sTime(args, (options.seconds + 30) * 1000)),
  );
  const wall = (performance.now() - started) / 1000;
  let connections = 0;
  let bytesPerConnection = Infinity;
  const failures: string[] = [];
  for (const run of runs) {
    const summary = run.ok
      ? /(\d+) connections in \d+ real seconds, (\d+) bytes read per connection/.exec(run.output)
      : null;
    if (summary) {
      connections += Number(summary[1]);
      bytesPerConnection = Math.min(bytesPerConnection, Number(summary[2]));
    } else failures.push(run.output.trim().split("\n").slice(-3).join(" / "));
  }
  return { connections, perSecond: connections / wall, bytesPerConnection, failures };
}
