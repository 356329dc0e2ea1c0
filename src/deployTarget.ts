// Where the stack runs. Both targets take the same stages (images, network, members, proxy) with
// the same arguments, so index.ts reads the same whichever the `deployTarget` setting picks:
//   containers: containers on one Docker engine (src/backends.ts, src/proxy.ts, src/network.ts);
//   swarm:      services on a Docker Swarm (src/swarm/*).
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { BackendPool } from "./backends";
import { buildImages, type StackImages } from "./images";
import type { BackendRole, StackNames } from "./naming";
import { stackNetwork } from "./network";
import { proxyContainer } from "./proxy";
import type { Settings } from "./settings";
import { swarmTarget } from "./swarm/target";

export interface MemberPoolArgs {
  readonly role: BackendRole;
  readonly count: number;
  /** The image's `repoDigest`, so a rebuilt image replaces (or rolls) the members. */
  readonly image: pulumi.Input<string>;
  readonly network: docker.Network;
  readonly subnet: pulumi.Input<string>;
  /** The port the backend listens on inside the network. */
  readonly port: number;
  /** Extra environment of every member, e.g. Express's PORT. */
  readonly environment?: Record<string, string>;
  readonly names: StackNames;
}

export interface MemberPool {
  /** `host:port` of each member, member 1 first: what the proxy's STATIC_APP_n/DYNAMIC_APP_n get. */
  readonly addresses: pulumi.Output<string[]>;
}

export interface StackProxyArgs {
  readonly names: StackNames;
  readonly settings: Settings;
  readonly image: pulumi.Input<string>;
  readonly network: docker.Network;
  readonly subnet: pulumi.Input<string>;
  readonly staticAddresses: pulumi.Input<string[]>;
  readonly dynamicAddresses: pulumi.Input<string[]>;
  /** The balancer-manager password as a Pulumi secret, or undefined to keep the manager off. */
  readonly balancerManagerPassword?: pulumi.Input<string>;
  /** Resolves once the engine supports the options single-host mode's proxy relies on (index.ts). */
  readonly engineSupported: pulumi.Input<void>;
}

export interface DeployTarget {
  images(names: StackNames, settings: Settings): StackImages;
  network(
    names: StackNames,
    settings: Settings,
  ): { network: docker.Network; subnet: pulumi.Output<string> };
  memberPool(name: string, args: MemberPoolArgs): MemberPool;
  /** The proxy; its `name` is the container's (or the service's) name. */
  proxy(args: StackProxyArgs): { name: pulumi.Output<string> };
}

/** Single-host mode: today's modules, unchanged. */
export const containerTarget: DeployTarget = {
  images: buildImages,
  network: stackNetwork,
  memberPool: (name, { network, environment, ...args }) =>
    new BackendPool(name, {
      ...args,
      networkName: network.name,
      envs: environment && Object.entries(environment).map(([key, value]) => `${key}=${value}`),
    }),
  proxy: ({ network, ...args }) => proxyContainer({ ...args, networkName: network.name }),
};

export function deployTarget(settings: Settings): DeployTarget {
  return settings.deployTarget === "swarm" ? swarmTarget(settings) : containerTarget;
}
