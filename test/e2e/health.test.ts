// A member that never becomes healthy, end to end, as a user lives through it: the stack deployed
// through the harness with an API image whose server exits at once. The provider's `wait`
// (resourceDockerContainerCreate, test/support/harness/resources/container.ts) polls the container
// until wait_timeout even though it exited, then fails with its own message; the container stays
// in the state with initialization errors; the next unchanged `up` runs an empty update on it
// (pulumi's step generator: no diff, but InitErrors) that leaves it as it is, and the pool's next
// member (they roll one at a time) is tried. Fixing the image then replaces them. Required in CI.
//
// Deviation, on purpose: the program waits up to 120 s for health (HEALTHY_WITHIN_SECONDS); the
// harness here caps every wait at 15 s (ProviderWaits.containerWaitCapSeconds) so the suite stays
// short. The provider's behaviour within the wait is unchanged.
import { writeFileSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { baseImageConfig, describeWithDocker, formatTimings } from "../support/e2eStack";
import { DockerHarness } from "../support/harness/dockerHarness";
import { editedContext, type EditedContext } from "../support/harness/editedContext";
import { FAILED_TO_BE_HEALTHY } from "../support/harness/resources/container";
import { HttpSession } from "../support/httpSession";
import { HOST_PORTS } from "../support/ports";

const STACK = "e2e-health";
const PORT = HOST_PORTS.health.ports.proxy;
const WAIT_CAP_SECONDS = 15;
const DYNAMIC_CONTEXT = "docker-images/express-image";

describeWithDocker("a member that fails its healthcheck (e2e-health)", () => {
  const harness = new DockerHarness(STACK, undefined, {
    containerWaitCapSeconds: WAIT_CAP_SECONDS,
  });
  let config: Record<string, string | number> = {};
  let broken: EditedContext;
  const name = (role: string, index: number) => `http-infra-${STACK}-${role}-${index}`;
  const member = (resource: string) => harness.state.find((r) => r.name === resource);

  beforeAll(async () => {
    config = { ...(await baseImageConfig(harness.docker)), proxyPort: PORT };
    broken = editedContext(DYNAMIC_CONTEXT, (directory) => {
      const server = path.join(directory, "server.js");
      const source = readFileSync(server, "utf8");
      writeFileSync(
        server,
        source.replace(
          '"use strict";',
          '"use strict";\nconsole.error("e2e-health: this build exits at once");\nprocess.exit(3);',
        ),
      );
    });
  }, 60_000);

  afterAll(async () => {
    broken?.remove();
    expect(await harness.destroy(), "nothing left behind").toEqual({
      containers: [],
      networks: [],
    });
    console.log(formatTimings(STACK, harness.timings));
  }, 300_000);

  const brokenUp = () =>
    harness.up({ stack: STACK, config, contextOverrides: { [DYNAMIC_CONTEXT]: broken.directory } });

  it("first up: fails with the provider's message after the whole wait, keeps the exited member in the state, and the chain stops there", async () => {
    const started = performance.now();
    const failure = await brokenUp().then(
      () => undefined,
      (error: Error) => error,
    );
    const seconds = (performance.now() - started) / 1000;
    expect(failure?.message).toMatch(new RegExp(`Container dynamic-1: ${FAILED_TO_BE_HEALTHY}$`));
    console.log(`[e2e] first up failed after ${seconds.toFixed(1)}s: ${failure?.message}`);
    // The provider polls until wait_timeout (capped here) although the server exited at once.
    expect(seconds, "seconds until the failure").toBeGreaterThanOrEqual(WAIT_CAP_SECONDS);
    const state = member("dynamic-1");
    expect(state?.initErrors, "dynamic-1").toEqual([FAILED_TO_BE_HEALTHY]);
    const info = await harness.docker.getContainer(state!.id!).inspect();
    expect(info.Name).toBe(`/${name("dynamic", 1)}`);
    expect(info.State.Health?.Status).not.toBe("healthy");
    // Members roll one at a time (src/containers/backends.ts: each dependsOn the one before): a
    // member that failed stops its pool there, so dynamic-2 is never created, and the proxy waits
    // for both.
    expect(member("dynamic-2"), "dynamic-2 waits for dynamic-1").toBeUndefined();
    expect(member("proxy"), "the proxy waits for the members' addresses").toBeUndefined();
    expect(member("static-1")?.initErrors).toBeUndefined();
  }, 600_000);

  it("second, unchanged up: an empty update leaves the failed member as it is, and the chain goes on to fail on the next one", async () => {
    const firstId = member("dynamic-1")!.id;
    const failure = await brokenUp().then(
      () => undefined,
      (error: Error) => error,
    );
    // The bridge's Update with no diff keeps the failed create's state (no network_data); the
    // program then takes the fixed address the member asked for (src/proxyEnvironment.ts), so the
    // run goes on to dynamic-2, which fails exactly as dynamic-1 did.
    expect(failure?.message).toMatch(new RegExp(`Container dynamic-2: ${FAILED_TO_BE_HEALTHY}$`));
    expect(member("dynamic-1")?.id, "the same container").toBe(firstId);
    expect(member("dynamic-1")?.initErrors, "the update cleared its errors").toBeUndefined();
    expect(member("dynamic-2")?.initErrors).toEqual([FAILED_TO_BE_HEALTHY]);
    expect(member("proxy")).toBeUndefined();
    console.log(`[e2e] second up: ${failure?.message}`);
  }, 600_000);

  it("the image fixed: up rebuilds it, replaces both members, creates the proxy, and the stack serves", async () => {
    const { plan } = await harness.up({ stack: STACK, config });
    expect(plan.update).toEqual(["dynamic-image"]);
    expect(plan.replace).toEqual(["dynamic-1", "dynamic-2"]);
    expect(plan.create).toEqual(["proxy"]);
    const reply = await new HttpSession(`http://127.0.0.1:${PORT}/`).get("/api/animals/");
    expect(reply.status).toBe(200);
  }, 600_000);
});
