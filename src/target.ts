// What a deploy target is: the stages index.ts runs (images, network, members, proxy) and their
// arguments, the same for both targets, so index.ts reads the same whichever one
// src/deployTarget.ts picks. Types only: each target imports this module, never the other way.
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { RuntimeLimits } from "./hardening";
import type { StackImages } from "./imageBuild";
import type { BackendRole, StackNames } from "./naming";
import type { Settings } from "./settings";

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
  /** Memory and CPU limits of each member. */
  readonly limits: RuntimeLimits;
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
