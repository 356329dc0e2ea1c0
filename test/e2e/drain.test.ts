// A member that stops leaves the balancer before it closes, end to end: the stack deployed through
// the harness, a steady keep-alive load through the proxy (so the proxy holds and reuses many
// pooled connections to every member), then one member stopped as `pulumi up` stops it when it
// replaces it (`docker stop` with the stack's grace) and started again. The member must drain:
// fail its health check while it still serves (every answer closing its connection), and close
// only once the proxy has taken it out. Then no client request fails, and the proxy never meets
// the member closed (test/support/proxyErrorLog.ts): no refused connect and no dropped pooled
// connection on the request path (those fail over or fail the client, but either way the member
// closed while still in rotation). Required in CI.
import { expect, it } from "vitest";
import { STOP_GRACE_SECONDS } from "../../src/containers/backends";
import { describeWithDocker, stackForSuite } from "../support/e2eStack";
import { HttpSession } from "../support/httpSession";
import { formatLoad, startKeepAliveLoad } from "../support/keepAliveLoad";
import { HOST_PORTS } from "../support/ports";
import { proxyMetClosedMember } from "../support/proxyErrorLog";

const STACK = "e2e-drain";
const PORT = HOST_PORTS.drain.ports.proxy;
const URL = `http://127.0.0.1:${PORT}/`;
// Sessions per path: enough that the proxy keeps several pooled connections to each member.
const SESSIONS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithDocker("a stopping member leaves the balancer before it closes (e2e-drain)", () => {
  const stack = stackForSuite({ stack: STACK, config: { proxyPort: PORT } });
  const docker = () => stack().harness.docker;
  const name = (role: string, index?: number) =>
    `http-infra-${STACK}-${role}${index === undefined ? "" : `-${index}`}`;

  /** New sessions reach `member` through the proxy again (it passed the proxy's health checks). */
  const servesAgain = async (route: string, member: string) => {
    const deadline = performance.now() + 30_000;
    for (let i = 0; i < 600 && performance.now() < deadline; i++) {
      const reply = await new HttpSession(URL).get(route).catch(() => undefined);
      if (reply?.servedBy === member) return;
      await sleep(50);
    }
    throw new Error(`${member} does not serve ${route} again 30 s after it was started`);
  };

  it.each([
    ["dynamic", "/api/animals/"],
    ["static", "/"],
  ])(
    "a %s member stopped under keep-alive load: no request fails, the proxy never meets it closed, it exits by itself within the grace",
    async (role, route) => {
      const member = docker().getContainer(name(role, 1));
      const proxy = docker().getContainer(name("proxy"));
      await servesAgain(route, name(role, 1));
      const since = Math.floor(Date.now() / 1000);
      const load = startKeepAliveLoad(URL, {
        paths: ["/", "/api/animals/"],
        sessions: SESSIONS,
        maxSeconds: 120,
      });
      let stopSeconds: number;
      let exitCode: number;
      try {
        // Let the proxy's pools fill before the member is told to stop.
        await sleep(2_000);
        const stopping = performance.now();
        await member.stop({ t: STOP_GRACE_SECONDS });
        stopSeconds = (performance.now() - stopping) / 1000;
        exitCode = (await member.inspect()).State.ExitCode;
        await member.start();
        await servesAgain(route, name(role, 1));
      } finally {
        console.log(formatLoad(`${role}-1 stopped and started`, await load.stop()));
      }
      const report = await load.stop();
      const state = (await member.inspect()).State;
      console.log(
        `[drain] ${role}-1 stopped in ${stopSeconds.toFixed(1)} s, exit code ${exitCode}`,
      );

      expect(report.failed, report.failures.join("; ")).toBe(0);
      expect(
        await proxyMetClosedMember(proxy, since),
        "the proxy's error log: requests that met the member closed",
      ).toEqual([]);
      expect(report.servedBy.get(name(role, 2)), `${role}-2 served the load`).toBeGreaterThan(0);
      // Killed at the end of the grace (exit code 137), it would have cut whatever it was still
      // serving.
      expect(stopSeconds, `${role}-1 stopped before the grace ran out`).toBeLessThan(
        STOP_GRACE_SECONDS,
      );
      expect(exitCode, `${role}-1 exited by itself`).toBe(0);
      expect(state.Running, `${role}-1 runs again`).toBe(true);
    },
    300_000,
  );
});
