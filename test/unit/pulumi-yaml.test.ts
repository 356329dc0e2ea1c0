// Pulumi.yaml's `config:` schema and the program must agree: the CLI applies the declared defaults,
// the mock runtime (and a program run without the schema) falls back on `defaultSettings`, so a
// drift between the two would make unit tests and `pulumi up` see different stacks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { defaultSettings, validateSettings, type RawSettings } from "../../src/settings";
import { tlsDefaults } from "../../src/tls";

const ROOT = join(__dirname, "..", "..");

interface ConfigDeclaration {
  type?: unknown;
  description?: unknown;
  default?: unknown;
  secret?: unknown;
}

function readYaml(file: string): Record<string, unknown> {
  const parsed = load(readFileSync(join(ROOT, file), "utf8"), { filename: file });
  if (typeof parsed !== "object" || parsed === null) throw new Error(`${file} is not a YAML map`);
  return parsed as Record<string, unknown>;
}

const project = readYaml("Pulumi.yaml");
const declared = (project.config ?? {}) as Record<string, ConfigDeclaration>;

// Every key with a default, in src/settings.ts and src/tls.ts.
const allDefaults = { ...defaultSettings, ...tlsDefaults };
// Every key of RawSettings: the ones with a default, plus the secrets that have none.
const settingKeys: (keyof RawSettings)[] = [
  ...(Object.keys(allDefaults) as (keyof typeof allDefaults)[]),
  "balancerManagerPassword",
  "tlsPrivateKey",
];

// The keys index.ts reads, taken from its source: `config.get("x")`, `config.getNumber("x")`, ...
const keysReadByProgram = [
  ...readFileSync(join(ROOT, "index.ts"), "utf8").matchAll(
    /\bconfig\.(?:get|require)\w*\(\s*["']([^"']+)["']/g,
  ),
].map((match) => match[1]);

describe("Pulumi.yaml", () => {
  it("names the project http-infra, the prefix of every config key and Docker name", () => {
    expect(project.name).toBe("http-infra");
  });

  it("declares every setting under config: with a type and a description", () => {
    for (const key of settingKeys) {
      const declaration = declared[key];
      expect(declaration, `config.${key} is not declared`).toBeTypeOf("object");
      expect(["string", "integer", "boolean"], `config.${key}.type`).toContain(declaration.type);
      expect(declaration.description, `config.${key}.description`).toBeTypeOf("string");
      expect(String(declaration.description).trim(), `config.${key}.description`).not.toBe("");
    }
  });

  it("declares each default equal to defaultSettings, with the matching type", () => {
    for (const [key, value] of Object.entries(allDefaults)) {
      const declaration = declared[key] ?? {};
      expect(declaration.default, `config.${key}.default`).toStrictEqual(value);
      const expectedType = typeof value === "number" ? "integer" : "string";
      expect(declaration.type, `config.${key}.type`).toBe(expectedType);
    }
  });

  it("declares balancerManagerPassword as an optional string: empty default, no plain `secret: true`", () => {
    // The CLI requires a value for a key without a default, and refuses a plain default for a
    // `secret: true` key (test/unit/pulumi-cli-config.test.ts applies those rules); the program
    // enforces `--secret` instead (validateSettings).
    const declaration = declared.balancerManagerPassword ?? {};
    expect(declaration.type).toBe("string");
    expect(declaration.default, "empty: the balancer-manager stays off").toBe("");
    expect(declaration.secret, "would make the key required").toBeUndefined();
    expect(String(declaration.description)).toContain("--secret");
  });

  it("declares tlsPrivateKey as an optional string: empty default, no plain `secret: true`", () => {
    const declaration = declared.tlsPrivateKey ?? {};
    expect(declaration.type).toBe("string");
    expect(declaration.default, "empty: no given certificate").toBe("");
    expect(declaration.secret, "would make the key required").toBeUndefined();
    expect(String(declaration.description)).toContain("--secret");
  });

  it("declares no key the program does not read", () => {
    expect(Object.keys(declared).sort()).toEqual([...settingKeys].sort());
  });

  it("index.ts reads exactly the declared keys", () => {
    expect(keysReadByProgram.length, "no config reads found in index.ts").toBeGreaterThan(0);
    expect([...new Set(keysReadByProgram)].sort()).toEqual(Object.keys(declared).sort());
  });
});

describe("Pulumi.dev.yaml", () => {
  const stackConfig = (readYaml("Pulumi.dev.yaml").config ?? {}) as Record<string, unknown>;

  it("sets only declared keys, each prefixed with the project name", () => {
    for (const key of Object.keys(stackConfig)) {
      expect(key, `${key} lacks the http-infra: prefix`).toMatch(/^http-infra:/);
      expect(Object.keys(declared), `${key} is not declared in Pulumi.yaml`).toContain(
        key.slice("http-infra:".length),
      );
    }
  });

  it("never holds the balancer-manager password in plain text", () => {
    const password = stackConfig["http-infra:balancerManagerPassword"];
    if (password !== undefined) {
      // `pulumi config set --secret` stores `{ secure: <ciphertext> }`.
      expect(password, "set it with pulumi config set --secret").toMatchObject({
        // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- vitest types its asymmetric matchers `any`
        secure: expect.any(String),
      });
    }
  });

  it("holds values the program accepts", () => {
    const raw = Object.fromEntries(
      Object.entries(stackConfig)
        .filter(([key]) => key !== "http-infra:balancerManagerPassword")
        .map(([key, value]) => [key.slice("http-infra:".length), value]),
    ) as RawSettings;
    expect(() => validateSettings(raw)).not.toThrow();
  });
});
