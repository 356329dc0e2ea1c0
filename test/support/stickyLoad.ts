// Sticky-session load, shared by the e2e load test and the benchmark: many concurrent sessions,
// each with its own cookie jar (like one browser each), each sending its requests back to back.
// Bounded: a fixed number of requests per session, each with a timeout.
import { HttpSession } from "./httpSession";

export interface StickyLoadResult {
  sessions: number;
  requestsPerSession: number;
  /** One line per failed request: a timeout, a reset, or a non-200 status. */
  errors: string[];
  /** Sessions that were answered by more than one backend. */
  movedSessions: number;
  /** Sessions per backend, by the backend that answered a session's first request. */
  sessionsPerBackend: Map<string, number>;
  seconds: number;
}

export async function stickyLoad(options: {
  url: string;
  path?: string;
  sessions: number;
  requestsPerSession: number;
  timeoutMs?: number;
}): Promise<StickyLoadResult> {
  const path = options.path ?? "/api/animals/";
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: options.sessions }, async () => {
      const session = new HttpSession(options.url, options.timeoutMs ?? 5_000);
      const servedBy: string[] = [];
      const errors: string[] = [];
      for (let i = 0; i < options.requestsPerSession; i++) {
        const reply = await session.get(path).catch((error: Error) => error);
        if (reply instanceof Error) errors.push(`${reply.message} (${String(reply.cause)})`);
        else if (reply.status !== 200) errors.push(`HTTP ${reply.status}`);
        else servedBy.push(reply.servedBy ?? "(no X-Served-By)");
      }
      return { errors, servedBy };
    }),
  );
  const sessionsPerBackend = new Map<string, number>();
  for (const { servedBy } of results) {
    if (servedBy.length === 0) continue;
    sessionsPerBackend.set(servedBy[0], (sessionsPerBackend.get(servedBy[0]) ?? 0) + 1);
  }
  return {
    sessions: options.sessions,
    requestsPerSession: options.requestsPerSession,
    errors: results.flatMap((r) => r.errors),
    movedSessions: results.filter((r) => new Set(r.servedBy).size > 1).length,
    sessionsPerBackend: new Map([...sessionsPerBackend].sort(([a], [b]) => a.localeCompare(b))),
    seconds: (performance.now() - started) / 1000,
  };
}

/** "dynamic-1 251, dynamic-2 249": backend names without the stack prefix, sorted. */
export function formatSplit(split: Map<string, number>): string {
  return [...split]
    .map(([backend, n]) => `${backend.replace(/^.*-(\w+-\d+)$/, "$1")} ${n}`)
    .join(", ");
}
