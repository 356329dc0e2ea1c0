// The stack's private network: a user-defined bridge with an explicit subnet, so that every
// container of the stack can keep a fixed address (see src/addressing.ts for why).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { addressInSubnet, chooseSubnet, upperHalf } from "./addressing";
import { listEngineNetworks } from "./engineNetworks";
import type { StackNames } from "./naming";
import type { Settings } from "./settings";

/** The configured subnet, or a free one; checked against the engine's other networks. */
export async function stackSubnet(names: StackNames, settings: Settings): Promise<string> {
  const engine = await listEngineNetworks();
  if (engine.networks === undefined) {
    // Without an engine the deploy fails at its first resource anyway; say why the subnet was
    // not checked rather than fail here on something the provider will report better.
    pulumi.log.warn(
      `could not list the Docker engine's networks (${engine.why}); ` +
        `the network's subnet was not checked for overlaps`,
    );
  }
  return chooseSubnet({
    configured: settings.networkSubnet,
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    networkName: names.network,
    networks: engine.networks,
  });
}

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
