// Validated settings: the one place that knows the config keys, their defaults and their rules.
// Pure functions only, so every rule has a plain unit test; index.ts reads Pulumi config once and
// hands it here before any resource is declared.
import { isIP } from "node:net";
import { HIGHEST_SLOT, MAX_BACKENDS, parseIpv4Cidr } from "./addressing";
import { cpusAsProviderReadsThem, providerKeepsCpus } from "./cpuLimit";
import { validateTls, type RawTlsSettings, type TlsSettings } from "./tls";

export { MAX_BACKENDS };

/** Config as read from Pulumi, before validation. Undefined means "use the default". */
export interface RawSettings extends RawTlsSettings {
  staticBackends?: number;
  dynamicBackends?: number;
  proxyPort?: number;
  proxyBindAddress?: string;
  serverName?: string;
  networkSubnet?: string;
  staticBaseImage?: string;
  dynamicBaseImage?: string;
  proxyBaseImage?: string;
  balancerManagerUser?: string;
  deployTarget?: string;
  registry?: string;
  proxyNodeLabel?: string;
  proxyMemoryLimitMb?: number;
  staticMemoryLimitMb?: number;
  dynamicMemoryLimitMb?: number;
  proxyCpuLimit?: string;
  staticCpuLimit?: string;
  dynamicCpuLimit?: string;
  balancerManagerPassword?: string;
  /** False when the stack holds the password in plain text (set without `--secret`). */
  balancerManagerPasswordIsSecret?: boolean;
}

export interface Settings {
  staticBackends: number;
  dynamicBackends: number;
  proxyPort: number;
  proxyBindAddress: string;
  serverName: string;
  /** Undefined lets the program pick a free /24 for the stack (src/addressing.ts chooseSubnet). */
  networkSubnet: string | undefined;
  staticBaseImage: string;
  dynamicBaseImage: string;
  proxyBaseImage: string;
  balancerManagerUser: string;
  /** Where the stack runs: containers on one engine, or services on a Docker Swarm. */
  deployTarget: DeployTarget;
  /** Swarm mode: the registry (`host[:port]`) the images are pushed to; undefined: no push. */
  registry: string | undefined;
  /** Swarm mode: the node label (`key=value`) of the nodes that run the proxy; undefined: all. */
  proxyNodeLabel: string | undefined;
  /** Memory limit (MiB, swap included) of each container or task of a role. */
  proxyMemoryLimitMb: number;
  staticMemoryLimitMb: number;
  dynamicMemoryLimitMb: number;
  /** CPU limit (a number of CPUs, as `docker run --cpus` takes it) of each container or task. */
  proxyCpuLimit: string;
  staticCpuLimit: string;
  dynamicCpuLimit: string;
  /** Undefined keeps the balancer-manager off. */
  balancerManagerPassword: string | undefined;
  /** HTTPS: off, a given certificate, or one from an ACME CA (src/tls.ts). */
  tls: TlsSettings;
}

/** The defaults, mirrored by the `config:` schema in Pulumi.yaml (a unit test keeps them equal). */
export const defaultSettings = {
  staticBackends: 2,
  dynamicBackends: 2,
  proxyPort: 8080,
  proxyBindAddress: "127.0.0.1",
  serverName: "demo.res.ch",
  networkSubnet: "",
  staticBaseImage: "php:8.4-apache-bookworm",
  dynamicBaseImage: "node:22-bookworm-slim",
  proxyBaseImage: "php:8.4-apache-bookworm",
  balancerManagerUser: "admin",
  deployTarget: "containers",
  registry: "",
  proxyNodeLabel: "",
  // Sized from the peaks measured under `npm run bench` and the cold crowd (docs/security.md).
  proxyMemoryLimitMb: 384,
  staticMemoryLimitMb: 256,
  dynamicMemoryLimitMb: 256,
  proxyCpuLimit: "1.0",
  staticCpuLimit: "1.0",
  dynamicCpuLimit: "1.0",
} as const satisfies Required<
  Omit<
    RawSettings,
    "balancerManagerPassword" | "balancerManagerPasswordIsSecret" | keyof RawTlsSettings
  >
>;

export const DEPLOY_TARGETS = ["containers", "swarm"] as const;
export type DeployTarget = (typeof DEPLOY_TARGETS)[number];

/** Memory limits, in MiB: Docker refuses less than 6; a role's processes need several times that. */
export const MIN_MEMORY_LIMIT_MB = 32;
export const MAX_MEMORY_LIMIT_MB = 1_048_576;
/** CPU limits: Docker takes hundredths of a CPU at least, and never more than the host has. */
export const MAX_CPU_LIMIT = 256;

export const MIN_PASSWORD_LENGTH = 12;
/** bcrypt (htpasswd -B) ignores every byte after the 72nd. */
export const MAX_PASSWORD_BYTES = 72;

/** Thrown with every broken rule at once, so one `pulumi up` shows all of them. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "SettingsError";
  }
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components, the
// registry's labels as domain components (distribution/reference regexp.go domainNameComponent).
const IMAGE_REFERENCE =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
// A registry host as an image reference's first component: a DNS name or IPv4, an optional port.
const REGISTRY =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::[0-9]{1,5})?$/;
// A Swarm node label as `key=value`: the key as Docker's label keys, a value without spaces.
const NODE_LABEL = /^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?=[A-Za-z0-9._-]{1,128}$/;

// A number of CPUs as `docker run --cpus` takes it, to the hundredth.
const CPU_COUNT = /^(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?$/;

// JSON.stringify shows NaN and Infinity as "null": numbers are shown as they are.
const show = (value: unknown) =>
  typeof value === "number" ? String(value) : JSON.stringify(value);

function checkInteger(
  problems: string[],
  key: string,
  value: number,
  min: number,
  max: number,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${key} must be an integer from ${min} to ${max} (got ${show(value)})`);
  }
}

function checkSubnet(problems: string[], subnet: string): void {
  const parsed = parseIpv4Cidr(subnet);
  if (!parsed) {
    problems.push(`networkSubnet must be an IPv4 CIDR such as 172.28.0.0/24 (got ${show(subnet)})`);
    return;
  }
  const size = 2 ** (32 - parsed.prefix);
  if (parsed.address % size !== 0) {
    problems.push(
      `networkSubnet must start on its network boundary (got ${show(subnet)}: host bits are set)`,
    );
  }
  // The lower half holds the stack's fixed addresses (src/addressing.ts), the upper half the
  // containers that join the network later.
  if (
    parsed.prefix < 8 ||
    // Stryker disable next-line EqualityOperator: size / 2 is a power of two and HIGHEST_SLOT (34) is not, so < and <= agree
    size / 2 <= HIGHEST_SLOT
  ) {
    problems.push(
      `networkSubnet must be from a /8 to a /25 (got ${show(subnet)}): its lower half holds ` +
        `the stack's fixed addresses, its upper half other containers`,
    );
  }
}

/** Applies defaults and every rule; throws a SettingsError naming each offending key. */
export function validateSettings(raw: RawSettings): Settings {
  const {
    balancerManagerPasswordIsSecret,
    tlsMode,
    tlsCertificate,
    tlsPrivateKey,
    tlsPrivateKeyIsSecret,
    acmeDomains,
    acmeEmail,
    acmeDirectoryUrl,
    acmeCaRoot,
    acmeCheckInterval,
    httpsPort,
    ...values
  } = raw;
  // Everything but `tls`, which validateTls adds at the end from these values.
  const settings: Omit<Settings, "tls"> = {
    ...defaultSettings,
    ...Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)),
    networkSubnet: raw.networkSubnet || undefined,
    registry: raw.registry || undefined,
    proxyNodeLabel: raw.proxyNodeLabel || undefined,
    balancerManagerPassword: raw.balancerManagerPassword || undefined,
  };
  const problems: string[] = [];

  checkInteger(problems, "staticBackends", settings.staticBackends, 1, MAX_BACKENDS);
  checkInteger(problems, "dynamicBackends", settings.dynamicBackends, 1, MAX_BACKENDS);
  checkInteger(problems, "proxyPort", settings.proxyPort, 1, 65535);

  if (isIP(settings.proxyBindAddress) === 0) {
    problems.push(
      `proxyBindAddress must be an IPv4 or IPv6 address such as 127.0.0.1 (got ${show(settings.proxyBindAddress)})`,
    );
  }
  // A numeric last label makes it an IP address, not a host name (RFC 3696 section 2); the proxy
  // refuses it at start (config-validation.php isHostname).
  if (!HOSTNAME.test(settings.serverName) || /(?:^|\.)[0-9]+$/.test(settings.serverName)) {
    problems.push(`serverName must be a DNS host name (got ${show(settings.serverName)})`);
  }
  if (settings.networkSubnet !== undefined) {
    checkSubnet(problems, settings.networkSubnet);
  }
  for (const key of ["staticBaseImage", "dynamicBaseImage", "proxyBaseImage"] as const) {
    if (!IMAGE_REFERENCE.test(settings[key])) {
      problems.push(
        `${key} must be a Docker image reference such as php:8.4-apache-bookworm (got ${show(settings[key])})`,
      );
    }
  }
  if (!USER_NAME.test(settings.balancerManagerUser)) {
    problems.push(
      `balancerManagerUser must be 1 to 64 letters, digits, dots, dashes or underscores (got ${show(settings.balancerManagerUser)})`,
    );
  }
  // The proxy's entrypoint refuses these (config-validation.php): catch them before any resource.
  if (/^[._-]/.test(settings.balancerManagerUser)) {
    problems.push(
      `balancerManagerUser must start with a letter or digit (got ${show(settings.balancerManagerUser)})`,
    );
  }
  const password = settings.balancerManagerPassword;
  // The value of a secret is never echoed back, only what is wrong with it.
  if (password !== undefined && password.length < MIN_PASSWORD_LENGTH) {
    problems.push(
      `balancerManagerPassword must be at least ${MIN_PASSWORD_LENGTH} characters (got ${password.length})`,
    );
  }
  // Stryker disable next-line StringLiteral: Buffer.byteLength counts UTF-8 for an unknown or empty encoding name too
  if (password !== undefined && Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    problems.push(
      `balancerManagerPassword must be at most ${MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest)`,
    );
  }
  // Pulumi.yaml can't require `secret: true` of an optional key (the CLI would then demand a value
  // on every stack): the program enforces it instead.
  if (password !== undefined && balancerManagerPasswordIsSecret === false) {
    problems.push(
      "balancerManagerPassword is stored in plain text in the stack's config; set it again with " +
        "`pulumi config set --secret balancerManagerPassword <password>`",
    );
  }
  // Stryker disable ConditionalExpression: RegExp test() reads undefined as "undefined", which has no control character
  if (password !== undefined && /[\r\n\0]/.test(password)) {
    problems.push("balancerManagerPassword must not contain line breaks or NUL characters");
  } else if (
    password !== undefined &&
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    /[\x00-\x1f\x7f]/.test(password)
  ) {
    problems.push("balancerManagerPassword must not contain control characters such as tabs");
  }
  // Stryker restore ConditionalExpression

  for (const key of [
    "proxyMemoryLimitMb",
    "staticMemoryLimitMb",
    "dynamicMemoryLimitMb",
  ] as const) {
    checkInteger(problems, key, settings[key], MIN_MEMORY_LIMIT_MB, MAX_MEMORY_LIMIT_MB);
  }
  for (const key of ["proxyCpuLimit", "staticCpuLimit", "dynamicCpuLimit"] as const) {
    const value = settings[key];
    if (
      typeof value !== "string" ||
      !CPU_COUNT.test(value) ||
      Number(value) < 0.01 ||
      Number(value) > MAX_CPU_LIMIT
    ) {
      problems.push(
        `${key} must be a number of CPUs from 0.01 to ${MAX_CPU_LIMIT}, to the hundredth, such as 1.5 (got ${show(value)})`,
      );
    } else if (!providerKeepsCpus(Number(value))) {
      problems.push(
        `${key} ${value} is read back by the Docker provider as ${cpusAsProviderReadsThem(Number(value))} ` +
          `CPUs, which would replace the container on every run; use a value it keeps, such as ` +
          `${Math.max(Number(cpusAsProviderReadsThem(Number(value))), 0.1)}`,
      );
    }
  }

  checkDeployTarget(problems, settings);
  const tls = validateTls(
    problems,
    {
      tlsMode,
      tlsCertificate,
      tlsPrivateKey,
      tlsPrivateKeyIsSecret,
      acmeDomains,
      acmeEmail,
      acmeDirectoryUrl,
      acmeCaRoot,
      acmeCheckInterval,
      httpsPort,
    },
    { proxyPort: settings.proxyPort, deployTarget: settings.deployTarget },
  );

  if (problems.length > 0) throw new SettingsError(problems);
  return { ...settings, tls };
}

/** The swarm-only keys, and what single-host mode can't do on a swarm. */
function checkDeployTarget(problems: string[], settings: Omit<Settings, "tls">): void {
  if (!(DEPLOY_TARGETS as readonly string[]).includes(settings.deployTarget)) {
    problems.push(
      `deployTarget must be one of ${DEPLOY_TARGETS.join(", ")} (got ${show(settings.deployTarget)})`,
    );
    return;
  }
  const swarmOnly = { registry: settings.registry, proxyNodeLabel: settings.proxyNodeLabel };
  if (settings.deployTarget !== "swarm") {
    for (const [key, value] of Object.entries(swarmOnly)) {
      if (value !== undefined) {
        problems.push(`${key} is only used with deployTarget swarm (got ${show(value)})`);
      }
    }
    return;
  }
  // Stryker disable next-line ConditionalExpression: RegExp test() reads undefined as "undefined", a valid registry host name
  if (settings.registry !== undefined && !REGISTRY.test(settings.registry)) {
    problems.push(
      `registry must be a registry host with an optional port, such as 127.0.0.1:5000 (got ${show(settings.registry)})`,
    );
  }
  if (settings.proxyNodeLabel !== undefined && !NODE_LABEL.test(settings.proxyNodeLabel)) {
    problems.push(
      `proxyNodeLabel must be a node label as key=value, such as http-infra.proxy=true (got ${show(settings.proxyNodeLabel)})`,
    );
  }
  // Swarm's port configs have no host address: a host-mode port listens on every interface of
  // the node (moby api/types/swarm PortConfig). Accepting another address would be a silent lie.
  if (settings.proxyBindAddress !== defaultSettings.proxyBindAddress) {
    problems.push(
      `proxyBindAddress can't be set with deployTarget swarm (got ${show(settings.proxyBindAddress)}): ` +
        `a swarm publishes the proxy's port on every interface of each node; firewall the nodes instead`,
    );
  }
}
