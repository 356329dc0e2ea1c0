// The program with HTTPS on (tlsMode given), under the mock runtime: what the proxy container gets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProgram, isWireSecret, type ProgramRun } from "../support/pulumiProgram";
import { createTestCa } from "../support/testCa";
import { unitMocks } from "../support/unitMocks";

const CONTAINER = "docker:index/container:Container";
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
      { internal: 80, external: 8080, ip: "127.0.0.1" },
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
