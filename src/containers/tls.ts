// Single-host mode's HTTPS for the proxy container: the HTTPS port, the certificate files, and for
// ACME the volume that keeps mod_md's store. src/containers/proxy.ts spreads the inputs in.
//
// The files reach the proxy through a volume written before the proxy starts. The Docker provider
// writes a file into a container only with `upload` (terraform-provider-docker v4.5.0
// resource_docker_container_funcs.go resourceDockerContainerCreate: each upload's `content` as a
// one-file tar, sent with CopyToContainer to "/", before the start). So the key is in no
// environment variable and not in `docker inspect`, which shows a container's config, not its
// files. The provider keeps `content` in its state (resource_docker_container.go `upload`, a
// ForceNew TypeSet); the content is a Pulumi secret here, and the bridge marks the outputs of
// secret inputs secret (pulumi-terraform-bridge pkg/tfbridge/provider.go Create →
// MakeTerraformResult with the inputs' secrets), so the state holds it encrypted.
//
// The proxy's root filesystem is read-only, and the Engine refuses any copy into such a container
// whose destination directory is not a volume: the provider's is always "/" ("container rootfs is
// marked read-only", whatever the paths inside the tar; a volume or tmpfs at the files' directory
// does not help). So the upload goes to a container of its own, `tls-files`, which holds the
// files' volume, is never started and runs nothing, and the proxy mounts that volume read-only.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DROPPED_CAPABILITIES, LOG_DRIVER } from "../hardening";
import type { StackNames } from "../naming";
import { PROXY_HTTPS_PORT, TLS_FILES, TLS_FILES_DIR, type TlsSettings } from "../tls";

/** Where mod_md keeps its account, orders and certificates inside the proxy (templates/tls.php). */
export const ACME_STORE_PATH = "/var/lib/apache2/md";

/** Unset fields stay out of the container's inputs: a stack without TLS keeps its old diff. */
export interface ProxyTlsInputs {
  ports: docker.types.input.ContainerPort[];
  /** The certificate files' volume (read-only) and, with ACME, mod_md's store. */
  volumes?: docker.types.input.ContainerVolume[];
}

/**
 * The files the proxy needs from the program: the given chain and key, or a private ACME CA's
 * root. The upload sets no owner, so they are root's; 0444: Apache, www-data from its first
 * instruction, reads them as "other", and nobody writes them. No other user runs in the proxy,
 * and Apache's children hold the loaded key in memory whoever owns the file.
 */
export function tlsUploads(tls: TlsSettings): docker.types.input.ContainerUpload[] {
  switch (tls.mode) {
    case "off":
      return [];
    case "given":
      return [
        { file: TLS_FILES.certificate, content: tls.certificate, permissions: "0444" },
        { file: TLS_FILES.privateKey, content: pulumi.secret(tls.privateKey), permissions: "0444" },
      ];
    case "acme":
      return tls.caRoot
        ? [{ file: TLS_FILES.acmeCaRoot, content: tls.caRoot, permissions: "0444" }]
        : [];
  }
}

export function proxyTlsInputs(
  tls: TlsSettings,
  settings: { proxyBindAddress: string },
  volumes: {
    /** The certificate files' volume, once written (tlsFiles), when there are files. */
    files?: pulumi.Input<string>;
    /** ACME: mod_md's store. */
    acmeStore?: pulumi.Input<string>;
  },
): ProxyTlsInputs {
  if (tls.mode === "off") return { ports: [] };
  const ports = [
    { internal: PROXY_HTTPS_PORT, external: tls.httpsPort, ip: settings.proxyBindAddress },
  ];
  if (tlsUploads(tls).length > 0 && volumes.files === undefined) {
    throw new Error(`tlsMode ${tls.mode} needs the certificate files' volume`);
  }
  if (tls.mode === "acme" && volumes.acmeStore === undefined) {
    throw new Error("tlsMode acme needs the ACME store's volume");
  }
  return {
    ports,
    volumes: [
      ...(volumes.files === undefined
        ? []
        : [{ volumeName: volumes.files, containerPath: TLS_FILES_DIR, readOnly: true }]),
      ...(volumes.acmeStore === undefined
        ? []
        : [{ volumeName: volumes.acmeStore, containerPath: ACME_STORE_PATH }]),
    ],
  };
}

/** The ACME store's volume name, one per stack. */
export const acmeStoreName = (names: StackNames) => `${names.prefix}-acme`;
/** The certificate files' volume, and the container that writes them into it. */
export const tlsFilesNames = (names: StackNames) => ({
  volume: `${names.prefix}-tls`,
  container: `${names.prefix}-tls-files`,
});

/**
 * The certificate files' volume and the container that writes them into it (see above), or
 * undefined when there is nothing to upload. Resolves to the volume's name once the files are in
 * it: the proxy mounts it from this output, so it is created after the upload, and a new upload
 * (new content replaces the holder: `upload` is ForceNew) replaces the proxy too (a delete-first
 * replacement replaces the resources whose inputs it feeds).
 */
export function tlsFiles(
  names: StackNames,
  tls: TlsSettings,
  image: pulumi.Input<string>,
): pulumi.Output<string> | undefined {
  const uploads = tlsUploads(tls);
  if (uploads.length === 0) return undefined;
  const physical = tlsFilesNames(names);
  const volume = new docker.Volume("tls-files", {
    name: physical.volume,
    labels: names.labels("tls-files"),
  });
  const holder = new docker.Container("tls-files", {
    name: physical.container,
    // The proxy's image: a new volume takes the image's /etc/apache2/tls (root's, 0755) at its
    // first mount, so www-data reads the files and adds none.
    image,
    volumes: [{ volumeName: volume.name, containerPath: TLS_FILES_DIR }],
    uploads,
    // Created, written to, never started: it runs no process. must_run false, or the provider's
    // Read would find it stopped and start it on the next run.
    start: false,
    mustRun: false,
    labels: names.labels("tls-files"),
    // Least privilege as far as a container that takes an upload can have it (its root stays
    // writable: see above), should anyone start it.
    capabilities: { drops: [...DROPPED_CAPABILITIES] },
    securityOpts: ["no-new-privileges:true"],
    memory: 32,
    memorySwap: 32,
    cpus: "0.1",
    logDriver: LOG_DRIVER.name,
    logOpts: { ...LOG_DRIVER.options },
  });
  return pulumi.all([volume.name, holder.id]).apply(([name]) => name);
}
