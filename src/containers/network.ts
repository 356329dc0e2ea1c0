// Single-host mode's private network: a user-defined bridge with an explicit subnet, so that every
// container of the stack can keep a fixed address (see src/addressing.ts for why).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { addressInSubnet, upperHalf } from "../addressing";
import type { StackNames } from "../naming";
import type { Settings } from "../settings";
import { stackSubnet } from "../stackSubnet";

export function stackNetwork(names: StackNames, settings: Settings) {
  const subnet = pulumi.output(stackSubnet(names, settings));
  const network = new docker.Network(
    "network",
    {
      name: names.network,
      driver: "bridge",
      // Docker numbers containers that are not the stack's from the upper half only: they can
      // never take a stack member's fixed address while it is stopped. The gateway is set, at
      // slot 1: left out, Docker takes the ip range's first address and reports it in the IPAM
      // config only after an engine restart, so `pulumi up --refresh` after a reboot would
      // replace the network and every container (kreuzwerker/terraform-provider-docker issue
      // 54; measured on Docker 20.10: no Gateway before the restart, the range's first after).
      ipamConfigs: [
        {
          subnet,
          ipRange: subnet.apply(upperHalf),
          gateway: subnet.apply((cidr) => addressInSubnet(cidr, 1)),
        },
      ],
      labels: names.labels("network"),
    },
    // A fixed name can't exist twice: a replaced network must go before its successor is created.
    { deleteBeforeReplace: true },
  );
  return { network, subnet };
}
