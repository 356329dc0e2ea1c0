// The Apache reverse proxy: the only container that publishes a host port. Its environment is built
// from the backends' real addresses (outputs), so it is created after them and replaced when they
// change: no hard-coded 172.17.0.x as in the lab report.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { addressInSubnet, slots } from "./addressing";
import { HEALTHY_WITHIN_SECONDS } from "./backends";
import type { StackNames } from "./naming";
import { proxyEnvironment } from "./proxyEnvironment";
import type { Settings } from "./settings";

/** Apache listens on port 80 inside the container. */
export const PROXY_PORT = 80;

export interface ProxyArgs {
  readonly names: StackNames;
  readonly settings: Settings;
  readonly image: pulumi.Input<string>;
  readonly networkName: pulumi.Input<string>;
  /** The network's subnet: the proxy takes its fixed slot, so it never takes a backend's address. */
  readonly subnet: pulumi.Input<string>;
  readonly staticAddresses: pulumi.Input<string[]>;
  readonly dynamicAddresses: pulumi.Input<string[]>;
  /** The balancer-manager password as a Pulumi secret, or undefined to keep the manager off. */
  readonly balancerManagerPassword?: pulumi.Input<string>;
}

export function proxyContainer(args: ProxyArgs): docker.Container {
  const { names, settings } = args;
  const envs = pulumi
    .all([args.staticAddresses, args.dynamicAddresses, args.balancerManagerPassword])
    .apply(([staticAddresses, dynamicAddresses, balancerManagerPassword]) =>
      proxyEnvironment({
        staticAddresses,
        dynamicAddresses,
        serverName: settings.serverName,
        balancerManagerUser: settings.balancerManagerUser,
        balancerManagerPassword,
      }),
    );

  return new docker.Container(
    "proxy",
    {
      name: names.proxy,
      hostname: names.proxy,
      image: args.image,
      envs,
      networksAdvanced: [
        {
          name: args.networkName,
          ipv4Address: pulumi
            .output(args.subnet)
            .apply((subnet) => addressInSubnet(subnet, slots.proxy)),
        },
      ],
      // An omitted `ip` binds every interface; the default 127.0.0.1 keeps the stack on this machine.
      ports: [
        { internal: PROXY_PORT, external: settings.proxyPort, ip: settings.proxyBindAddress },
      ],
      labels: names.labels("proxy"),
      restart: "unless-stopped",
      wait: true,
      waitTimeout: HEALTHY_WITHIN_SECONDS,
    },
    // Both the name and the host port are fixed: the old proxy must let go of them first.
    { deleteBeforeReplace: true },
  );
}
