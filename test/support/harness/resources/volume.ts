// docker.Volume: pulumi-docker bridges kreuzwerker/terraform-provider-docker's `docker_volume`
// (v4.5.0 internal/provider/resource_docker_volume.go: schema, create, read, delete in one file).
// name, labels, driver and driver_opts are ForceNew; the UpdateContext only touches
// `cluster.availability` (swarm cluster volumes), which the harness does not model (`cluster` is
// not an implemented input, so a program that sets it is refused by name).
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import type { PropertyMap } from "../propertyMap";
import { labelMap, removalWait, waitForState, type LabelInput } from "./engineApi";
import { nameRequiresDeleteBeforeReplace, requireName } from "./autonaming";
import type { DockerContext, ResourceModule } from "./types";

export const VOLUME = "docker:index/volume:Volume";

export interface VolumeInputs {
  name: string;
  labels?: LabelInput;
  driver?: string;
  driverOpts?: Record<string, string>;
}

/**
 * resourceDockerVolumeCreate: VolumeCreate with the fields the program set (`d.GetOk`: an unset
 * driver is left to the engine, which picks "local"), SetId(volume.Name), then
 * resourceDockerVolumeRead.
 */
async function createVolume(context: DockerContext, inputs: VolumeInputs) {
  // dockerode answers with the volume by the name Docker gave it (SetId(retVolume.Name)).
  const created = await context.docker.createVolume({
    Name: inputs.name,
    Labels: labelMap(inputs.labels, context.labels),
    ...(inputs.driver !== undefined && { Driver: inputs.driver }),
    ...(inputs.driverOpts !== undefined && { DriverOpts: inputs.driverOpts }),
  });
  const id = created.name;
  context.track({ kind: "volume", id, name: id });
  const outputs = await readVolume(context, id);
  if (!outputs) throw new Error(`harness: volume ${id} vanished right after its create`);
  return { id, outputs };
}

/**
 * resourceDockerVolumeRead: VolumeInspect; not found → "removing from state" (undefined here);
 * else `name`, `labels` (mapToLabelSet of volume.Labels), `driver`, `driver_opts`
 * (volume.Options) and `mountpoint`, each as Docker reports it. `cluster` only for a swarm
 * cluster volume, which the harness refuses to create. The labels are Docker's minus the ones the
 * harness adds for its own bookkeeping (the provider adds none).
 */
export async function readVolume(
  context: DockerContext,
  id: string,
): Promise<PropertyMap | undefined> {
  // dockerode's type leaves out ClusterVolume (Engine API 1.42+), which the provider reads.
  const info: (Docker.VolumeInspectInfo & { ClusterVolume?: unknown }) | undefined =
    await context.docker
      .getVolume(id)
      .inspect()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode === 404) return undefined;
        throw error;
      });
  if (!info) return undefined;
  if (info.ClusterVolume) {
    throw new Error(`harness: ${id} is a cluster volume; reading one is not modelled`);
  }
  const labels = Object.entries(info.Labels ?? {})
    .filter(([label]) => !(label in context.labels))
    .map(([label, value]) => ({ label, value }));
  return {
    name: info.Name,
    labels,
    driver: info.Driver,
    // d.Set of a nil map stores an empty one.
    driverOpts: info.Options ?? {},
    mountpoint: info.Mountpoint,
  };
}

/**
 * resourceDockerVolumeDelete: a StateChangeConf (Pending "in_use", Target "removed", Timeout 30 s,
 * MinTimeout 5 s, Delay 2 s) around resourceDockerVolumeRemoveRefreshFunc: VolumeRemove with
 * force, "volume is in use" → "in_use" (retried until the timeout), any other error fails. Force
 * makes a volume that is already gone no error. Shortened with the network's wait when a test
 * shortens that (removalWait: same constants).
 */
export async function removeVolume(context: DockerContext, id: string) {
  await waitForState(removalWait(context.waits.networkRemoveSeconds), async () => {
    try {
      await context.docker.getVolume(id).remove({ force: true });
    } catch (error) {
      if ((error as Error).message.includes("volume is in use")) return "in_use";
      if ((error as { statusCode?: number }).statusCode === 404) return "removed";
      throw error;
    }
    return "removed";
  });
  context.forget(id);
}

export const volume: ResourceModule = {
  type: VOLUME,
  inputs: {
    name: true,
    labels: { label: true, value: true },
    driver: true,
    driverOpts: true,
  },
  // resource_docker_volume.go `resourceDockerVolume`: name (Optional, Computed, ForceNew), labels
  // (TypeSet, ForceNew), driver (Optional, Computed, ForceNew), driver_opts (TypeMap, ForceNew),
  // mountpoint (Computed only: never an input).
  rules: {
    properties: {
      name: "replace",
      labels: "replace",
      driver: "replace",
      driverOpts: "replace",
    },
    computed: new Set(["name", "driver"]),
    sets: new Set(["labels"]),
    // The bridge's answer for a `name` the program set (autonaming.ts). It matters here:
    // VolumeCreate of a name that exists returns that volume instead of failing, so a
    // create-before-delete would adopt the old volume and then delete it.
    deleteBeforeReplace: nameRequiresDeleteBeforeReplace,
    diffBasis: "outputs",
  },
  check: requireName("docker.Volume"),
  docker: {
    create: (context, inputs) =>
      context.timed("deploy", () => createVolume(context, inputs as VolumeInputs)),
    read: (context, state) => readVolume(context, state.id!),
    update: async (_context, old: ResourceState) => {
      // Only `cluster.availability` is updated in place, and `cluster` is not modelled.
      throw new Error(`harness: ${old.type} ${old.name} has no in-place update modelled`);
    },
    delete: (context, state) => context.timed("teardown", () => removeVolume(context, state.id!)),
  },
  memory: {
    uniqueName: true,
    create: (_context, inputs) => ({
      driver: "local",
      driverOpts: {},
      labels: [],
      ...inputs,
      mountpoint: `/var/lib/docker/volumes/${inputs.name as string}/_data`,
    }),
    update: (old) => {
      throw new Error(`${old.name}: a volume has no in-place update modelled`);
    },
  },
};
