// The balancer-manager password as a Swarm secret: Swarm mounts it as a file in the proxy's tasks
// (/run/secrets/<fileName>), so it never shows in `docker service inspect`, as an env var would.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { StackNames } from "../naming";

/** Where the proxy's entrypoint reads it (BALANCER_MANAGER_PASSWORD_FILE). */
export const PASSWORD_FILE = "/run/secrets/balancer-manager-password";

/**
 * The secret's name carries a hash of its content. A secret can't change (every property is
 * ForceNew in terraform-provider-docker resource_docker_secret.go), and Swarm refuses to delete a
 * secret a service still uses. So a new password is a new secret, created next to the old one; the
 * proxy service is updated to it; then the old one is deleted. The hash is salted with the stack
 * prefix and cut to 12 hex digits: it names a version, it is no way to check a password.
 */
export function secretName(names: StackNames, password: string): string {
  const digest = createHash("sha256").update(`${names.prefix}\0${password}`).digest("hex");
  return `${names.prefix}-balancer-manager-${digest.slice(0, 12)}`;
}

export function balancerManagerSecret(
  names: StackNames,
  password: pulumi.Input<string>,
): docker.Secret {
  const secretPassword = pulumi.secret(password);
  return new docker.Secret(
    "balancer-manager-password",
    {
      // The name shows only the hash: not a secret.
      name: pulumi.unsecret(secretPassword.apply((value) => secretName(names, value))),
      // The provider takes the data base64-encoded (resource_docker_secret.go: StdEncoding).
      data: secretPassword.apply((value) => Buffer.from(value, "utf8").toString("base64")),
      labels: names.labels("proxy"),
    },
    // Explicitly false: with an explicit name the bridge would otherwise ask to delete the old
    // secret first (pulumi-terraform-bridge nameRequiresDeleteBeforeReplace), which Swarm refuses
    // while the proxy uses it. The content-hashed name lets both exist during the switch.
    { deleteBeforeReplace: false },
  );
}
