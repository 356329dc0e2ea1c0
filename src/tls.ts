// HTTPS settings: the config keys of the two ways to get a certificate (given by the user, or from
// an ACME CA through Apache's mod_md) and their rules. Pure functions, like src/settings.ts, which
// calls validateTls before any resource is declared: bad input stops `up` naming the key.
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";

export const TLS_MODES = ["off", "given", "acme"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** The TLS keys as read from Pulumi config; undefined means "use the default". */
export interface RawTlsSettings {
  tlsMode?: string;
  tlsCertificate?: string;
  tlsPrivateKey?: string;
  /** False when the stack holds the private key in plain text (set without `--secret`). */
  tlsPrivateKeyIsSecret?: boolean;
  acmeDomains?: string;
  acmeEmail?: string;
  acmeDirectoryUrl?: string;
  acmeCaRoot?: string;
  acmeCheckInterval?: number;
  httpsPort?: number;
}

export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** The defaults, mirrored by Pulumi.yaml's `config:` (test/unit/pulumi-yaml.test.ts). */
export const tlsDefaults = {
  tlsMode: "off",
  tlsCertificate: "",
  acmeDomains: "",
  acmeEmail: "",
  acmeDirectoryUrl: LETS_ENCRYPT_DIRECTORY,
  acmeCaRoot: "",
  // mod_md's own default MDCheckInterval: 12 hours.
  acmeCheckInterval: 43_200,
  httpsPort: 8443,
} as const satisfies Required<Omit<RawTlsSettings, "tlsPrivateKey" | "tlsPrivateKeyIsSecret">>;

export type TlsSettings =
  | { mode: "off" }
  | {
      mode: "given";
      httpsPort: number;
      /** The PEM chain, leaf first, as the user gave it. */
      certificate: string;
      /** The PEM private key: wrap it in pulumi.secret before it leaves the program. */
      privateKey: string;
    }
  | {
      mode: "acme";
      httpsPort: number;
      domains: string[];
      email: string;
      directoryUrl: string;
      /** PEM certificate(s) the proxy trusts for the ACME server's HTTPS; undefined: the system's. */
      caRoot: string | undefined;
      /** Seconds between mod_md's renewal checks (MDCheckInterval). */
      checkIntervalSeconds: number;
    };

/** The port Apache's TLS vhost listens on inside the proxy's container (unprivileged). */
export const PROXY_HTTPS_PORT = 8443;

/** The directory of the proxy's certificate files (docker-images/apache-reverse-proxy makes it). */
export const TLS_FILES_DIR = "/etc/apache2/tls";

/** Where the single-host proxy finds its certificate files (the holder's volume; a swarm's: SWARM_TLS_FILES). */
export const TLS_FILES = {
  certificate: `${TLS_FILES_DIR}/certificate.pem`,
  privateKey: `${TLS_FILES_DIR}/private-key.pem`,
  acmeCaRoot: `${TLS_FILES_DIR}/acme-ca-root.pem`,
} as const;

/** RSA keys shorter than this cap an SSL Labs / testssl.sh rating and are refused by CAs. */
export const MIN_RSA_BITS = 2048;
/** Let's Encrypt's limit of names on one certificate. */
export const MAX_ACME_DOMAINS = 100;
/**
 * Swarm refuses a secret of this many bytes or more (moby/swarmkit api/validation/secrets.go
 * MaxSecretSize, checked by ValidateSecretPayload: "secret data must be larger than 0 and less
 * than 512000 bytes"). On a swarm the certificate and the key are each one secret.
 */
export const MAX_SWARM_SECRET_BYTES = 500 * 1024;
/** mod_md refuses an MDCheckInterval below one second; more than a day risks a missed renewal. */
export const MAX_ACME_CHECK_INTERVAL = 86_400;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
// A DNS name for a public certificate: at least two labels, a last label that is not numeric (an
// IP address is no domain), no wildcard (http-01 can't validate one: RFC 8555 section 7.1.3).
const DNS_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const EMAIL = /^[^\s@<>,;:"]+@[^\s@<>,;:"]+\.[^\s@<>,;:"]+$/;

const show = (value: unknown) =>
  typeof value === "number" ? String(value) : JSON.stringify(value);
const day = (date: Date) => date.toISOString().slice(0, 10);

/** Every certificate of a PEM bundle, in order; a block that does not parse is a problem. */
function parseCertificates(
  problems: string[],
  key: string,
  pem: string,
): X509Certificate[] | undefined {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    problems.push(`${key} must be PEM, one or more "-----BEGIN CERTIFICATE-----" blocks`);
    return undefined;
  }
  const certificates: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      certificates.push(new X509Certificate(block));
    } catch (error) {
      problems.push(
        `${key}: certificate ${index + 1} does not parse (${(error as Error).message})`,
      );
      return undefined;
    }
  }
  return certificates;
}

/** The given certificate chain and its key: parsed, matched, in date, leaf first. */
function checkGivenCertificate(
  problems: string[],
  certificatePem: string,
  privateKeyPem: string,
  now: Date,
): void {
  const chain = parseCertificates(problems, "tlsCertificate", certificatePem);
  let key: KeyObject | undefined;
  // The key's content is never echoed back, only what is wrong with it.
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    problems.push(
      "tlsPrivateKey must be an unencrypted PEM private key (PKCS#8, RSA or EC); " +
        "decrypt it first, e.g. `openssl pkey -in key.pem`",
    );
  }
  if (!chain) return;
  const leaf = chain[0];
  for (const [index, certificate] of chain.entries()) {
    const which = index === 0 ? "the certificate" : `chain certificate ${index + 1}`;
    if (new Date(certificate.validTo) < now) {
      problems.push(
        `tlsCertificate: ${which} (${certificate.subject.replace(/\n/g, ", ")}) expired on ${day(new Date(certificate.validTo))}`,
      );
    } else if (new Date(certificate.validFrom) > now) {
      problems.push(
        `tlsCertificate: ${which} is not valid before ${day(new Date(certificate.validFrom))}`,
      );
    }
    // Servers send the chain leaf first, each certificate followed by its issuer (RFC 8446
    // section 4.4.2); a client may not reorder it.
    const issuer = chain[index + 1];
    if (issuer && !certificate.checkIssued(issuer)) {
      problems.push(
        `tlsCertificate must list the chain leaf first, each certificate followed by its issuer ` +
          `(certificate ${index + 2} did not issue certificate ${index + 1})`,
      );
    }
  }
  if (leaf.ca) {
    problems.push("tlsCertificate must start with the server's certificate, not a CA certificate");
  }
  if (key) {
    if (key.type !== "private") {
      problems.push("tlsPrivateKey must be a private key");
    } else if (!leaf.checkPrivateKey(key)) {
      problems.push("tlsPrivateKey does not match tlsCertificate (the first certificate's key)");
    }
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.asymmetricKeyType === "rsa" && bits !== undefined && bits < MIN_RSA_BITS) {
      problems.push(
        `tlsPrivateKey: an RSA key must have at least ${MIN_RSA_BITS} bits (got ${bits})`,
      );
    }
  }
}

/** The ACME keys: domains, contact, directory, the CA to trust. */
function checkAcme(problems: string[], raw: RawTlsSettings, domains: string[]): void {
  if (domains.length === 0) {
    problems.push(
      "acmeDomains must name at least one domain with tlsMode acme (comma-separated, e.g. www.example.org)",
    );
  }
  if (domains.length > MAX_ACME_DOMAINS) {
    problems.push(
      `acmeDomains must name at most ${MAX_ACME_DOMAINS} domains (got ${domains.length})`,
    );
  }
  for (const domain of domains) {
    if (domain.startsWith("*.")) {
      problems.push(
        `acmeDomains: ${show(domain)} is a wildcard; http-01 can't validate one (it needs dns-01)`,
      );
    } else if (!DNS_NAME.test(domain)) {
      problems.push(`acmeDomains: ${show(domain)} is not a DNS name such as www.example.org`);
    }
  }
  const duplicates = domains.filter((domain, index) => domains.indexOf(domain) !== index);
  if (duplicates.length > 0) {
    problems.push(`acmeDomains lists ${show(duplicates[0])} twice`);
  }
  const email = raw.acmeEmail ?? "";
  if (email === "") {
    problems.push("acmeEmail must be set with tlsMode acme: the CA's contact for this account");
  } else if (!EMAIL.test(email)) {
    problems.push(`acmeEmail must be an email address (got ${show(email)})`);
  }
  const directory = raw.acmeDirectoryUrl ?? tlsDefaults.acmeDirectoryUrl;
  let url: URL | undefined;
  try {
    url = new URL(directory);
  } catch {
    url = undefined;
  }
  // RFC 8555 section 6.1: ACME runs over HTTPS only.
  if (!url || url.protocol !== "https:" || url.username || url.password) {
    problems.push(
      `acmeDirectoryUrl must be an https:// URL such as ${LETS_ENCRYPT_DIRECTORY} (got ${show(directory)})`,
    );
  }
  if (raw.acmeCaRoot) {
    parseCertificates(problems, "acmeCaRoot", raw.acmeCaRoot);
  }
  const interval = raw.acmeCheckInterval ?? tlsDefaults.acmeCheckInterval;
  if (!Number.isInteger(interval) || interval < 1 || interval > MAX_ACME_CHECK_INTERVAL) {
    problems.push(
      `acmeCheckInterval must be an integer number of seconds from 1 to ${MAX_ACME_CHECK_INTERVAL} (got ${show(interval)})`,
    );
  }
}

/** The keys of one mode that another mode leaves unused: set, they would be silently ignored. */
const MODE_KEYS = {
  given: ["tlsCertificate", "tlsPrivateKey"],
  acme: ["acmeDomains", "acmeEmail", "acmeCaRoot"],
} as const;

/**
 * Applies the TLS defaults and rules; pushes a problem naming the key for each broken one.
 * `proxyPort` is the plain HTTP port (it must differ); `deployTarget` adds a swarm's limits (its
 * secrets' size) and refuses what a swarm can't do (ACME).
 */
export function validateTls(
  problems: string[],
  raw: RawTlsSettings,
  context: { proxyPort: number; deployTarget: string; now?: Date },
): TlsSettings {
  const mode = (raw.tlsMode ?? tlsDefaults.tlsMode) as TlsMode;
  const httpsPort = raw.httpsPort ?? tlsDefaults.httpsPort;
  if (!(TLS_MODES as readonly string[]).includes(mode)) {
    problems.push(`tlsMode must be one of ${TLS_MODES.join(", ")} (got ${show(mode)})`);
    return { mode: "off" };
  }
  for (const [keysMode, keys] of Object.entries(MODE_KEYS)) {
    if (keysMode === mode) continue;
    for (const key of keys) {
      if (raw[key])
        problems.push(`${key} is only used with tlsMode ${keysMode} (tlsMode is ${mode})`);
    }
  }
  if (
    raw.acmeDirectoryUrl &&
    raw.acmeDirectoryUrl !== tlsDefaults.acmeDirectoryUrl &&
    mode !== "acme"
  ) {
    problems.push(`acmeDirectoryUrl is only used with tlsMode acme (tlsMode is ${mode})`);
  }
  if (
    raw.acmeCheckInterval !== undefined &&
    raw.acmeCheckInterval !== tlsDefaults.acmeCheckInterval &&
    mode !== "acme"
  ) {
    problems.push(`acmeCheckInterval is only used with tlsMode acme (tlsMode is ${mode})`);
  }
  if (mode === "off") {
    if (raw.httpsPort !== undefined && raw.httpsPort !== tlsDefaults.httpsPort) {
      problems.push(`httpsPort is only used with tlsMode given or acme (tlsMode is off)`);
    }
    return { mode: "off" };
  }

  if (!Number.isInteger(httpsPort) || httpsPort < 1 || httpsPort > 65535) {
    problems.push(`httpsPort must be an integer from 1 to 65535 (got ${show(httpsPort)})`);
  } else if (httpsPort === context.proxyPort) {
    problems.push(
      `httpsPort must differ from proxyPort (both ${httpsPort}): plain HTTP stays on proxyPort to redirect to HTTPS`,
    );
  }

  if (mode === "given") {
    const certificate = raw.tlsCertificate ?? "";
    const privateKey = raw.tlsPrivateKey ?? "";
    if (certificate === "") {
      problems.push("tlsCertificate must be set with tlsMode given: the PEM chain, leaf first");
    }
    if (privateKey === "") {
      problems.push(
        "tlsPrivateKey must be set with tlsMode given: " +
          "`pulumi config set --secret tlsPrivateKey < key.pem`",
      );
    } else if (raw.tlsPrivateKeyIsSecret === false) {
      // Pulumi.yaml can't require `secret: true` of an optional key (the CLI would then demand a
      // value on every stack): the program enforces it, as for balancerManagerPassword.
      problems.push(
        "tlsPrivateKey is stored in plain text in the stack's config; set it again with " +
          "`pulumi config set --secret tlsPrivateKey < key.pem`",
      );
    }
    if (certificate !== "" && privateKey !== "") {
      checkGivenCertificate(problems, certificate, privateKey, context.now ?? new Date());
    }
    // On a swarm each file is a Docker secret, whose data Swarm caps.
    if (context.deployTarget === "swarm") {
      for (const [key, value] of [
        ["tlsCertificate", certificate],
        ["tlsPrivateKey", privateKey],
      ] as const) {
        const bytes = Buffer.byteLength(value, "utf8");
        if (bytes >= MAX_SWARM_SECRET_BYTES) {
          problems.push(
            `${key} must be under ${MAX_SWARM_SECRET_BYTES} bytes with deployTarget swarm ` +
              `(got ${bytes}): Swarm refuses a larger secret`,
          );
        }
      }
    }
    return { mode, httpsPort, certificate, privateKey };
  }

  const domains = parseDomains(raw.acmeDomains ?? "");
  checkAcme(problems, raw, domains);
  // One issuer for the whole swarm would need a store and a challenge answer shared by every node;
  // mod_md has neither across nodes.
  if (context.deployTarget === "swarm") {
    problems.push(
      "tlsMode acme can't be used with deployTarget swarm: every node must serve one " +
        "certificate, but mod_md runs in each proxy task, so each node would order its own (one " +
        "order per node and per new task, into the CA's rate limits), and the CA's http-01 " +
        "request reaches whichever node the domain resolves to, which does not hold another " +
        "node's challenge token; obtain the certificate outside the swarm (e.g. certbot with " +
        "dns-01) and deploy it with tlsMode given (Docker secrets on every node)",
    );
  }
  return {
    mode,
    httpsPort,
    domains,
    email: raw.acmeEmail ?? "",
    directoryUrl: raw.acmeDirectoryUrl ?? tlsDefaults.acmeDirectoryUrl,
    caRoot: raw.acmeCaRoot || undefined,
    checkIntervalSeconds: raw.acmeCheckInterval ?? tlsDefaults.acmeCheckInterval,
  };
}

/** `acmeDomains` as a list: comma- or space-separated, lower-cased (DNS is case-insensitive). */
export function parseDomains(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((domain) => domain.trim().toLowerCase())
    .filter((domain) => domain !== "");
}

/**
 * The proxy's TLS environment (the vhost template reads it): file paths and public names only,
 * never a key. TLS_PUBLIC_PORT is the host port clients use, for the HTTP → HTTPS redirect.
 */
export function tlsEnvironment(
  tls: TlsSettings,
  files: { certificate: string; privateKey: string } = TLS_FILES,
): string[] {
  switch (tls.mode) {
    case "off":
      return [];
    case "given":
      return [
        "TLS_MODE=given",
        `TLS_PUBLIC_PORT=${tls.httpsPort}`,
        `TLS_CERTIFICATE_FILE=${files.certificate}`,
        `TLS_PRIVATE_KEY_FILE=${files.privateKey}`,
      ];
    case "acme":
      return [
        "TLS_MODE=acme",
        `TLS_PUBLIC_PORT=${tls.httpsPort}`,
        `ACME_DOMAINS=${tls.domains.join(" ")}`,
        `ACME_EMAIL=${tls.email}`,
        `ACME_DIRECTORY_URL=${tls.directoryUrl}`,
        `ACME_CHECK_INTERVAL=${tls.checkIntervalSeconds}`,
        ...(tls.caRoot ? [`ACME_CA_ROOT_FILE=${TLS_FILES.acmeCaRoot}`] : []),
      ];
  }
}
