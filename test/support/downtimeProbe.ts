// A client that keeps polling the stack through the proxy while `pulumi up` runs: one sticky
// session on /api/animals/ and a fresh session (no cookie) on / each round, like a user with the
// page open and new visitors arriving. It counts failed requests and the longest time without an
// answer, per path. Bounded in rounds and time; it only talks to 127.0.0.1 (HttpSession).
import { HttpSession } from "./httpSession";

export interface DowntimeReport {
  requests: number;
  failed: number;
  /** Longest time in seconds between two answers (or from the start / to the end) on one path. */
  longestGap: number;
  /** The first few failures, for the test's message. */
  failures: string[];
  /** Which backends answered, per path. */
  servedBy: Record<string, Set<string>>;
}

export interface DowntimeProbe {
  stop(): Promise<DowntimeReport>;
}

const PATHS = ["/", "/api/animals/"] as const;

export function startDowntimeProbe(
  url: string,
  options: { intervalMs?: number; maxSeconds?: number; timeoutMs?: number } = {},
): DowntimeProbe {
  const intervalMs = options.intervalMs ?? 50;
  const deadline = performance.now() + (options.maxSeconds ?? 900) * 1000;
  const maxRounds = Math.ceil(((options.maxSeconds ?? 900) * 1000) / intervalMs);
  const sticky = new HttpSession(url, options.timeoutMs ?? 3_000);
  const report: DowntimeReport = {
    requests: 0,
    failed: 0,
    longestGap: 0,
    failures: [],
    servedBy: { "/": new Set(), "/api/animals/": new Set() },
  };
  const started = performance.now();
  const lastAnswer: Record<string, number> = { "/": started, "/api/animals/": started };
  let stopped = false;

  const ask = async (path: (typeof PATHS)[number]) => {
    const session = path === "/" ? new HttpSession(url, options.timeoutMs ?? 3_000) : sticky;
    const sent = performance.now();
    report.requests += 1;
    try {
      const reply = await session.get(path);
      if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
      const now = performance.now();
      report.longestGap = Math.max(report.longestGap, (now - lastAnswer[path]) / 1000);
      lastAnswer[path] = now;
      if (reply.servedBy) report.servedBy[path].add(reply.servedBy);
    } catch (error) {
      report.failed += 1;
      if (report.failures.length < 5) {
        const at = ((sent - started) / 1000).toFixed(1);
        report.failures.push(`${path} at +${at}s: ${(error as Error).message}`);
      }
    }
  };

  const loop = (async () => {
    for (let round = 0; round < maxRounds && !stopped && performance.now() < deadline; round++) {
      await Promise.all(PATHS.map(ask));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();

  let result: Promise<DowntimeReport> | undefined;
  return {
    stop() {
      stopped = true;
      result ??= loop.then(() => {
        const now = performance.now();
        for (const path of PATHS) {
          report.longestGap = Math.max(report.longestGap, (now - lastAnswer[path]) / 1000);
        }
        return report;
      });
      return result;
    },
  };
}

export function formatDowntime(label: string, report: DowntimeReport): string {
  return (
    `[downtime] ${label}: ${report.failed}/${report.requests} requests failed, ` +
    `longest gap ${report.longestGap.toFixed(2)}s` +
    (report.failures.length ? ` (first: ${report.failures.join("; ")})` : "")
  );
}
