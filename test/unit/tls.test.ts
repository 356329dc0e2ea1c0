// The HTTPS config rules of src/tls.ts, through validateSettings as `up` runs them: each bad input
// stops before any resource, with a message naming the key. Certificates come from a throw-away CA
// (test/support/testCa.ts).
import { afterAll, describe, expect, it } from "vitest";
import { SettingsError, validateSettings, type RawSettings } from "../../src/settings";
import { LETS_ENCRYPT_DIRECTORY, tlsEnvironment } from "../../src/tls";
import { createTestCa } from "../support/testCa";

const ca = createTestCa();
afterAll(() => ca.dispose());
const good = ca.issue({ names: ["demo.res.ch", "127.0.0.1"] });
const given = (extra: Partial<RawSettings> = {}): RawSettings => ({
  tlsMode: "given",
  tlsCertificate: good.chain,
  tlsPrivateKey: good.privateKey,
  tlsPrivateKeyIsSecret: true,
  ...extra,
});
const acme = (extra: Partial<RawSettings> = {}): RawSettings => ({
  tlsMode: "acme",
  acmeDomains: "www.example.org",
  acmeEmail: "ops@example.org",
  ...extra,
});

function problemsOf(raw: RawSettings): string[] {
  try {
    validateSettings(raw);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error(`expected a SettingsError for ${JSON.stringify(Object.keys(raw))}`);
}

describe("tlsMode", () => {
  it("is off by default: no HTTPS, no TLS environment", () => {
    const settings = validateSettings({});
    expect(settings.tls).toEqual({ mode: "off" });
    expect(tlsEnvironment(settings.tls)).toEqual([]);
  });

  it("refuses an unknown mode, naming the key", () => {
    expect(problemsOf({ tlsMode: "on" })).toEqual([
      'tlsMode must be one of off, given, acme (got "on")',
    ]);
  });

  it("refuses keys of another mode instead of ignoring them", () => {
    expect(problemsOf({ tlsCertificate: good.chain })).toEqual([
      "tlsCertificate is only used with tlsMode given (tlsMode is off)",
    ]);
    expect(problemsOf(given({ acmeDomains: "www.example.org" }))).toEqual([
      "acmeDomains is only used with tlsMode acme (tlsMode is given)",
    ]);
    expect(problemsOf({ httpsPort: 443 })).toEqual([
      "httpsPort is only used with tlsMode given or acme (tlsMode is off)",
    ]);
  });
});

describe("tlsMode given", () => {
  it("accepts a chain and its matching key, secret", () => {
    const settings = validateSettings(given());
    expect(settings.tls).toEqual({
      mode: "given",
      httpsPort: 8443,
      certificate: good.chain,
      privateKey: good.privateKey,
    });
  });

  it("the proxy's environment names the files, never the key", () => {
    const env = tlsEnvironment(validateSettings(given({ httpsPort: 443 })).tls);
    expect(env).toEqual([
      "TLS_MODE=given",
      "TLS_PUBLIC_PORT=443",
      "TLS_CERTIFICATE_FILE=/etc/apache2/tls/certificate.pem",
      "TLS_PRIVATE_KEY_FILE=/etc/apache2/tls/private-key.pem",
    ]);
    expect(env.join("\n")).not.toContain("PRIVATE KEY-----");
  });

  it("refuses a certificate without its key", () => {
    expect(problemsOf(given({ tlsPrivateKey: undefined }))).toEqual([
      "tlsPrivateKey must be set with tlsMode given: `pulumi config set --secret tlsPrivateKey < key.pem`",
    ]);
  });

  it("refuses a key without its certificate", () => {
    expect(problemsOf(given({ tlsCertificate: "" }))).toEqual([
      "tlsCertificate must be set with tlsMode given: the PEM chain, leaf first",
    ]);
  });

  it("refuses a key that does not match the certificate", () => {
    expect(problemsOf(given({ tlsPrivateKey: ca.strayKey() }))).toEqual([
      "tlsPrivateKey does not match tlsCertificate (the first certificate's key)",
    ]);
  });

  it("refuses an expired certificate, saying when it expired", () => {
    const expired = ca.issue({
      names: ["demo.res.ch"],
      notBefore: new Date("2024-01-01T00:00:00Z"),
      notAfter: new Date("2024-04-01T00:00:00Z"),
    });
    expect(
      problemsOf(given({ tlsCertificate: expired.chain, tlsPrivateKey: expired.privateKey })),
    ).toEqual(["tlsCertificate: the certificate (CN=demo.res.ch) expired on 2024-04-01"]);
  });

  it("refuses a certificate not valid yet", () => {
    const future = ca.issue({
      names: ["demo.res.ch"],
      notBefore: new Date(Date.now() + 10 * 86_400_000),
      notAfter: new Date(Date.now() + 100 * 86_400_000),
    });
    const problems = problemsOf(
      given({ tlsCertificate: future.chain, tlsPrivateKey: future.privateKey }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^tlsCertificate: the certificate is not valid before \d{4}-/);
  });

  it("refuses a chain in the wrong order", () => {
    expect(problemsOf(given({ tlsCertificate: ca.intermediate + good.leaf }))).toEqual([
      "tlsCertificate must list the chain leaf first, each certificate followed by its issuer (certificate 2 did not issue certificate 1)",
      "tlsCertificate must start with the server's certificate, not a CA certificate",
      "tlsPrivateKey does not match tlsCertificate (the first certificate's key)",
    ]);
  });

  it("refuses a key stored in plain text in the stack's config", () => {
    expect(problemsOf(given({ tlsPrivateKeyIsSecret: false }))).toEqual([
      "tlsPrivateKey is stored in plain text in the stack's config; set it again with `pulumi config set --secret tlsPrivateKey < key.pem`",
    ]);
  });

  it("refuses what is not PEM, and never echoes the key", () => {
    const problems = problemsOf(
      given({ tlsCertificate: "not a certificate", tlsPrivateKey: "secret-looking text" }),
    );
    expect(problems).toEqual([
      'tlsCertificate must be PEM, one or more "-----BEGIN CERTIFICATE-----" blocks',
      "tlsPrivateKey must be an unencrypted PEM private key (PKCS#8, RSA or EC); decrypt it first, e.g. `openssl pkey -in key.pem`",
    ]);
    expect(problems.join("\n")).not.toContain("secret-looking");
  });

  it("refuses an RSA key under 2048 bits", () => {
    const weak = ca.issue({ names: ["demo.res.ch"], keyType: "rsa1024" });
    expect(
      problemsOf(given({ tlsCertificate: weak.chain, tlsPrivateKey: weak.privateKey })),
    ).toEqual(["tlsPrivateKey: an RSA key must have at least 2048 bits (got 1024)"]);
  });

  it("refuses httpsPort equal to proxyPort, or out of range", () => {
    expect(problemsOf(given({ httpsPort: 8080 }))).toEqual([
      "httpsPort must differ from proxyPort (both 8080): plain HTTP stays on proxyPort to redirect to HTTPS",
    ]);
    expect(problemsOf(given({ httpsPort: 70000 }))).toEqual([
      "httpsPort must be an integer from 1 to 65535 (got 70000)",
    ]);
  });

  it("is accepted on a swarm, each file under Swarm's 512000-byte secret limit", () => {
    const swarm = { deployTarget: "swarm", registry: "127.0.0.1:5000" };
    // Text around the PEM blocks is allowed (OpenSSL skips it): it pads a file to a size.
    const padded = (pem: string, bytes: number) =>
      `${pem}\n${"#".repeat(bytes - Buffer.byteLength(pem) - 2)}\n`;
    expect(validateSettings(given(swarm)).tls.mode).toBe("given");
    expect(
      validateSettings(given({ ...swarm, tlsCertificate: padded(good.chain, 511_999) })).tls.mode,
    ).toBe("given");
    expect(problemsOf(given({ ...swarm, tlsCertificate: padded(good.chain, 512_000) }))).toEqual([
      "tlsCertificate must be under 512000 bytes with deployTarget swarm (got 512000): Swarm refuses a larger secret",
    ]);
    expect(
      problemsOf(given({ ...swarm, tlsPrivateKey: padded(good.privateKey, 600_000) })),
    ).toEqual([
      "tlsPrivateKey must be under 512000 bytes with deployTarget swarm (got 600000): Swarm refuses a larger secret",
    ]);
    // One engine takes the files as uploads, with no such limit.
    expect(validateSettings(given({ tlsCertificate: padded(good.chain, 600_000) })).tls.mode).toBe(
      "given",
    );
  });
});

describe("tlsMode acme", () => {
  it("accepts domains and an email; Let's Encrypt production by default", () => {
    expect(validateSettings(acme({ acmeDomains: "Example.org, www.example.org" })).tls).toEqual({
      mode: "acme",
      httpsPort: 8443,
      domains: ["example.org", "www.example.org"],
      email: "ops@example.org",
      directoryUrl: LETS_ENCRYPT_DIRECTORY,
      caRoot: undefined,
      checkIntervalSeconds: 43_200,
    });
  });

  it("refuses ACME without a domain", () => {
    expect(problemsOf(acme({ acmeDomains: "" }))).toEqual([
      "acmeDomains must name at least one domain with tlsMode acme (comma-separated, e.g. www.example.org)",
    ]);
  });

  it("refuses a domain that is not a DNS name", () => {
    expect(
      problemsOf(acme({ acmeDomains: "www.example.org,192.0.2.1,bad_name.org,localhost" })),
    ).toEqual([
      'acmeDomains: "192.0.2.1" is not a DNS name such as www.example.org',
      'acmeDomains: "bad_name.org" is not a DNS name such as www.example.org',
      'acmeDomains: "localhost" is not a DNS name such as www.example.org',
    ]);
  });

  it("refuses a wildcard, which http-01 can't validate", () => {
    expect(problemsOf(acme({ acmeDomains: "*.example.org" }))).toEqual([
      'acmeDomains: "*.example.org" is a wildcard; http-01 can\'t validate one (it needs dns-01)',
    ]);
  });

  it("needs a contact email", () => {
    expect(problemsOf(acme({ acmeEmail: "" }))).toEqual([
      "acmeEmail must be set with tlsMode acme: the CA's contact for this account",
    ]);
    expect(problemsOf(acme({ acmeEmail: "ops" }))).toEqual([
      'acmeEmail must be an email address (got "ops")',
    ]);
  });

  it("needs an https directory URL", () => {
    expect(problemsOf(acme({ acmeDirectoryUrl: "http://pebble:14000/dir" }))).toEqual([
      'acmeDirectoryUrl must be an https:// URL such as https://acme-v02.api.letsencrypt.org/directory (got "http://pebble:14000/dir")',
    ]);
  });

  it("refuses an acmeCaRoot that is not PEM", () => {
    expect(problemsOf(acme({ acmeCaRoot: "root" }))).toEqual([
      'acmeCaRoot must be PEM, one or more "-----BEGIN CERTIFICATE-----" blocks',
    ]);
  });

  it("checks for renewal every acmeCheckInterval seconds, 1 to a day", () => {
    expect(tlsEnvironment(validateSettings(acme({ acmeCheckInterval: 5 })).tls)).toContain(
      "ACME_CHECK_INTERVAL=5",
    );
    for (const bad of [0, 1.5, 86_401]) {
      expect(problemsOf(acme({ acmeCheckInterval: bad }))).toEqual([
        `acmeCheckInterval must be an integer number of seconds from 1 to 86400 (got ${bad})`,
      ]);
    }
    expect(problemsOf({ acmeCheckInterval: 5 })).toEqual([
      "acmeCheckInterval is only used with tlsMode acme (tlsMode is off)",
    ]);
  });

  it("passes a private CA's root as a file, named in the environment", () => {
    const tls = validateSettings(
      acme({ acmeCaRoot: ca.root, acmeDirectoryUrl: "https://pebble.test:14000/dir" }),
    ).tls;
    expect(tlsEnvironment(tls)).toEqual([
      "TLS_MODE=acme",
      "TLS_PUBLIC_PORT=8443",
      "ACME_DOMAINS=www.example.org",
      "ACME_EMAIL=ops@example.org",
      "ACME_DIRECTORY_URL=https://pebble.test:14000/dir",
      "ACME_CHECK_INTERVAL=43200",
      "ACME_CA_ROOT_FILE=/etc/apache2/tls/acme-ca-root.pem",
    ]);
  });

  it("is refused on a swarm, naming the key and saying why", () => {
    const [problem, ...others] = problemsOf(acme({ deployTarget: "swarm" }));
    expect(others).toEqual([]);
    expect(problem).toMatch(/^tlsMode acme can't be used with deployTarget swarm: /);
    // Why: one certificate on every node; mod_md per task orders one each, into rate limits; the
    // http-01 request reaches any node. And what to do instead.
    expect(problem).toContain("every node must serve one certificate");
    expect(problem).toContain("each node would order its own");
    expect(problem).toContain("rate limits");
    expect(problem).toContain("http-01 request reaches whichever node");
    expect(problem).toContain("deploy it with tlsMode given");
  });
});
