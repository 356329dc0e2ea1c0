// Swarm mode's network: an overlay across the nodes, with an explicit subnet chosen under the same
// rules as single-host mode's bridge (a configured networkSubnet that overlaps another network is
// refused, naming the key). Services can't ask for fixed addresses: members are found by name.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { addressInSubnet } from "../addressing";
import type { StackNames } from "../naming";
import type { Settings } from "../settings";
import { stackSubnet } from "../stackSubnet";

export function overlayNetwork(names: StackNames, settings: Settings, ready: pulumi.Output<void>) {
  // The manager lists the swarm's overlay networks and its own local ones: those are what an
  // overlay's subnet must not overlap there.
  const subnet = ready.apply(() => stackSubnet(names, settings));
  const network = new docker.Network(
    "network",
    {
      name: names.network,
      driver: "overlay",
      // The gateway Docker would pick anyway (the first address), stated: the provider diffs
      // against what it reads back, and an unstated gateway read back as a new value would replace
      // the network on every run (kreuzwerker/terraform-provider-docker issue 54).
      ipamConfigs: [{ subnet, gateway: subnet.apply((value) => addressInSubnet(value, 1)) }],
      labels: names.labels("network"),
    },
    // A fixed name can't exist twice: a replaced network must go before its successor is created.
    { deleteBeforeReplace: true },
  );
  return { network, subnet };
}
