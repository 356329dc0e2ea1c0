// The stack network's subnet, for both modes' networks: the configured networkSubnet, or a free
// one, checked against the networks the engine already has (src/addressing.ts chooseSubnet).
import * as pulumi from "@pulumi/pulumi";
import { chooseSubnet } from "./addressing";
import { listEngineNetworks } from "./engineNetworks";
import type { StackNames } from "./naming";
import type { Settings } from "./settings";

/** The configured subnet, or a free one; checked against the engine's other networks. */
export async function stackSubnet(names: StackNames, settings: Settings): Promise<string> {
  const engine = await listEngineNetworks();
  if (engine.networks === undefined) {
    // Without an engine the deploy fails at its first resource anyway; say why the subnet was
    // not checked rather than fail here on something the provider will report better.
    await pulumi.log.warn(
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
