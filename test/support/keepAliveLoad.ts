// Steady keep-alive load through the proxy while something happens to the stack (a member
// stopped, a pool rolled): each session is one cookie jar on Node's pooled keep-alive client,
// asking its path again and again with a short pause. The proxy then holds many pooled
// connections to every member and keeps reusing them, which is where a member that closes under
// the proxy shows. Bounded in time and in requests; it only talks to 127.0.0.1 (HttpSession).
import { HttpSession } from "./httpSession";

export interface KeepAliveLoadReport {
  requests: number;
  failed: number;
  /** The first few failures, with the time since the load started. */
  failures: string[];
  /** Requests answered, per backend (X-Served-By). */
  servedBy: Map<string, number>;
}

export interface KeepAliveLoad {
  stop(): Promise<KeepAliveLoadReport>;
}

export function startKeepAliveLoad(
  url: string,
  options: {
    paths: readonly string[];
    /** Concurrent sessions per path. */
    sessions: number;
    pauseMs?: number;
    maxSeconds?: number;
    maxRequests?: number;
    timeoutMs?: number;
  },
): KeepAliveLoad {
  const pauseMs = options.pauseMs ?? 10;
  const deadline = performance.now() + (options.maxSeconds ?? 180) * 1000;
  const maxRequests = options.maxRequests ?? 200_000;
  const started = performance.now();
  const report: KeepAliveLoadReport = { requests: 0, failed: 0, failures: [], servedBy: new Map() };
  let stopped = false;

  const session = async (path: string) => {
    const client = new HttpSession(url, options.timeoutMs ?? 5_000);
    while (!stopped && report.requests < maxRequests && performance.now() < deadline) {
      const sent = performance.now();
      report.requests += 1;
      try {
        const reply = await client.get(path);
        if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
        const backend = reply.servedBy ?? "(no X-Served-By)";
        report.servedBy.set(backend, (report.servedBy.get(backend) ?? 0) + 1);
      } catch (error) {
        report.failed += 1;
        if (report.failures.length < 5) {
          const cause = (error as Error).cause ? ` (${String((error as Error).cause)})` : "";
          const at = ((sent - started) / 1000).toFixed(1);
          report.failures.push(`${path} at +${at}s: ${(error as Error).message}${cause}`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  const sessions = Promise.all(
    options.paths.flatMap((path) => Array.from({ length: options.sessions }, () => session(path))),
  );
  let result: Promise<KeepAliveLoadReport> | undefined;
  return {
    stop() {
      stopped = true;
      result ??= sessions.then(() => report);
      return result;
    },
  };
}

export function formatLoad(label: string, report: KeepAliveLoadReport): string {
  const split = [...report.servedBy]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([backend, n]) => `${backend.replace(/^.*-(\w+-\d+)$/, "$1")} ${n}`)
    .join(", ");
  return (
    `[load] ${label}: ${report.failed}/${report.requests} requests failed (${split})` +
    (report.failures.length ? `; first: ${report.failures.join("; ")}` : "")
  );
}
