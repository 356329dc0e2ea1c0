// docker.Network: pulumi-docker bridges kreuzwerker/terraform-provider-docker's `docker_network`
// (internal/provider/resource_docker_network.go for the schema, resource_docker_network_funcs.go
// for create/read/delete; there is no UpdateContext: every attribute is ForceNew).
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import { ignoreMissing, labelMap, type LabelInput } from "./engineApi";
import type { DockerContext, ResourceModule } from "./types";

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
  const info = await network.inspect();
  return {
    id: info.Id as string,
    state: {
      ...inputs,
      driver: info.Driver,
      scope: info.Scope,
      ipamDriver: info.IPAM?.Driver,
      ipamConfigs: (info.IPAM?.Config ?? []).map((c: any) => ({
        subnet: c.Subnet,
        gateway: c.Gateway,
        ipRange: c.IPRange,
      })),
    },
  };
}

/** resourceDockerNetworkDelete: NetworkRemove. */
export async function removeNetwork(context: DockerContext, id: string) {
  await context.docker.getNetwork(id).remove().catch(ignoreMissing);
  context.forget(id);
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
    deleteBeforeReplace: false,
  },
  docker: {
    create: (context, inputs) =>
      context.timed("deploy", async () => {
        const result = await createNetwork(context.docker, inputs as NetworkInputs, context.labels);
        context.track({ kind: "network", id: result.id, name: inputs.name });
        return { id: result.id, outputs: result.state };
      }),
    update: async (_context, old: ResourceState) => {
      throw new Error(`harness: ${old.type} ${old.name} has no in-place update`);
    },
    delete: (context, state) => context.timed("teardown", () => removeNetwork(context, state.id!)),
  },
  memory: {
    uniqueName: true,
    create: (_context, inputs) => ({ ...inputs, scope: "local" }),
    update: (old) => {
      throw new Error(`${old.name}: a network has no in-place update`);
    },
  },
};
