// The harness's docker.Volume model on a real engine: what Read reports (the provider's outputs)
// is what the next run diffs against, so the same inputs must plan no change, a refresh must find
// nothing changed, and a ForceNew input must replace the volume (terraform-provider-docker v4.5.0
// resource_docker_volume.go).
import Docker from "dockerode";
import { afterAll, expect, it } from "vitest";
import { describeWithDocker } from "../support/e2eStack";
import { HARNESS_LABEL } from "../support/harness/dockerHarness";
import { DockerProvider } from "../support/harness/dockerProvider";
import { UpdateEngine } from "../support/harness/engine";
import { VOLUME } from "../support/harness/inputs";
import type { Registration } from "../support/pulumiProgram";

const STACK = "volume-model";
const VOLUME_NAME = "http-infra-volume-model";

describeWithDocker("the docker.Volume model against a real engine", () => {
  const docker = new Docker();
  const provider = new DockerProvider(docker, { [HARNESS_LABEL]: STACK }, (_phase, work) => work());
  const engine = new UpdateEngine(provider);
  const registration: Registration = {
    urn: `urn:pulumi:${STACK}::http-infra::${VOLUME}::store`,
    parent: "",
    deleteBeforeReplace: undefined,
    dependencies: [],
    propertyDependencies: {},
  };
  const deploy = async (inputs: Record<string, unknown>) => {
    engine.beginRun();
    try {
      const { id, outputs } = await engine.register(
        { type: VOLUME, name: "store", inputs, custom: true },
        registration,
      );
      return { id, outputs, plan: await engine.finishRun() };
    } catch (error) {
      engine.abortRun();
      throw error;
    }
  };
  const labels = [{ label: "http-infra.role", value: "proxy" }];

  afterAll(async () => {
    engine.beginRun();
    await engine.finishRun();
    await docker
      .getVolume(VOLUME_NAME)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it("reads back what Docker made, and the same inputs plan no change", async () => {
    const first = await deploy({ name: VOLUME_NAME, labels });
    expect(first.plan.create).toEqual(["store"]);
    expect(first.id).toBe(VOLUME_NAME);
    const inspected = await docker.getVolume(VOLUME_NAME).inspect();
    // Outputs come from VolumeInspect: the driver Docker picked and the mountpoint it chose.
    expect(first.outputs).toEqual({
      name: VOLUME_NAME,
      labels,
      driver: "local",
      driverOpts: {},
      mountpoint: inspected.Mountpoint,
    });
    expect(inspected.Labels).toMatchObject({ "http-infra.role": "proxy", [HARNESS_LABEL]: STACK });

    const again = await deploy({ name: VOLUME_NAME, labels });
    expect(again.plan.same).toEqual(["store"]);
    expect(again.plan.replace).toEqual([]);
    expect(await engine.refresh()).toEqual({ changed: [], gone: [] });
  });

  it("replaces the volume when a ForceNew input (labels) changes, keeping its name", async () => {
    const changed = await deploy({
      name: VOLUME_NAME,
      labels: [{ label: "http-infra.role", value: "store" }],
    });
    expect(changed.plan.replace).toEqual(["store"]);
    expect(changed.plan.keys.store).toEqual(["labels"]);
    const after = await docker.getVolume(VOLUME_NAME).inspect();
    expect(after.Labels["http-infra.role"]).toBe("store");
  });

  it("drops a volume deleted behind its back from the state on refresh", async () => {
    await docker.getVolume(VOLUME_NAME).remove();
    expect(await engine.refresh()).toEqual({ changed: [], gone: ["store"] });
  });
});
