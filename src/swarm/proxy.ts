// Swarm mode's proxy: one task on every node (or on the nodes proxyNodeLabel names), each
// publishing its ports on its own node (host mode), finding the members by their service names.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { runtimeLimits } from "../hardening";
import { PROXY_PORT, proxyEnvironment } from "../proxyEnvironment";
import type { StackProxyArgs } from "../target";
import { PROXY_HTTPS_PORT, tlsEnvironment, type TlsSettings } from "../tls";
import { containerSpecHardening, taskSpecHardening } from "./hardening";
import {
  proxyRollbackConfig,
  proxyUpdateConfig,
  restartPolicy,
  STOP_GRACE_PERIOD,
} from "./policies";
import { PROXY_CONFIG_ID_TEMPLATE, proxyConfigDigest, proxyReadyChecks } from "./proxyReady";
import { PASSWORD_FILE, proxySecretFiles, SWARM_TLS_FILES } from "./secret";
import type { SwarmNode } from "./swarmNodes";

export interface SwarmProxyEnvironmentArgs {
  staticAddresses: readonly string[];
  dynamicAddresses: readonly string[];
  serverName: string;
  balancerManagerUser: string;
  /** The password's file in the task, or undefined to keep the balancer-manager off. */
  balancerManagerPasswordFile: string | undefined;
  /** HTTPS: a given certificate's files are the secrets' (SWARM_TLS_FILES). */
  tls: TlsSettings;
}

/**
 * The proxy service's `env`: single-host mode's variables, the password and the TLS key only as
 * file paths.
 */
export function swarmProxyEnvironment(args: SwarmProxyEnvironmentArgs): Record<string, string> {
  const lines = [
    ...proxyEnvironment({ ...args, balancerManagerPassword: undefined }),
    ...tlsEnvironment(args.tls, SWARM_TLS_FILES),
  ];
  const env = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  // A member's node can die without a word: a new connection per request fails over within the
  // connect timeout where a pooled one would hang (docs/swarm.md, "Node loss").
  env.BALANCER_MEMBER_CONNECTIONS = "per-request";
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

/**
 * The proxy service, and on each of its nodes a check that `pulumi up` waits for (proxyReady.ts).
 * The returned name resolves once every check has converged, so a check that fails fails the run.
 */
export function proxyService(
  args: StackProxyArgs,
  /** The nodes that run a proxy task (preflight.ts). */
  nodes: pulumi.Output<SwarmNode[]>,
): { service: docker.Service; name: pulumi.Output<string> } {
  const { names, settings } = args;
  const secretFiles = proxySecretFiles(names, args.balancerManagerPassword, settings.tls);
  const secretNames = (purpose: string) =>
    pulumi.all(secretFiles.filter((file) => file.purpose === purpose).map((f) => f.secret.name));
  const configured = pulumi
    .all([
      args.staticAddresses,
      args.dynamicAddresses,
      args.image,
      secretNames("password"),
      secretNames("tls"),
    ])
    .apply(([staticAddresses, dynamicAddresses, image, [passwordSecret], tlsSecrets]) => {
      const env = swarmProxyEnvironment({
        staticAddresses,
        dynamicAddresses,
        serverName: settings.serverName,
        balancerManagerUser: settings.balancerManagerUser,
        balancerManagerPasswordFile: passwordSecret === undefined ? undefined : PASSWORD_FILE,
        tls: settings.tls,
      });
      // A new certificate or key changes no variable, only the secrets' names: they are part of
      // the digest, so `up` waits until every node serves the new certificate.
      const digest = proxyConfigDigest(env, image, { password: passwordSecret, tls: tlsSecrets });
      // Each task reports its node and this digest on /proxy-healthz (X-Proxy-Config).
      return { env: { ...env, PROXY_CONFIG_ID: PROXY_CONFIG_ID_TEMPLATE(digest) }, digest };
    });
  const env = configured.apply(({ env }) => env);

  const proxy = new docker.Service(
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
          secrets:
            secretFiles.length === 0
              ? undefined
              : secretFiles.map(({ secret, fileName, fileMode }) => ({
                  secretId: secret.id,
                  secretName: secret.name,
                  fileName,
                  // Only the image's user (www-data, uid 33) reads them: the entrypoint the
                  // password, Apache the certificate and its key.
                  fileUid: PROXY_UID,
                  fileGid: PROXY_UID,
                  fileMode,
                })),
          stopGracePeriod: STOP_GRACE_PERIOD,
        },
        // By id, as the provider reads it back (see members.ts).
        networksAdvanceds: [{ id: args.network.id }],
        placement: settings.proxyNodeLabel
          ? { constraints: [nodeLabelConstraint(settings.proxyNodeLabel)] }
          : undefined,
        restartPolicy,
      },
      // One task per node. The provider can't wait for a global service to converge (its schema
      // refuses converge_config with mode.0.global): the checks below are what `up` waits for.
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
          ...(settings.tls.mode === "off"
            ? []
            : [
                {
                  targetPort: PROXY_HTTPS_PORT,
                  publishedPort: settings.tls.httpsPort,
                  publishMode: "host",
                  protocol: "tcp",
                },
              ]),
        ],
      },
      updateConfig: proxyUpdateConfig,
      rollbackConfig: proxyRollbackConfig,
    },
    // The name is fixed, and so is each node's host port. A new network replaces it, first (see
    // members.ts).
    { deleteBeforeReplace: true, replaceWith: [args.network] },
  );
  // The nodes are known before anything is declared (the preflight asked the manager), so the
  // checks show in a preview too.
  const checks = nodes.apply((proxyNodes) =>
    proxyReadyChecks({
      names,
      nodes: proxyNodes,
      proxy,
      image: args.image,
      network: args.network,
      digest: configured.apply(({ digest }) => digest),
    }),
  );
  const ready = checks.apply((services) => pulumi.all(services.map((service) => service.id)));
  return { service: proxy, name: pulumi.all([proxy.name, ready]).apply(([name]) => name) };
}
