// A crowd of new sessions arriving at once: every session is one browser, with its own
// cookie jar and its own keep-alive connection (an http.Agent with one socket), sending its
// requests back to back. Every request has a hard client timeout; the result keeps each
// request's latency, so the slowest request and the percentiles come from all of them, and the
// time each session waited for its TCP connection, which shows a dropped SYN (retransmitted by
// the kernel after 1 s, then 3 s) apart from a slow answer.
// Bounded: a fixed number of requests per session, each ending within timeoutMs.
import http from "node:http";
import { assertLoopback } from "./httpSession";

export interface BurstResult {
  sessions: number;
  requestsPerSession: number;
  /** Requests answered 200 within the timeout. */
  ok: number;
  /** Requests not answered within the client timeout. */
  timeouts: number;
  /** Every failed request, one line each: a timeout, a reset, a refused connection, a non-200. */
  errors: string[];
  /** Latency of every request that got an answer (ms), sorted ascending. */
  latenciesMs: number[];
  /** Each session's latencies in the order sent (ms; NaN for a failed request). */
  latenciesBySession: number[][];
  /** Time each session waited for its connection to open (ms), sorted ascending. */
  connectMs: number[];
  /** Sessions per backend, by the X-Served-By of each session's first answer. */
  sessionsPerBackend: Map<string, number>;
  /** Sessions answered by more than one backend. */
  movedSessions: number;
  seconds: number;
}

/** The value at quantile q (0..1) of an ascending array; 0 for an empty one. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

interface Answer {
  status: number;
  servedBy: string | undefined;
  setCookie: string[];
}

/** One GET on the session's agent; rejects when no full answer arrived within timeoutMs. */
function get(
  url: URL,
  agent: http.Agent,
  headers: Record<string, string>,
  timeoutMs: number,
  onConnect: () => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      {
        agent,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        response.resume();
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            servedBy: response.headers["x-served-by"] as string | undefined,
            setCookie: response.headers["set-cookie"] ?? [],
          }),
        );
      },
    );
    request.on("error", reject);
    request.on("socket", (socket) => {
      // A reused keep-alive socket is already connected; a new one reports when it is.
      if (!socket.connecting) return;
      socket.once("connect", onConnect);
    });
  });
}

export async function coldBurst(options: {
  url: string;
  path?: string;
  sessions: number;
  requestsPerSession: number;
  timeoutMs?: number;
}): Promise<BurstResult> {
  const url = assertLoopback(new URL(options.path ?? "/api/animals/", options.url).toString());
  const timeoutMs = options.timeoutMs ?? 5_000;
  const started = performance.now();
  const sessions = await Promise.all(
    Array.from({ length: options.sessions }, async (_, sessionIndex) => {
      // One connection per session, kept alive between its requests, as a browser tab keeps one.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const cookies = new Map<string, string>();
      const latencies: number[] = [];
      const inOrder: number[] = [];
      const errors: string[] = [];
      const servedBy: string[] = [];
      let timeouts = 0;
      let connectMs: number | undefined;
      try {
        for (let i = 0; i < options.requestsPerSession; i++) {
          const sent = performance.now();
          const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
          const failed = (reason: string) =>
            errors.push(
              `request burst-${sessionIndex + 1}-${i + 1}, sent at +${(sent - started).toFixed(0)} ms: ${reason}`,
            );
          try {
            // X-Request-Id names the request in every hop's log or packet capture.
            const headers: Record<string, string> = {
              "x-request-id": `burst-${sessionIndex + 1}-${i + 1}`,
              ...(cookie ? { cookie } : {}),
            };
            const answer = await get(url, agent, headers, timeoutMs, () => {
              connectMs ??= performance.now() - sent;
            });
            latencies.push(performance.now() - sent);
            inOrder.push(performance.now() - sent);
            for (const line of answer.setCookie) {
              const [pair] = line.split(";");
              const at = pair.indexOf("=");
              cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
            }
            if (answer.status !== 200) failed(`HTTP ${answer.status}`);
            else servedBy.push(answer.servedBy ?? "(no X-Served-By)");
          } catch (error) {
            inOrder.push(NaN);
            const name = (error as Error).name;
            if (name === "TimeoutError" || name === "AbortError") {
              timeouts++;
              failed(`no answer within ${timeoutMs} ms`);
            } else {
              failed((error as Error).message);
            }
          }
        }
      } finally {
        agent.destroy();
      }
      return { latencies, inOrder, errors, servedBy, timeouts, connectMs };
    }),
  );
  const sessionsPerBackend = new Map<string, number>();
  for (const { servedBy } of sessions) {
    if (servedBy.length > 0)
      sessionsPerBackend.set(servedBy[0], (sessionsPerBackend.get(servedBy[0]) ?? 0) + 1);
  }
  const ascending = (values: number[]) => values.sort((a, b) => a - b);
  return {
    sessions: options.sessions,
    requestsPerSession: options.requestsPerSession,
    ok: sessions.reduce((sum, s) => sum + s.servedBy.length, 0),
    timeouts: sessions.reduce((sum, s) => sum + s.timeouts, 0),
    errors: sessions.flatMap((s) => s.errors),
    latenciesMs: ascending(sessions.flatMap((s) => s.latencies)),
    latenciesBySession: sessions.map((s) => s.inOrder),
    connectMs: ascending(sessions.flatMap((s) => (s.connectMs === undefined ? [] : [s.connectMs]))),
    sessionsPerBackend: new Map([...sessionsPerBackend].sort(([a], [b]) => a.localeCompare(b))),
    movedSessions: sessions.filter((s) => new Set(s.servedBy).size > 1).length,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The failed requests in a few lines, for an assertion message: how many of each kind ("HTTP 503",
 * "no answer within 5000 ms", "socket hang up"...), when the first and last of each were sent, and
 * the first few requests by id, to look up in the proxy's and members' logs.
 */
export function describeFailures(errors: string[], examples = 5): string {
  const kinds = new Map<string, { count: number; sentMs: number[] }>();
  for (const error of errors) {
    const match = /sent at \+(\d+) ms: (.*)$/.exec(error);
    const reason = match?.[2] ?? error;
    const kind = kinds.get(reason) ?? { count: 0, sentMs: [] };
    kind.count++;
    if (match) kind.sentMs.push(Number(match[1]));
    kinds.set(reason, kind);
  }
  const lines = [...kinds]
    .sort(([, a], [, b]) => b.count - a.count)
    .map(([reason, { count, sentMs }]) =>
      sentMs.length === 0
        ? `${count} × ${reason}`
        : `${count} × ${reason} (sent +${Math.min(...sentMs)}..+${Math.max(...sentMs)} ms)`,
    );
  return [`${errors.length} failed: ${lines.join("; ")}`, ...errors.slice(0, examples)].join("\n");
}

/** One line: "10000 requests, 0 errors (0 timeouts), p50 12 ms, p99 180 ms, slowest 950 ms, ...". */
export function summarizeBurst(result: BurstResult): string {
  const total = result.sessions * result.requestsPerSession;
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  return (
    `${total} requests, ${result.errors.length} errors (${result.timeouts} timeouts), ` +
    `p50 ${ms(quantile(result.latenciesMs, 0.5))}, p99 ${ms(quantile(result.latenciesMs, 0.99))}, ` +
    `slowest ${ms(result.latenciesMs.at(-1) ?? 0)}, ` +
    `slowest connect ${ms(result.connectMs.at(-1) ?? 0)}, ${result.seconds.toFixed(1)} s`
  );
}
