// Swarm mode's backends: one service per balancer member (replicas 1), named like single-host
// mode's containers, so member i keeps its ROUTEID route `i` and the proxy finds it by its service
// name. Members are published nowhere: the proxy is the stack's only door.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { MemberPool, MemberPoolArgs } from "../target";
import { containerSpecHardening, taskSpecHardening } from "./hardening";
import {
  convergeConfig,
  memberRollbackConfig,
  memberUpdateConfig,
  restartPolicy,
  STOP_GRACE_PERIOD,
} from "./policies";

export class ServicePool extends pulumi.ComponentResource implements MemberPool {
  readonly services: docker.Service[];
  readonly addresses: pulumi.Output<string[]>;

  constructor(name: string, args: MemberPoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("http-infra:swarm:ServicePool", name, {}, opts);

    const services: docker.Service[] = [];
    for (let member = 1; member <= args.count; member++) {
      const serviceName = args.names.backend(args.role, member);
      const previous = services[services.length - 1];
      services.push(
        new docker.Service(
          `${name}-${member}`,
          {
            name: serviceName,
            labels: args.names.labels(args.role),
            taskSpec: {
              ...taskSpecHardening(args.limits),
              containerSpec: {
                ...containerSpecHardening(args.role),
                image: args.image,
                // The backends answer with `X-Served-By: $HOSTNAME`.
                hostname: serviceName,
                env: args.environment,
                stopGracePeriod: STOP_GRACE_PERIOD,
                // No healthcheck here: the image's HEALTHCHECK applies, and Swarm counts a task as
                // running (and lists it in the service's DNS) only once it is healthy.
              },
              // By id: the provider reads the attachment back as `id` (flattenTaskNetworksAdvanced)
              // and both fields are ForceNew, so a `name` would replace the service on every run.
              networksAdvanceds: [{ id: args.network.id }],
              restartPolicy,
            },
            mode: { replicated: { replicas: 1 } },
            // dnsrr: the service name resolves to its task's address. No virtual IP: it needs IPVS,
            // which some kernels (this CI's) lack, and the proxy balances anyway.
            endpointSpec: { mode: "dnsrr" },
            updateConfig: memberUpdateConfig,
            rollbackConfig: memberRollbackConfig,
            convergeConfig,
          },
          {
            parent: this,
            // Members of a pool roll one after another, so the pool never loses two at once.
            dependsOn: previous ? [previous] : [],
            // A service name can't exist twice; the provider would ask for this anyway (the bridge's
            // nameRequiresDeleteBeforeReplace, for an explicit name).
            deleteBeforeReplace: true,
            // A new network replaces the member, which goes first: Swarm refuses to delete a
            // network a service still uses, and the provider's diff alone would only update it.
            replaceWith: [args.network],
          },
        ),
      );
    }
    this.services = services;
    this.addresses = pulumi.all(
      services.map((service) => pulumi.interpolate`${service.name}:${args.port}`),
    );
    this.registerOutputs({ addresses: this.addresses });
  }
}
