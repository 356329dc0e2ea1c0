// Single-host mode's proxy: the only container that publishes a host port. Its environment is built
// from the backends' real addresses (outputs), so it is created after them and replaced when that
// environment's content changes: no hard-coded 172.17.0.x as in the lab report. A member replaced
// for a rebuilt image (same fixed address) leaves it running: see the options below.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { addressInSubnet, slots } from "../addressing";
import { runtimeLimits } from "../hardening";
import type { StackNames } from "../naming";
import { PROXY_PORT, proxyEnvironment, proxyEnvironmentDigest } from "../proxyEnvironment";
import type { Settings } from "../settings";
import { tlsEnvironment } from "../tls";
import { HEALTHY_WITHIN_SECONDS } from "./backends";
import { containerHardening } from "./hardening";
import { acmeStoreName, proxyTlsInputs, tlsFiles } from "./tls";

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
  /**
   * Resolves once the engine is known to support this resource's options (index.ts,
   * requirePulumiVersion with src/pulumiVersion.ts): the proxy is not registered with an engine
   * that would ignore them.
   */
  readonly engineSupported: pulumi.Input<void>;
}

export function proxyContainer(args: ProxyArgs): docker.Container {
  const { names, settings } = args;
  const envs = pulumi
    .all([args.staticAddresses, args.dynamicAddresses, args.balancerManagerPassword])
    .apply(([staticAddresses, dynamicAddresses, balancerManagerPassword]) => [
      ...proxyEnvironment({
        staticAddresses,
        dynamicAddresses,
        serverName: settings.serverName,
        balancerManagerUser: settings.balancerManagerUser,
        balancerManagerPassword,
      }),
      ...tlsEnvironment(settings.tls),
    ]);
  // HTTPS: its port, the certificate files on a volume written before the proxy starts (its
  // root filesystem is read-only), mod_md's store on a volume that outlives the container, so a
  // replaced proxy orders no new certificate (src/containers/tls.ts).
  const acmeStore =
    settings.tls.mode === "acme"
      ? new docker.Volume("acme-store", {
          name: acmeStoreName(names),
          labels: names.labels("proxy"),
        })
      : undefined;
  const tls = proxyTlsInputs(settings.tls, settings, {
    files: tlsFiles(names, settings.tls, args.image),
    acmeStore: acmeStore?.name,
  });

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
        ...tls.ports,
      ],
      volumes: tls.volumes,
      labels: names.labels("proxy"),
      ...containerHardening("proxy", runtimeLimits(settings, "proxy")),
      restart: "unless-stopped",
      wait: true,
      waitTimeout: HEALTHY_WITHIN_SECONDS,
    },
    {
      // Both the name and the host port are fixed: the old proxy must let go of them first.
      deleteBeforeReplace: true,
      // A member replaced delete-before-create makes `envs` unknown for a moment, and the engine
      // would delete the proxy first and re-create it after every member (the site dark for the
      // whole roll). pulumi/pulumi pkg/resource/deploy/step_generator.go
      // calculateDependentReplacements passes the proxy's stored ignoreChanges to the provider's
      // Diff (requiresReplacement → diffResource(..., r.IgnoreChanges), since v3.163.0, #19188),
      // so with `envs` ignored a member's replacement no longer drags the proxy into that chain;
      // and continueStepsFromImport (processIgnoreChanges) keeps the old `envs` when nothing else
      // changed.
      ignoreChanges: ["envs"],
      // ...and the content still decides: generateStepsFromDiff replaces the proxy when this
      // digest differs from the last run's (shouldTriggerReplace; engine v3.208.0, #20936; Node
      // SDK 3.211.0; compared unwrapped of outputs since v3.226.0, #22119), and the replacement
      // is checked from the program's own inputs (continueStepsFromDiff re-runs Check on
      // goal.Properties), so it starts with the fresh `envs`. Scaling, serverName, the password
      // replace it; a rebuilt member at the same address does not. It is a secret whenever
      // `envs` is (the password), and only the hash is stored.
      replacementTrigger: pulumi
        .all([envs, args.engineSupported])
        .apply(([environment]) => proxyEnvironmentDigest(environment)),
    },
  );
}
