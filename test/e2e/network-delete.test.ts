// Deleting the stack's network while a container that is not the stack's still uses it, end to
// end on Docker: the provider's delete (resourceDockerNetworkDelete, modelled in
// test/support/harness/resources/network.ts) retries on "has active endpoints" and only fails
// once its wait is over; a container that leaves within the wait lets the delete succeed.
// Driven through the harness's engine and Docker provider with one network, no program.
// Required in CI.
//
// Deviation, on purpose: the provider waits 30 s; these tests shorten the wait to 6 s
// (ProviderWaits.networkRemoveSeconds), every interval of the retry scaled with it.
import Docker from "dockerode";
import { afterAll, expect, it } from "vitest";
import { describeWithDocker } from "../support/e2eStack";
import { HARNESS_LABEL } from "../support/harness/dockerHarness";
import { DockerProvider } from "../support/harness/dockerProvider";
import { UpdateEngine } from "../support/harness/engine";
import { NETWORK } from "../support/harness/inputs";
import { PROVIDER_WAITS } from "../support/harness/resources/types";

const STACK = "e2e-netdel";
const NETWORK_NAME = `http-infra-${STACK}-net`;
const FOREIGN = `http-infra-${STACK}-foreign`;
const WAIT_SECONDS = 6;
const FOREIGN_IMAGE = "http-infra-base/debian:bookworm";

describeWithDocker("deleting a network a foreign container still uses (e2e-netdel)", () => {
  const docker = new Docker();
  const provider = new DockerProvider(
    docker,
    { [HARNESS_LABEL]: STACK },
    (_, work) => work(),
    undefined,
    { ...PROVIDER_WAITS, networkRemoveSeconds: WAIT_SECONDS },
  );
  const engine = new UpdateEngine(provider);

  const deployNetwork = async () => {
    engine.beginRun();
    await engine.register(
      { type: NETWORK, name: "network", custom: true, inputs: { name: NETWORK_NAME } },
      {
        urn: `urn:pulumi:${STACK}::http-infra::${NETWORK}::network`,
        parent: "",
        deleteBeforeReplace: undefined,
        dependencies: [],
        propertyDependencies: {},
      },
    );
    await engine.finishRun();
  };
  const startForeign = async () => {
    const container = await docker.createContainer({
      name: FOREIGN,
      Image: FOREIGN_IMAGE,
      Cmd: ["sleep", "600"],
      Labels: { [HARNESS_LABEL]: STACK },
      HostConfig: { NetworkMode: NETWORK_NAME },
    });
    await container.start();
    return container;
  };
  const networkExists = () =>
    docker
      .getNetwork(NETWORK_NAME)
      .inspect()
      .then(
        () => true,
        () => false,
      );

  afterAll(async () => {
    await docker
      .getContainer(FOREIGN)
      .remove({ force: true })
      .catch(() => undefined);
    await docker
      .getNetwork(NETWORK_NAME)
      .remove()
      .catch(() => undefined);
  }, 60_000);

  it("retries while the foreign container stays, then fails with the provider's timeout, and the network stays in the state", async () => {
    await deployNetwork();
    const foreign = await startForeign();
    try {
      const started = performance.now();
      await expect(engine.destroy()).rejects.toThrow(
        `timeout while waiting for state to become 'removed' (last state: 'pending', timeout: ${WAIT_SECONDS}s)`,
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(`[e2e] network delete gave up after ${seconds.toFixed(1)}s`);
      expect(seconds, "it waited the whole (shortened) timeout").toBeGreaterThanOrEqual(
        WAIT_SECONDS,
      );
      expect(
        engine.resources.map((r) => r.name),
        "still in the state",
      ).toEqual(["network"]);
      expect(await networkExists(), "still on the engine").toBe(true);
    } finally {
      await foreign.remove({ force: true });
    }
    // With the foreign container gone, destroy succeeds.
    await engine.destroy();
    expect(await networkExists()).toBe(false);
  }, 120_000);

  it("a foreign container that leaves within the wait: a retry removes the network", async () => {
    await deployNetwork();
    const foreign = await startForeign();
    const started = performance.now();
    const leaving = new Promise((resolve) => setTimeout(resolve, 2_000)).then(() =>
      foreign.remove({ force: true }),
    );
    await engine.destroy();
    await leaving;
    const seconds = (performance.now() - started) / 1000;
    console.log(`[e2e] network removed ${seconds.toFixed(1)}s after the delete began`);
    expect(seconds, "removed on a retry, after the container left").toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(WAIT_SECONDS);
    expect(engine.resources).toEqual([]);
    expect(await networkExists()).toBe(false);
  }, 120_000);
});
