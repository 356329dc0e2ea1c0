// Swarm mode's proxy: one task on every node (or on the nodes proxyNodeLabel names), each
// publishing the port on its own node (host mode), finding the members by their service names.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { runtimeLimits } from "../hardening";
import { PROXY_PORT, proxyEnvironment } from "../proxyEnvironment";
import type { StackProxyArgs } from "../target";
import { containerSpecHardening, taskSpecHardening } from "./hardening";
import { proxyRollbackConfig, proxyUpdateConfig } from "./policies";
import { balancerManagerSecret, PASSWORD_FILE } from "./secret";

/**
 * How long the proxy trusts a member's DNS answer (BalancerMember `addressttl`, Apache 2.4.59+): a
 * member rescheduled on another node has a new address, found again within this many seconds.
 */
export const MEMBER_ADDRESS_TTL_SECONDS = 5;

export interface SwarmProxyEnvironmentArgs {
  staticAddresses: readonly string[];
  dynamicAddresses: readonly string[];
  serverName: string;
  balancerManagerUser: string;
  /** The password's file in the task, or undefined to keep the balancer-manager off. */
  balancerManagerPasswordFile: string | undefined;
}

/** The proxy service's `env`: single-host mode's variables, the password only as a file path. */
export function swarmProxyEnvironment(args: SwarmProxyEnvironmentArgs): Record<string, string> {
  const lines = proxyEnvironment({ ...args, balancerManagerPassword: undefined });
  const env = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  env.BALANCER_MEMBER_ADDRESS_TTL = String(MEMBER_ADDRESS_TTL_SECONDS);
  if (args.balancerManagerPasswordFile !== undefined) {
    env.BALANCER_MANAGER_USER = args.balancerManagerUser;
    env.BALANCER_MANAGER_PASSWORD_FILE = args.balancerManagerPasswordFile;
  }
  return env;
}

/** The proxy image's user and group (www-data, 33 in both base images): the password file's owner. */
export const PROXY_UID = "33";

/** `node.labels.key==value`, Swarm's placement constraint for a node label. */
export function nodeLabelConstraint(label: string): string {
  const at = label.indexOf("=");
  return `node.labels.${label.slice(0, at)}==${label.slice(at + 1)}`;
}

export function proxyService(args: StackProxyArgs): docker.Service {
  const { names, settings } = args;
  const secret =
    args.balancerManagerPassword === undefined
      ? undefined
      : balancerManagerSecret(names, args.balancerManagerPassword);
  const env = pulumi
    .all([args.staticAddresses, args.dynamicAddresses])
    .apply(([staticAddresses, dynamicAddresses]) =>
      swarmProxyEnvironment({
        staticAddresses,
        dynamicAddresses,
        serverName: settings.serverName,
        balancerManagerUser: settings.balancerManagerUser,
        balancerManagerPasswordFile: secret && PASSWORD_FILE,
      }),
    );

  return new docker.Service(
    "proxy",
    {
      name: names.proxy,
      labels: names.labels("proxy"),
      taskSpec: {
        ...taskSpecHardening(runtimeLimits(settings, "proxy")),
        containerSpec: {
          ...containerSpecHardening("proxy"),
          image: args.image,
          env,
          secrets: secret && [
            {
              secretId: secret.id,
              secretName: secret.name,
              fileName: PASSWORD_FILE,
              // Only the image's user (www-data, uid 33) reads it, in the entrypoint.
              fileUid: PROXY_UID,
              fileGid: PROXY_UID,
              fileMode: 0o400,
            },
          ],
        },
        networksAdvanceds: [{ name: args.network.id }],
        placement: settings.proxyNodeLabel
          ? { constraints: [nodeLabelConstraint(settings.proxyNodeLabel)] }
          : undefined,
        restartPolicy: { condition: "any" },
      },
      // One task per node. The provider can't wait for a global service to converge (its schema
      // refuses converge_config with mode.0.global): each node's proxy answers once healthy.
      mode: { global: true },
      endpointSpec: {
        mode: "dnsrr",
        // Host mode: each node's task binds the port on that node. The routing mesh (ingress) needs
        // IPVS, and would hide the client's address behind the mesh's.
        ports: [
          {
            targetPort: PROXY_PORT,
            publishedPort: settings.proxyPort,
            publishMode: "host",
            protocol: "tcp",
          },
        ],
      },
      updateConfig: proxyUpdateConfig,
      rollbackConfig: proxyRollbackConfig,
    },
    // The name is fixed, and so is each node's host port.
    { deleteBeforeReplace: true },
  );
}
