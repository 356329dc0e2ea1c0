// Single-host mode's HTTPS inputs for the proxy container: the HTTPS port, the certificate files,
// and for ACME the volume that keeps mod_md's store. src/containers/proxy.ts spreads them in.
//
// The private key reaches the container as a file written before it starts (the provider's
// `upload`: terraform-provider-docker v4.5.0 resource_docker_container_funcs.go
// resourceDockerContainerCreate tars each upload's `content` and sends it with CopyToContainer,
// then starts the container). So it is in no environment variable and not in `docker inspect`,
// which shows the container's config, not its files. The provider keeps `content` in its state
// (resource_docker_container.go `upload`, a ForceNew TypeSet); the content is a Pulumi secret
// here, and the bridge marks the outputs of secret inputs secret (pulumi-terraform-bridge
// pkg/tfbridge/provider.go Create → MakeTerraformResult with the inputs' secrets), so the state
// holds it encrypted.
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackNames } from "../naming";
import { PROXY_HTTPS_PORT, TLS_FILES, type TlsSettings } from "../tls";

/** Where mod_md keeps its account, orders and certificates inside the proxy (templates/tls.php). */
export const ACME_STORE_PATH = "/var/lib/apache2/md";

/** Unset fields stay out of the container's inputs: a stack without TLS keeps its old diff. */
export interface ProxyTlsInputs {
  ports: docker.types.input.ContainerPort[];
  uploads?: docker.types.input.ContainerUpload[];
  /** ACME only: the store's volume, mounted at ACME_STORE_PATH. */
  volumes?: docker.types.input.ContainerVolume[];
}

export function proxyTlsInputs(
  tls: TlsSettings,
  settings: { proxyBindAddress: string },
  acmeStore: pulumi.Input<string> | undefined,
): ProxyTlsInputs {
  if (tls.mode === "off") return { ports: [] };
  const ports = [
    { internal: PROXY_HTTPS_PORT, external: tls.httpsPort, ip: settings.proxyBindAddress },
  ];
  if (tls.mode === "given") {
    return {
      ports,
      uploads: [
        { file: TLS_FILES.certificate, content: tls.certificate, permissions: "0644" },
        // Readable by root only: Apache's parent reads it before it starts its workers.
        { file: TLS_FILES.privateKey, content: pulumi.secret(tls.privateKey), permissions: "0600" },
      ],
    };
  }
  if (acmeStore === undefined) throw new Error("tlsMode acme needs the ACME store's volume");
  return {
    ports,
    uploads: tls.caRoot
      ? [{ file: TLS_FILES.acmeCaRoot, content: tls.caRoot, permissions: "0644" }]
      : undefined,
    volumes: [{ volumeName: acmeStore, containerPath: ACME_STORE_PATH }],
  };
}

/** The ACME store's volume name, one per stack. */
export const acmeStoreName = (names: StackNames) => `${names.prefix}-acme`;
