// Turns the backends' real addresses into the proxy's environment. The proxy's entrypoint renders
// its vhost from these variables (docker-images/apache-reverse-proxy/templates/config-template.php),
// keeping the report's names: STATIC_APP_1, STATIC_APP_2, …, DYNAMIC_APP_1, …
import { createHash } from "node:crypto";
import { isIP } from "node:net";

/** The part of a container's `networkDatas` output this program reads. */
export interface NetworkData {
  networkName?: string;
  ipAddress?: string;
}

/** The part of a container's `networksAdvanced` output this program reads: what it asked for. */
export interface NetworkAttachment {
  name?: string;
  ipv4Address?: string;
}

/**
 * A container's IP on one network, picked by network name. A container can sit on several
 * networks and the provider does not promise their order, so position is never trusted.
 *
 * One case reads the address the container asked for instead: Docker lists a stopped container on
 * the network with no address, and after `pulumi up --refresh` the provider's update that starts
 * it again reads nothing back (terraform-provider-docker resourceDockerContainerUpdate), so
 * `networkDatas` keeps the empty address for that run. The container gets back the fixed address
 * its endpoint's IPAM config names (`networksAdvanced[].ipv4Address`, which the provider's Read
 * keeps as configured), so that is where it is.
 */
export function ipOnNetwork(
  networkDatas: readonly NetworkData[] | undefined,
  networkName: string,
  containerName: string,
  // Stryker disable next-line ArrayDeclaration: an element that is not an attachment has no name, so none is found either way
  attachments: readonly NetworkAttachment[] = [],
): string {
  // Stryker disable next-line ArrayDeclaration: an element that is not a network has no name, so none is found either way
  const match = (networkDatas ?? []).find((data) => data.networkName === networkName);
  const requested = attachments.find((attachment) => attachment.name === networkName)?.ipv4Address;
  const address = match?.ipAddress || (match ? requested : undefined);
  if (!address) {
    // Stryker disable next-line ArrayDeclaration: an element that is not a network has no name: the list reads "none" either way
    const seen = (networkDatas ?? []).map((data) => data.networkName).join(", ") || "none";
    throw new Error(
      `container ${containerName} has no IP address on network ${networkName} (networks seen: ${seen})`,
    );
  }
  return address;
}

/** `host:port`, with IPv6 literals in brackets as Apache's BalancerMember URLs need. */
export function hostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface ProxyEnvironmentArgs {
  staticAddresses: readonly string[];
  dynamicAddresses: readonly string[];
  serverName: string;
  balancerManagerUser: string;
  /** Undefined keeps the balancer-manager off. */
  balancerManagerPassword?: string;
}

/**
 * The port Apache listens on inside the proxy's container (or task), in both modes: above 1023, so
 * Apache needs no privilege to bind it (docker-images/apache-reverse-proxy runs as www-data).
 */
export const PROXY_PORT = 8080;

/** The proxy container's `envs`, in Docker's `KEY=value` form. */
export function proxyEnvironment(args: ProxyEnvironmentArgs): string[] {
  if (args.staticAddresses.length === 0 || args.dynamicAddresses.length === 0) {
    throw new Error("the proxy needs at least one static and one dynamic backend");
  }
  const env = [
    ...args.staticAddresses.map((address, i) => `STATIC_APP_${i + 1}=${address}`),
    ...args.dynamicAddresses.map((address, i) => `DYNAMIC_APP_${i + 1}=${address}`),
    `SERVER_NAME=${args.serverName}`,
  ];
  // An empty secret keeps the manager off, as in validateSettings.
  if (args.balancerManagerPassword) {
    env.push(
      `BALANCER_MANAGER_USER=${args.balancerManagerUser}`,
      `BALANCER_MANAGER_PASSWORD=${args.balancerManagerPassword}`,
    );
  }
  return env;
}

/**
 * A digest of the proxy's `envs`, the proxy's `replacementTrigger` (src/containers/proxy.ts): it
 * changes exactly when the environment's content does. Sorted first: Docker's provider keeps `env`
 * as a set, so the order is not part of the value. Only the hash leaves the program: the password
 * is in `envs`.
 */
export function proxyEnvironmentDigest(envs: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify([...envs].sort()))
    .digest("hex");
}

/** The URL a browser on the host opens: a wildcard bind address is reached through loopback. */
export function proxyUrl(bindAddress: string, port: number): string {
  const host = bindAddress === "0.0.0.0" ? "127.0.0.1" : bindAddress === "::" ? "::1" : bindAddress;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`;
}
