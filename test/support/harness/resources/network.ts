// docker.Network: pulumi-docker bridges kreuzwerker/terraform-provider-docker's `docker_network`
// (internal/provider/resource_docker_network.go for the schema, resource_docker_network_funcs.go
// for create/read/delete; there is no UpdateContext: every attribute is ForceNew).
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import { labelMap, removalWait, waitForState, type LabelInput } from "./engineApi";
import { nameRequiresDeleteBeforeReplace, requireName } from "./autonaming";
import { SERVICE } from "./service";
import type { DockerContext, ResourceModule } from "./types";
import type { PropertyMap } from "../propertyMap";

export const NETWORK = "docker:index/network:Network";

export interface NetworkInputs {
  name: string;
  driver?: string;
  internal?: boolean;
  attachable?: boolean;
  options?: Record<string, string>;
  labels?: LabelInput;
  ipamConfigs?: { subnet?: string; gateway?: string; ipRange?: string }[];
}

export async function createNetwork(
  docker: Docker,
  inputs: NetworkInputs,
  extraLabels: Record<string, string>,
) {
  const network = await docker.createNetwork({
    Name: inputs.name,
    Driver: inputs.driver ?? "bridge",
    Internal: inputs.internal ?? false,
    Attachable: inputs.attachable ?? false,
    Options: inputs.options ?? {},
    Labels: labelMap(inputs.labels, extraLabels),
    CheckDuplicate: true,
    IPAM: {
      Driver: "default",
      Config: (inputs.ipamConfigs ?? []).map((c) => ({
        Subnet: c.subnet,
        Gateway: c.gateway,
        IPRange: c.ipRange,
      })),
    },
  });
  return network.id;
}

/**
 * resourceDockerNetworkRead → resourceDockerNetworkReadRefreshFunc (v4.5.0
 * resource_docker_network_funcs.go): NetworkInspect; not found → "removing from state"
 * (undefined here); else every attribute as Docker reports it, `ipam_config` through
 * flattenIpamConfigSpec (resource_docker_network_structures.go), which keeps only the non-empty
 * fields, so a gateway Docker reports becomes part of the state
 * (kreuzwerker/terraform-provider-docker issue 54). The labels are Docker's minus the ones the
 * harness adds for its own bookkeeping (the provider adds none). resourceDockerNetworkRead wraps it
 * in a StateChangeConf (Delay 2 s, MinTimeout 5 s, Timeout 30 s) whose only "pending" answer is for
 * `Scope == "overlay"` without options, a scope Docker never reports (an overlay's is "swarm"): so
 * one inspect, 2 s after the call. On a swarm manager those 2 s matter: an overlay's IPAM config is
 * empty until Swarm has allocated it.
 */
export async function readNetwork(
  context: DockerContext,
  id: string,
): Promise<PropertyMap | undefined> {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const info = await context.docker
    .getNetwork(id)
    .inspect()
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) return undefined;
      throw error;
    });
  if (!info) return undefined;
  const labels = Object.entries((info.Labels ?? {}) as Record<string, string>)
    .filter(([label]) => !(label in context.labels))
    .map(([label, value]) => ({ label, value }));
  const nonEmpty = (value: unknown) =>
    value === undefined ||
    value === "" ||
    (typeof value === "object" && !Object.keys(value!).length)
      ? undefined
      : value;
  return {
    name: info.Name,
    labels,
    driver: info.Driver,
    internal: info.Internal,
    attachable: info.Attachable,
    ingress: info.Ingress,
    ipv6: info.EnableIPv6,
    ipamDriver: info.IPAM?.Driver,
    ipamOptions: info.IPAM?.Options ?? undefined,
    scope: info.Scope,
    options: info.Options ?? {},
    ipamConfigs: ((info.IPAM?.Config ?? []) as PropertyMap[]).map((c) => ({
      subnet: nonEmpty(c.Subnet),
      ipRange: nonEmpty(c.IPRange),
      gateway: nonEmpty(c.Gateway),
      auxAddress: nonEmpty(c.AuxiliaryAddresses),
    })),
  };
}

/**
 * resourceDockerNetworkDelete (v4.5.0 resource_docker_network_funcs.go): a StateChangeConf
 * (Pending "pending", Target "removed", Timeout 30 s, MinTimeout 5 s, Delay 2 s) around
 * resourceDockerNetworkRemoveRefreshFunc: NetworkInspect (gone → "removed"), NetworkRemove, and
 * "has active endpoints" → "pending", so a network a foreign container still uses is retried
 * until the timeout, then fails with the SDK's timeout error. Tests may shorten the 30 s
 * (ProviderWaits.networkRemoveSeconds): every interval is scaled with it.
 */
export async function removeNetwork(context: DockerContext, id: string) {
  const network = context.docker.getNetwork(id);
  await waitForState(removalWait(context.waits.networkRemoveSeconds), async () => {
    const exists = await network.inspect().then(
      () => true,
      (error: { statusCode?: number }) => {
        if (error.statusCode === 404) return false;
        throw error;
      },
    );
    if (!exists) return "removed";
    try {
      await network.remove();
    } catch (error) {
      if ((error as Error).message.includes("has active endpoints")) return "pending";
      if ((error as { statusCode?: number }).statusCode === 404) return "removed";
      throw error;
    }
    return "removed";
  });
  context.forget(id);
}

async function readCreated(context: DockerContext, id: string) {
  const outputs = await readNetwork(context, id);
  if (!outputs) throw new Error(`harness: network ${id} vanished right after its create`);
  return outputs;
}

export const network: ResourceModule = {
  type: NETWORK,
  inputs: {
    name: true,
    driver: true,
    internal: true,
    attachable: true,
    options: true,
    labels: { label: true, value: true },
    ipamConfigs: { subnet: true, gateway: true, ipRange: true },
  },
  // resource_docker_network.go `resourceDockerNetwork`: every attribute ForceNew, no UpdateContext.
  rules: {
    properties: {
      name: "replace",
      driver: "replace",
      internal: "replace",
      attachable: "replace",
      options: "replace",
      labels: "replace",
      ipamConfigs: "replace",
    },
    computed: new Set(["driver", "options", "internal", "ipamConfigs"]),
    sets: new Set(["labels", "ipamConfigs"]),
    // docker_network has no DeleteBeforeReplace flag of its own: the bridge's answer for an
    // auto-named `name` (autonaming.ts).
    deleteBeforeReplace: nameRequiresDeleteBeforeReplace,
    diffBasis: "outputs",
  },
  check: requireName("docker.Network"),
  docker: {
    // resourceDockerNetworkCreate: NetworkCreate, SetId, then resourceDockerNetworkRead.
    create: (context, inputs) =>
      context.timed("deploy", async () => {
        const network = inputs as NetworkInputs;
        const id = await createNetwork(context.docker, network, context.labels);
        context.track({ kind: "network", id, name: network.name });
        return { id, outputs: await readCreated(context, id) };
      }),
    read: (context, state) => readNetwork(context, state.id!),
    update: async (_context, old: ResourceState) => {
      throw new Error(`harness: ${old.type} ${old.name} has no in-place update`);
    },
    delete: (context, state) => context.timed("teardown", () => removeNetwork(context, state.id!)),
  },
  memory: {
    uniqueName: true,
    create: (_context, inputs) => ({ ...inputs, scope: "local" }),
    // A swarm manager refuses to remove a network a service still uses (moby/swarmkit
    // manager/controlapi/network.go `removeNetwork`: FailedPrecondition "network %s is in use by
    // service %s"), and the provider's delete retries only "has active endpoints"
    // (resourceDockerNetworkRemoveRefreshFunc): the delete fails at once.
    refusesDelete: (state, live) => {
      const user = live.find(
        (object) =>
          object.type === SERVICE &&
          (
            (object.outputs as Partial<pulumi.Unwrap<docker.ServiceArgs>>).taskSpec
              ?.networksAdvanceds ?? []
          ).some((attachment) => attachment.id === state.id),
      );
      return user && `network ${state.id} is in use by service ${user.name}`;
    },
    update: (old) => {
      throw new Error(`${old.name}: a network has no in-place update`);
    },
  },
};
