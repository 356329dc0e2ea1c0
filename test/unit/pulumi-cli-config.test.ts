// The Pulumi CLI's config checks (test/support/pulumiCliConfig.ts, a model of pulumi/pulumi
// pkg/workspace/config.go) applied to this project's Pulumi.yaml and every committed stack file:
// what `pulumi preview` / `pulumi up` would refuse before the program even starts.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  applyProjectConfig,
  CliConfigError,
  readProjectFile,
  readStackFile,
  type ProjectFile,
} from "../support/pulumiCliConfig";
import { runProgram } from "../support/pulumiProgram";
import { unitMocks } from "../support/unitMocks";

// The program asks the engine for its networks; here there is no engine, and no other network.
vi.mock("../../src/engineNetworks", () => ({
  listEngineNetworks: async () => ({ networks: [] }),
}));

const ROOT = join(__dirname, "..", "..");
const project = readProjectFile(join(ROOT, "Pulumi.yaml"));
const stackFiles = readdirSync(ROOT).filter((file) => /^Pulumi\.[^.]+\.yaml$/.test(file));

/** Config for runProgram from the CLI's merged config: plain values and secrets apart. */
function programConfig(merged: Map<string, { text: string; secure: boolean }>) {
  const config: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [fullKey, { text, secure }] of merged) {
    const [namespace, key] = fullKey.split(":");
    if (namespace !== project.name) continue;
    // A committed secret is ciphertext; the program would see the decrypted text.
    if (secure) secrets[key] = "decrypted-secret-of-the-stack";
    else config[key] = text;
  }
  return { config, secrets };
}

describe("the Pulumi CLI's config checks, on this project's files", () => {
  it("a fresh stack with nothing set passes: every declared key is optional", () => {
    expect(() => applyProjectConfig(project, "fresh", {})).not.toThrow();
  });

  it("commits at least the dev stack file", () => {
    expect(stackFiles).toContain("Pulumi.dev.yaml");
  });

  for (const file of stackFiles) {
    it(`${file} passes: declared types, no secret in plain text`, () => {
      const stackName = file.slice("Pulumi.".length, -".yaml".length);
      expect(() =>
        applyProjectConfig(project, stackName, readStackFile(join(ROOT, file))),
      ).not.toThrow();
    });
  }

  it("a fresh stack deploys under the mock runtime with the config the CLI hands it: manager off", async () => {
    const { config, secrets } = programConfig(applyProjectConfig(project, "fresh", {}));
    expect(config.balancerManagerPassword, "the CLI applies the empty default").toBe("");
    const run = await runProgram({
      stack: "fresh",
      config,
      secrets,
      newResource: unitMocks().newResource,
    });
    expect(run.outputs.balancerManagerUrl).toMatch(/^disabled/);
    const proxy = run.resources.find((r) => r.name === "proxy")!;
    expect((proxy.inputs.envs as string[]).join("\n")).not.toContain("BALANCER_MANAGER");
  });

  it("a password set with --secret passes the CLI and enables the manager", async () => {
    const stack = { config: { "http-infra:balancerManagerPassword": { secure: "v1:ciphertext" } } };
    const { config, secrets } = programConfig(applyProjectConfig(project, "dev", stack));
    const run = await runProgram({
      stack: "dev",
      config,
      secrets,
      newResource: unitMocks().newResource,
    });
    expect(run.outputs.balancerManagerUrl).toMatch(/balancer-manager$/);
  });

  it("a password set without --secret passes the CLI but the program refuses it, naming the key", async () => {
    const stack = { config: { "http-infra:balancerManagerPassword": "a-plain-text-password" } };
    const { config } = programConfig(applyProjectConfig(project, "dev", stack));
    await expect(
      runProgram({ stack: "dev", config, newResource: unitMocks().newResource }),
    ).rejects.toThrow(/balancerManagerPassword is stored in plain text[\s\S]*--secret/);
  });
});

describe("the model of the CLI's rules (it must be able to fail)", () => {
  const withConfig = (config: ProjectFile["config"]): ProjectFile => ({ name: "demo", config });

  it("a key with no default that the stack does not set is required (mergeConfig)", () => {
    const demo = withConfig({ password: { type: "string", secret: true } });
    expect(() => applyProjectConfig(demo, "dev", {})).toThrow(
      new CliConfigError("Stack 'dev' is missing configuration value 'password'"),
    );
    expect(() =>
      applyProjectConfig(
        withConfig({ c: { type: "string" }, a: { type: "string" }, b: { type: "string" } }),
        "dev",
        {},
      ),
    ).toThrow("Stack 'dev' is missing configuration values 'a', 'b' and 'c'");
  });

  it("a secret key may not fall back on a plain default (validateStackConfigValue)", () => {
    const demo = withConfig({ password: { type: "string", secret: true, default: "" } });
    expect(() => applyProjectConfig(demo, "dev", {})).toThrow(
      "Stack 'dev' with configuration key 'password' must be encrypted as it's secret",
    );
    expect(() => applyProjectConfig(demo, "dev", { config: { "demo:password": "plain" } })).toThrow(
      "must be encrypted as it's secret",
    );
    expect(() =>
      applyProjectConfig(demo, "dev", { config: { "demo:password": { secure: "v1:x" } } }),
    ).not.toThrow();
  });

  it("stack values must match the declared type; YAML numbers count as their text", () => {
    const demo = withConfig({ count: { type: "integer", default: 2 } });
    expect(() => applyProjectConfig(demo, "dev", { config: { "demo:count": 3 } })).not.toThrow();
    expect(() => applyProjectConfig(demo, "dev", { config: { "demo:count": "4" } })).not.toThrow();
    for (const bad of ["two", 2.5, true]) {
      expect(() => applyProjectConfig(demo, "dev", { config: { "demo:count": bad } })).toThrow(
        "Stack 'dev' with configuration key 'count' must be of type 'integer'",
      );
    }
  });

  it("a default of the wrong type is refused with the project (Project.Validate)", () => {
    expect(() =>
      applyProjectConfig(withConfig({ count: { type: "integer", default: "two" } }), "dev", {}),
    ).toThrow(
      "The default value specified for configuration key 'count' is not of the expected type 'integer'",
    );
  });

  it("anything it does not model throws instead of passing", () => {
    expect(() =>
      applyProjectConfig(
        withConfig({ list: { type: "array", items: { type: "string" } } }),
        "dev",
        {},
      ),
    ).toThrow(/not modelled/);
    expect(() =>
      applyProjectConfig(withConfig({ n: { type: "integer", secret: true } }), "dev", {
        config: { "demo:n": { secure: "v1:x" } },
      }),
    ).toThrow(/can't type-check the encrypted integer/);
  });
});
