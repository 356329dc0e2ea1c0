// The program with HTTPS on (tlsMode given, tlsMode acme), under the mock runtime: what the proxy
// container gets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStack } from "../support/harness/memoryProvider";
import type * as docker from "@pulumi/docker";
import { inputsOf, isWireSecret, runProgram, type ProgramRun } from "../support/pulumiProgram";
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

  const holder = () => run.resources.find((r) => r.type === CONTAINER && r.name === "tls-files")!;

  it("uploads the chain and the key as files into a container that only holds them, the key only as a secret; both read-only, readable by Apache's user", () => {
    expect(proxy().inputs.uploads, "the proxy's root is read-only: no upload").toBeUndefined();
    // The SDK marks the whole list secret once one element holds a secret.
    const wire = holder().wireInputs.uploads as unknown;
    const listIsSecret = isWireSecret(wire);
    const uploads = (listIsSecret ? wire.value : wire) as Record<string, unknown>[];
    const byFile = new Map(uploads.map((upload) => [upload.file, upload]));
    expect(byFile.get("/etc/apache2/tls/certificate.pem")).toMatchObject({
      content: issued.chain,
      permissions: "0444",
    });
    const key = byFile.get("/etc/apache2/tls/private-key.pem")!;
    expect(listIsSecret || isWireSecret(key.content), "the key's content is a Pulumi secret").toBe(
      true,
    );
    // The upload makes the file root's; Apache runs as www-data and reads it as "other".
    expect(key.permissions).toBe("0444");
  });

  it("the holder writes the files into the stack's volume and never starts; the proxy mounts that volume read-only, after the upload", () => {
    const volume = run.resources.find((r) => r.type === VOLUME && r.name === "tls-files");
    expect(volume?.inputs.name).toBe("http-infra-tls-tls");
    expect(holder().inputs).toMatchObject({
      name: "http-infra-tls-tls-files",
      image: inputsOf<docker.ContainerArgs>(proxy()).image,
      start: false,
      mustRun: false,
      volumes: [{ volumeName: "http-infra-tls-tls", containerPath: "/etc/apache2/tls" }],
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
    });
    expect(holder().inputs.labels).toContainEqual({ label: "http-infra.role", value: "tls-files" });
    expect(proxy().inputs.readOnly).toBe(true);
    expect(proxy().inputs.volumes).toEqual([
      { volumeName: "http-infra-tls-tls", containerPath: "/etc/apache2/tls", readOnly: true },
    ]);
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
      // The private CA's root, uploaded through the holder (as with tlsMode given).
      { volumeName: "http-infra-tls-acme-tls", containerPath: "/etc/apache2/tls", readOnly: true },
      { volumeName: "http-infra-tls-acme-acme", containerPath: "/var/lib/apache2/md" },
    ]);
  });

  it("uploads the private CA's root and names the ACME settings in the environment", () => {
    const holder = run.resources.find((r) => r.type === CONTAINER && r.name === "tls-files")!;
    expect(holder.inputs.uploads).toEqual([
      { file: "/etc/apache2/tls/acme-ca-root.pem", content: ca.root, permissions: "0444" },
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

describe("tlsMode acme without a private CA", () => {
  it("mounts the store only: there is nothing to upload, so no holder", async () => {
    const run = await runProgram({
      stack: "tls-acme-public",
      config: {
        tlsMode: "acme",
        acmeDomains: "www.example.test",
        acmeEmail: "ops@example.test",
      },
      newResource: unitMocks().newResource,
    });
    const proxy = run.resources.find((r) => r.type === CONTAINER && r.name === "proxy")!;
    expect(run.resources.filter((r) => r.name === "tls-files")).toEqual([]);
    expect(proxy.inputs.volumes).toEqual([
      { volumeName: "http-infra-tls-acme-public-acme", containerPath: "/var/lib/apache2/md" },
    ]);
  });
});

describe("tlsMode given across runs (the harness's engine and provider model)", () => {
  const given = (chain: string, privateKey: string, serverName = "www.example.test") => ({
    config: { tlsMode: "given", tlsCertificate: chain, serverName },
    secrets: { tlsPrivateKey: privateKey },
  });

  it("a new certificate replaces the holder, then the proxy that mounts its files; the volume stays; anything else leaves the holder", async () => {
    const stack = new MemoryStack("tls-runs");
    const first = await stack.up(given(issued.chain, issued.privateKey));
    expect(first.plan.create).toEqual(expect.arrayContaining(["tls-files", "proxy"]));
    expect((await stack.up(given(issued.chain, issued.privateKey))).plan.same).toEqual(
      first.plan.create,
    );
    const renewed = ca.issue({ names: ["www.example.test"] });
    const { plan } = await stack.up(given(renewed.chain, renewed.privateKey));
    expect(plan.replace.sort()).toEqual(["proxy", "tls-files"]);
    // The holder's Volume and Container share the name "tls-files": the Volume is the same.
    expect(stack.engine.resources.filter((r) => r.name === "tls-files")).toHaveLength(2);
    expect(plan.create).toEqual([]);
    const renamed = await stack.up(given(renewed.chain, renewed.privateKey, "shop.example.test"));
    expect(renamed.plan.replace).toEqual(["proxy"]);
  });
});
