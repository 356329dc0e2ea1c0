// The program with HTTPS on (tlsMode given, tlsMode acme), under the mock runtime: what the proxy
// container gets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProgram, isWireSecret, type ProgramRun } from "../support/pulumiProgram";
import { createTestCa } from "../support/testCa";
import { unitMocks } from "../support/unitMocks";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const ca = createTestCa();
const issued = ca.issue({ names: ["www.example.test"] });
afterAll(() => ca.dispose());

describe("tlsMode given", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({
      stack: "tls",
      config: { tlsMode: "given", tlsCertificate: issued.chain, httpsPort: 9443 },
      secrets: { tlsPrivateKey: issued.privateKey },
      newResource: unitMocks().newResource,
    });
  });
  const proxy = () => run.resources.find((r) => r.type === CONTAINER && r.name === "proxy")!;

  it("publishes HTTPS beside HTTP, on the same address", () => {
    expect(proxy().inputs.ports).toEqual([
      { internal: 8080, external: 8080, ip: "127.0.0.1" },
      { internal: 8443, external: 9443, ip: "127.0.0.1" },
    ]);
  });

  it("uploads the chain and the key as files, the key only as a secret readable by root", () => {
    // The SDK marks the whole list secret once one element holds a secret.
    const wire = proxy().wireInputs.uploads as unknown;
    const listIsSecret = isWireSecret(wire);
    const uploads = (listIsSecret ? wire.value : wire) as Record<string, unknown>[];
    const byFile = new Map(uploads.map((upload) => [upload.file, upload]));
    expect(byFile.get("/etc/apache2/tls/certificate.pem")).toMatchObject({
      content: issued.chain,
      permissions: "0644",
    });
    const key = byFile.get("/etc/apache2/tls/private-key.pem")!;
    expect(listIsSecret || isWireSecret(key.content), "the key's content is a Pulumi secret").toBe(
      true,
    );
    expect(key.permissions).toBe("0600");
  });

  it("names the files in the environment, never the key", () => {
    const envs = proxy().inputs.envs as string[];
    expect(envs).toEqual(
      expect.arrayContaining([
        "TLS_MODE=given",
        "TLS_PUBLIC_PORT=9443",
        "TLS_PRIVATE_KEY_FILE=/etc/apache2/tls/private-key.pem",
      ]),
    );
    expect(envs.join("\n")).not.toContain("PRIVATE KEY");
  });
});

describe("tlsMode acme", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({
      stack: "tls-acme",
      config: {
        tlsMode: "acme",
        acmeDomains: "www.example.test",
        acmeEmail: "ops@example.test",
        acmeDirectoryUrl: "https://pebble.example.test:14000/dir",
        acmeCaRoot: ca.root,
        acmeCheckInterval: 60,
      },
      newResource: unitMocks().newResource,
    });
  });
  const proxy = () => run.resources.find((r) => r.type === CONTAINER && r.name === "proxy")!;

  it("keeps mod_md's store in a named volume of the stack, mounted into the proxy", () => {
    const store = run.resources.find((r) => r.type === VOLUME);
    expect(store?.name).toBe("acme-store");
    expect(store?.inputs.name).toBe("http-infra-tls-acme-acme");
    expect(proxy().inputs.volumes).toEqual([
      { volumeName: "http-infra-tls-acme-acme", containerPath: "/var/lib/apache2/md" },
    ]);
  });

  it("uploads the private CA's root and names the ACME settings in the environment", () => {
    expect(proxy().inputs.uploads).toEqual([
      { file: "/etc/apache2/tls/acme-ca-root.pem", content: ca.root, permissions: "0644" },
    ]);
    expect(proxy().inputs.envs).toEqual(
      expect.arrayContaining([
        "TLS_MODE=acme",
        "ACME_DOMAINS=www.example.test",
        "ACME_DIRECTORY_URL=https://pebble.example.test:14000/dir",
        "ACME_CHECK_INTERVAL=60",
        "ACME_CA_ROOT_FILE=/etc/apache2/tls/acme-ca-root.pem",
      ]),
    );
  });
});
