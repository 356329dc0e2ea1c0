// The proxy's secrets on a swarm: the balancer-manager password, and with tlsMode given the
// certificate chain and its private key. Swarm mounts each as a file in the proxy's tasks, so none
// shows in `docker service inspect`, as an env var would.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { StackNames } from "../naming";
import type { TlsSettings } from "../tls";

/** Where the proxy's entrypoint reads the password (BALANCER_MANAGER_PASSWORD_FILE). */
export const PASSWORD_FILE = "/run/secrets/balancer-manager-password";

/** Where the proxy's TLS vhost reads the chain and the key (TLS_CERTIFICATE_FILE, …_KEY_FILE). */
export const SWARM_TLS_FILES = {
  certificate: "/run/secrets/tls-certificate.pem",
  privateKey: "/run/secrets/tls-private-key.pem",
} as const;

/**
 * Swarm's longest secret name (moby/swarmkit manager/controlapi/common.go
 * validateConfigOrSecretAnnotations: "only 64 [a-zA-Z0-9-_.] characters allowed").
 */
export const MAX_SECRET_NAME = 64;

/**
 * The secret's name carries a hash of its content. A secret can't change (every property is
 * ForceNew in terraform-provider-docker resource_docker_secret.go), and Swarm refuses to delete a
 * secret a service still uses. So new content is a new secret, created next to the old one; the
 * proxy service is updated to it; then the old one is deleted. The hash is salted with the stack
 * prefix and cut to 12 hex digits: it names a version, it is no way to check a password or a key.
 * A long stack prefix is cut so that the name stays within Swarm's 64 characters; the salted hash
 * keeps two stacks apart.
 */
export function secretName(names: StackNames, purpose: string, content: string): string {
  const digest = createHash("sha256").update(`${names.prefix}\0${content}`).digest("hex");
  const tail = `-${purpose}-${digest.slice(0, 12)}`;
  return `${names.prefix.slice(0, MAX_SECRET_NAME - tail.length)}${tail}`;
}

/** A secret of the proxy's and where its tasks find it. */
export interface ProxySecretFile {
  secret: docker.Secret;
  fileName: string;
  /** Octal file mode in the task (owned by the proxy's user, src/swarm/proxy.ts PROXY_UID). */
  fileMode: number;
  /** What it holds, for the configuration digest (proxyReady.ts proxyConfigDigest). */
  purpose: "password" | "tls";
}

/** One docker.Secret named after its content (see secretName). */
function contentSecret(
  resourceName: string,
  names: StackNames,
  purpose: string,
  content: pulumi.Output<string>,
): docker.Secret {
  return new docker.Secret(
    resourceName,
    {
      // The name shows only the hash: not a secret.
      name: pulumi.unsecret(content.apply((value) => secretName(names, purpose, value))),
      // The provider takes the data base64-encoded (resource_docker_secret.go: StdEncoding).
      data: content.apply((value) => Buffer.from(value, "utf8").toString("base64")),
      labels: names.labels("proxy"),
    },
    // Explicitly false: with an explicit name the bridge would otherwise ask to delete the old
    // secret first (pulumi-terraform-bridge nameRequiresDeleteBeforeReplace), which Swarm refuses
    // while the proxy uses it. The content-hashed name lets both exist during the switch.
    { deleteBeforeReplace: false },
  );
}

/**
 * The secrets the proxy mounts: the password if there is one, the chain and the key with
 * tlsMode given. The password and the key enter as Pulumi secrets (so the state holds them
 * encrypted); the chain is public, and the provider marks every secret's data secret anyway.
 */
export function proxySecretFiles(
  names: StackNames,
  password: pulumi.Input<string> | undefined,
  tls: TlsSettings,
): ProxySecretFile[] {
  const files: ProxySecretFile[] = [];
  if (password !== undefined) {
    files.push({
      secret: contentSecret(
        "balancer-manager-password",
        names,
        "balancer-manager",
        pulumi.secret(password),
      ),
      fileName: PASSWORD_FILE,
      // Only its owner, the proxy's user, reads it: the entrypoint, once, at start.
      fileMode: 0o400,
      purpose: "password",
    });
  }
  if (tls.mode === "given") {
    files.push(
      {
        secret: contentSecret(
          "tls-certificate",
          names,
          "tls-certificate",
          pulumi.output(tls.certificate),
        ),
        fileName: SWARM_TLS_FILES.certificate,
        fileMode: 0o444,
        purpose: "tls",
      },
      {
        secret: contentSecret(
          "tls-private-key",
          names,
          "tls-private-key",
          pulumi.secret(tls.privateKey),
        ),
        fileName: SWARM_TLS_FILES.privateKey,
        // Only its owner, Apache (www-data from its first instruction; no root process), reads it.
        fileMode: 0o400,
        purpose: "tls",
      },
    );
  }
  return files;
}
