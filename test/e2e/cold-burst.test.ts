// A crowd arriving at a freshly deployed stack: right after the deploy returns, 500 new
// sessions at once, each with its own cookie jar and keep-alive connection, 20 requests each on
// /api/animals/. Every request must be answered 200 within the 5 s a browser user would wait.
// The numbers (p99, req/s, HAProxy beside the proxy) are the benchmark's business:
// bench/cold.bench-run.ts.
import { expect, it } from "vitest";
import { stackContainers } from "../support/cisCheck";
import { coldBurst, summarizeBurst } from "../support/coldBurst";
import { describeWithDocker, stackForSuite } from "../support/e2eStack";
import { HOST_PORTS } from "../support/ports";
import { formatPeaks, memoryPeak } from "../support/memoryPeaks";
import { formatSplit } from "../support/stickyLoad";

const PORT = HOST_PORTS.coldBurst.ports.proxy;
const CLIENT_TIMEOUT_MS = 5_000;

describeWithDocker("a crowd of new sessions on a freshly deployed stack", () => {
  const stack = stackForSuite({ stack: "e2e-cold", config: { proxyPort: PORT } });

  it("answers 500 new sessions x 20 requests at once, every one 200 within 5 s", async () => {
    // No warm-up of any kind before this: the first request the proxy serves is the crowd's.
    const result = await coldBurst({
      url: stack().url,
      sessions: 500,
      requestsPerSession: 20,
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    console.log(
      `[e2e cold] ${summarizeBurst(result)}, ${formatSplit(result.sessionsPerBackend)}, ` +
        `${result.movedSessions} moved`,
    );
    expect(result.errors.slice(0, 20), "failed requests (first 20)").toEqual([]);
    expect(result.ok, "requests answered 200").toBe(10_000);
    expect(result.latenciesMs.at(-1), "the slowest request (ms)").toBeLessThan(CLIENT_TIMEOUT_MS);
  }, 180_000);

  it("every container stayed within its memory limit through the crowd: none OOM-killed, all running", async () => {
    const { harness } = stack();
    const containers = await stackContainers(harness.docker, harness.stack);
    expect(containers, "the stack's containers").toHaveLength(5);
    const peaks = await Promise.all(containers.map((c) => memoryPeak(harness.docker, c.name)));
    console.log(`[e2e cold] memory, peak since start against the limit:\n${formatPeaks(peaks)}`);
    for (const peak of peaks) {
      expect(peak.limitBytes, `${peak.container} has a memory limit`).toBeGreaterThan(0);
      expect(peak.oomKills, `${peak.container} OOM kills`).toBe(0);
    }
    for (const { name, info } of containers) {
      expect(info.State.Running, `${name} running`).toBe(true);
      expect(info.RestartCount, `${name} restarts`).toBe(0);
    }
  });
});
