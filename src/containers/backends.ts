// Single-host mode's backends: a pool of identical containers on the private network. None
// publishes a host port: the proxy is the stack's only door. The pool exposes its members' real
// addresses for the proxy.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { addressInSubnet, slots } from "../addressing";
import type { RuntimeLimits } from "../hardening";
import type { BackendRole, StackNames } from "../naming";
import { hostPort, ipOnNetwork } from "../proxyEnvironment";
import { containerHardening } from "./hardening";

/** How long `pulumi up` waits for a container's healthcheck before it fails the deploy. */
export const HEALTHY_WITHIN_SECONDS = 120;

/**
 * How long a member may take to stop before it is killed. The provider stops a container with
 * `destroy_grace_seconds` as the timeout and kills it when that runs out: unset, at once
 * (terraform-provider-docker resource_docker_container_funcs.go resourceDockerContainerDelete), which
 * cuts the requests in flight. Told to stop, both backend images first drain for 9 s (they fail
 * their health check and close each connection after its answer until the proxy has taken them
 * out), then close: Express within 5 s more (docker-images/express-image/drain.js), Apache's
 * graceful stop within 2-3 s (docker-images/apache-php-image/apache2-drain-foreground). This leaves
 * a few seconds beyond both; test/unit/drain-timing.test.ts checks it against them.
 */
export const STOP_GRACE_SECONDS = 20;

export interface BackendPoolArgs {
  readonly role: BackendRole;
  readonly count: number;
  /** The image id (`repoDigest`), so a rebuilt image replaces the containers. */
  readonly image: pulumi.Input<string>;
  readonly networkName: pulumi.Input<string>;
  /** The network's subnet: member i gets the fixed address at its slot (src/addressing.ts). */
  readonly subnet: pulumi.Input<string>;
  /** The port the backend listens on inside the network. */
  readonly port: number;
  readonly names: StackNames;
  readonly envs?: pulumi.Input<pulumi.Input<string>[]>;
  /** Memory and CPU limits of each member. */
  readonly limits: RuntimeLimits;
}

export class BackendPool extends pulumi.ComponentResource {
  readonly containers: docker.Container[];
  /** `ip:port` of each member on the pool's network, in member order (member 1 first). */
  readonly addresses: pulumi.Output<string[]>;

  constructor(name: string, args: BackendPoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // The type token is part of every member's URN: renaming it would replace the members.
    super("http-infra:backends:BackendPool", name, {}, opts);

    // Members roll one at a time: member i+1 depends on member i, so a rebuilt image replaces
    // member 1 (stopped gracefully, re-created, healthy) before member 2 is touched, and the proxy
    // always has a live member to send to. The Node SDK registers a resource only once its
    // dependsOn resources are done (their URNs resolve when the engine answers their
    // RegisterResource), and members share no data edge, so dependsOn is the only way to say it.
    // The price: a first deploy creates a pool's members one after another too.
    let previous: docker.Container | undefined;
    this.containers = Array.from({ length: args.count }, (_, i) => {
      const containerName = args.names.backend(args.role, i + 1);
      previous = new docker.Container(
        `${name}-${i + 1}`,
        {
          name: containerName,
          // The backends answer with `X-Served-By: $HOSTNAME`; a readable name beats a container id.
          hostname: containerName,
          image: args.image,
          envs: args.envs,
          // A fixed address, which Docker keeps across restarts: the proxy's STATIC_APP_n and
          // DYNAMIC_APP_n never end up pointing at another container (src/addressing.ts).
          networksAdvanced: [
            {
              name: args.networkName,
              ipv4Address: pulumi
                .output(args.subnet)
                .apply((subnet) => addressInSubnet(subnet, slots[args.role](i + 1))),
            },
          ],
          labels: args.names.labels(args.role),
          ...containerHardening(args.role, args.limits),
          restart: "unless-stopped",
          // Return only once the image's HEALTHCHECK passes, so the proxy starts on live members.
          wait: true,
          waitTimeout: HEALTHY_WITHIN_SECONDS,
          destroyGraceSeconds: STOP_GRACE_SECONDS,
        },
        {
          parent: this,
          // A fixed container name can't exist twice: remove the old container before its successor.
          deleteBeforeReplace: true,
          dependsOn: previous ? [previous] : [],
        },
      );
      return previous;
    });

    this.addresses = pulumi.all(
      this.containers.map((container) =>
        pulumi
          .all([
            container.networkDatas,
            container.networksAdvanced,
            container.name,
            args.networkName,
          ])
          .apply(([networkDatas, attachments, containerName, networkName]) =>
            hostPort(
              ipOnNetwork(networkDatas, networkName, containerName, attachments ?? []),
              args.port,
            ),
          ),
      ),
    );

    this.registerOutputs({ addresses: this.addresses });
  }
}
