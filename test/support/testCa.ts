// A throw-away certificate authority for the HTTPS tests, made with the openssl CLI (node:crypto
// parses certificates but can't sign them): a root, an intermediate, and server certificates
// signed by the intermediate, with any dates, so tests can give the proxy a verified chain, an
// expired one, or a key that doesn't match.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IssuedCertificate {
  /** The server's certificate followed by the intermediate: what a server sends. */
  chain: string;
  /** The server certificate alone. */
  leaf: string;
  privateKey: string;
}

export interface TestCa {
  /** The root certificate, what a client trusts. */
  root: string;
  intermediate: string;
  /** A server certificate for `names` (DNS names or IP addresses), valid between the dates. */
  issue(options: {
    names: string[];
    notBefore?: Date;
    notAfter?: Date;
    keyType?: "ec" | "rsa2048" | "rsa1024";
    /** An OCSP responder the certificate names (Authority Information Access); none by default. */
    ocspUrl?: string;
  }): IssuedCertificate;
  /** A fresh private key that matches no certificate. */
  strayKey(): string;
  dispose(): void;
}

// openssl ca's date format: YYYYMMDDHHMMSSZ.
const opensslDate = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:T]/g, "")
    .replace(/\.\d{3}Z$/, "Z");

const KEY_ARGS = {
  ec: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
  rsa2048: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
  rsa1024: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
};

export function createTestCa(name = "http-infra test CA"): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "http-infra-ca-"));
  const path = (file: string) => join(dir, file);
  const openssl = (...args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
  let serial = 1;
  const newKey = (file: string, type: keyof typeof KEY_ARGS = "ec") =>
    openssl("genpkey", ...KEY_ARGS[type], "-out", path(file));

  // `openssl ca` is the one openssl command that takes explicit start and end dates.
  writeFileSync(path("index.txt"), "");
  writeFileSync(
    path("ca.cnf"),
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      `database = ${path("index.txt")}`,
      `new_certs_dir = ${dir}`,
      `serial = ${path("serial")}`,
      "default_md = sha256",
      "policy = anything",
      "unique_subject = no",
      "copy_extensions = copy",
      "[anything]",
      "commonName = supplied",
      "[intermediate]",
      "basicConstraints = critical, CA:true, pathlen:0",
      "keyUsage = critical, keyCertSign, cRLSign",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "[server]",
      "basicConstraints = critical, CA:false",
      "keyUsage = critical, digitalSignature, keyEncipherment",
      "extendedKeyUsage = serverAuth",
      // Like a public CA's certificates, these name where revocation is published (a CRL; never
      // fetched here): testssl.sh rates a certificate without one HIGH.
      "crlDistributionPoints = URI:http://crl.http-infra.invalid/intermediate.crl",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "",
    ].join("\n"),
  );
  const sign = (
    csr: string,
    out: string,
    issuer: "root" | "intermediate",
    extensions: string,
    notBefore: Date,
    notAfter: Date,
  ) => {
    writeFileSync(path("serial"), `${(serial++).toString(16).padStart(4, "0")}\n`);
    openssl(
      "ca",
      "-batch",
      "-notext",
      "-config",
      path("ca.cnf"),
      "-cert",
      path(`${issuer}.pem`),
      "-keyfile",
      path(`${issuer}.key`),
      "-in",
      path(csr),
      "-out",
      path(out),
      "-extensions",
      extensions,
      "-startdate",
      opensslDate(notBefore),
      "-enddate",
      opensslDate(notAfter),
    );
  };
  const yearsFromNow = (years: number) => new Date(Date.now() + years * 365 * 86_400_000);

  newKey("root.key");
  openssl(
    "req",
    "-x509",
    "-new",
    "-key",
    path("root.key"),
    "-subj",
    `/CN=${name} root`,
    "-days",
    "3650",
    "-addext",
    "basicConstraints=critical,CA:true",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    path("root.pem"),
  );
  newKey("intermediate.key");
  openssl(
    "req",
    "-new",
    "-key",
    path("intermediate.key"),
    "-subj",
    `/CN=${name} intermediate`,
    "-out",
    path("intermediate.csr"),
  );
  sign("intermediate.csr", "intermediate.pem", "root", "intermediate", new Date(), yearsFromNow(5));
  const read = (file: string) => readFileSync(path(file), "utf8");
  // `openssl ca` writes the PEM after nothing else with -notext; keep only the PEM block anyway.
  const pem = (file: string) => read(file).slice(read(file).indexOf("-----BEGIN CERTIFICATE-----"));

  let issued = 0;
  return {
    root: pem("root.pem"),
    intermediate: pem("intermediate.pem"),
    issue({ names, notBefore, notAfter, keyType = "ec", ocspUrl }) {
      const id = `server-${++issued}`;
      newKey(`${id}.key`, keyType);
      const san = names
        .map((entry) => (/^[0-9.]+$|:/.test(entry) ? `IP:${entry}` : `DNS:${entry}`))
        .join(",");
      openssl(
        "req",
        "-new",
        "-key",
        path(`${id}.key`),
        "-subj",
        `/CN=${names[0]}`,
        "-addext",
        `subjectAltName=${san}`,
        // copied into the certificate with the CSR's other extensions (copy_extensions)
        ...(ocspUrl ? ["-addext", `authorityInfoAccess=OCSP;URI:${ocspUrl}`] : []),
        "-out",
        path(`${id}.csr`),
      );
      sign(
        `${id}.csr`,
        `${id}.pem`,
        "intermediate",
        "server",
        notBefore ?? new Date(Date.now() - 3_600_000),
        notAfter ?? new Date(Date.now() + 90 * 86_400_000),
      );
      const leaf = pem(`${id}.pem`);
      return { leaf, chain: leaf + pem("intermediate.pem"), privateKey: read(`${id}.key`) };
    },
    strayKey() {
      newKey("stray.key");
      return read("stray.key");
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
