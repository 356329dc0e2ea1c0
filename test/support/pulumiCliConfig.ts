// A model of the checks the Pulumi CLI runs on Pulumi.yaml and Pulumi.<stack>.yaml before it starts
// the program (`pulumi preview`, `pulumi up`). The mock runtime skips them all, which is how a
// required secret once slipped through every test. Each rule cites the CLI source it follows
// (pulumi/pulumi at the revision read for this model); anything the model does not cover throws,
// naming it, instead of passing quietly.
import { readFileSync } from "node:fs";
import { load } from "js-yaml";

/** One entry of Pulumi.yaml's `config:` (sdk/go/common/workspace/project.go, ProjectConfigType). */
export interface ProjectConfigType {
  type?: string;
  description?: string;
  items?: unknown;
  default?: unknown;
  value?: unknown;
  secret?: boolean;
}

export interface ProjectFile {
  name: string;
  config?: Record<string, ProjectConfigType>;
}

/** A stack file's value: a YAML scalar, `{ secure: <ciphertext> }`, or an object. */
export type StackConfigValue = unknown;

export interface StackFile {
  config?: Record<string, StackConfigValue>;
}

export class CliConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliConfigError";
  }
}

const PROJECT_CONFIG_FIELDS = new Set([
  "type",
  "description",
  "items",
  "default",
  "value",
  "secret",
]);
// Stack-file settings the CLI reads besides `config:`; none changes how config is checked.
const STACK_FILE_FIELDS = new Set(["config", "secretsprovider", "encryptionsalt", "encryptedkey"]);

function readYaml(file: string): Record<string, unknown> {
  const parsed = load(readFileSync(file, "utf8"), { filename: file });
  if (typeof parsed !== "object" || parsed === null) throw new Error(`${file} is not a YAML map`);
  return parsed as Record<string, unknown>;
}

export function readProjectFile(file: string): ProjectFile {
  const project = readYaml(file) as unknown as ProjectFile;
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    // project.go's ProjectConfigType also accepts a bare value as shorthand; not modelled here.
    if (typeof declaration !== "object" || declaration === null || Array.isArray(declaration)) {
      throw new Error(`model: the shorthand form of config key '${key}' is not modelled`);
    }
    for (const field of Object.keys(declaration)) {
      if (!PROJECT_CONFIG_FIELDS.has(field)) {
        throw new Error(`model: field '${field}' of config key '${key}' is not modelled`);
      }
    }
  }
  return project;
}

export function readStackFile(file: string): StackFile {
  const stack = readYaml(file);
  for (const field of Object.keys(stack)) {
    // `environment:` (Pulumi ESC) merges more config in (pkg/workspace/config.go, mergeConfig's
    // first loop): not modelled.
    if (!STACK_FILE_FIELDS.has(field)) {
      throw new Error(`model: stack file field '${field}' is not modelled`);
    }
  }
  return stack;
}

/** `key` as the CLI namespaces it (pkg/workspace/config.go, parseConfigKey). */
function namespaced(projectName: string, key: string): string {
  return key.includes(":") ? key : `${projectName}:${key}`;
}

function isSecure(value: StackConfigValue): value is { secure: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    Object.keys(value).length === 1 &&
    typeof (value as { secure?: unknown }).secure === "string"
  );
}

/**
 * The text the CLI keeps for a stack value (sdk/go/common/resource/config/object.go,
 * object.MarshalString): a string as it is, a bool or number as its JSON text. Objects and arrays
 * are JSON-encoded and flagged as objects; the model does not check those.
 */
function storedText(key: string, value: StackConfigValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  throw new Error(`model: the object value of stack config '${key}' is not modelled`);
}

/**
 * sdk/go/common/workspace/project.go, ValidateConfigValue, for the primitive types. Arrays and
 * objects are not modelled.
 */
export function validateConfigValue(type: string, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      // An int, a whole float (YAML), or a string that strconv.Atoi parses.
      if (typeof value === "number") return Number.isInteger(value);
      return typeof value === "string" && /^[+-]?\d+$/.test(value);
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    default:
      throw new Error(`model: config type '${type}' is not modelled`);
  }
}

/** sdk/go/common/workspace/project.go, (*Project).Validate: the rules on Pulumi.yaml alone. */
export function validateProject(project: ProjectFile): void {
  if (!project.name) throw new CliConfigError("project is missing a 'name' attribute");
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    if (declaration.default !== undefined && declaration.value !== undefined) {
      throw new CliConfigError(
        `project config '${key}' cannot have both a 'default' and 'value' attribute`,
      );
    }
    const ownNamespace = !key.includes(":") || key.startsWith(`${project.name}:`);
    if (!ownNamespace) {
      // Keys of other namespaces (e.g. `docker:host`) carry a value and no type: not used here.
      throw new Error(`model: config key '${key}' of another namespace is not modelled`);
    }
    if (declaration.type === "array" || declaration.type === "object" || declaration.items) {
      throw new Error(`model: config key '${key}' of type ${declaration.type} is not modelled`);
    }
    if (declaration.type !== undefined && declaration.default !== undefined) {
      if (!validateConfigValue(declaration.type, declaration.default)) {
        throw new CliConfigError(
          `The default value specified for configuration key '${key}' is not of the expected type '${declaration.type}'`,
        );
      }
    }
  }
}

/**
 * pkg/workspace/config.go, mergeConfig with validate=true (ValidateStackConfigAndApplyProjectConfig),
 * then validateStackConfigValues / validateStackConfigValue. Returns the merged config the program
 * would see, as `namespace:key` → stored text (secure values stay ciphertext).
 */
export function applyProjectConfig(
  project: ProjectFile,
  stackName: string,
  stack: StackFile,
): Map<string, { text: string; secure: boolean }> {
  validateProject(project);
  const merged = new Map<string, { text: string; secure: boolean }>();
  for (const [key, value] of Object.entries(stack.config ?? {})) {
    merged.set(
      namespaced(project.name, key),
      isSecure(value)
        ? { text: value.secure, secure: true }
        : { text: storedText(key, value), secure: false },
    );
  }

  // mergeConfig: a declared key of the project's namespace that the stack does not set and that
  // has neither `default` nor `value` is missing; every missing key is reported in one error.
  const keys = Object.keys(project.config ?? {}).sort();
  const missing: string[] = [];
  for (const key of keys) {
    const declaration = project.config![key];
    const fullKey = namespaced(project.name, key);
    if (merged.has(fullKey)) continue;
    const fallback = declaration.default !== undefined ? declaration.default : declaration.value;
    if (fallback === undefined) {
      missing.push(key);
      continue;
    }
    // createConfigValue: a primitive default becomes its text, and is never secure.
    if (typeof fallback === "object" && fallback !== null) {
      throw new Error(`model: the object default of config key '${key}' is not modelled`);
    }
    const primitive = fallback as string | number | boolean | null;
    merged.set(fullKey, { text: String(primitive), secure: false });
  }
  if (missing.length > 0) {
    // missingStackConfigurationKeysError / formatMissingKeys
    const quoted = missing.map((key) => `'${key}'`);
    const list =
      quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}`;
    throw new CliConfigError(
      `Stack '${stackName}' is missing configuration ${missing.length === 1 ? "value" : "values"} ${list}`,
    );
  }

  // validateStackConfigValues: every explicitly typed key, in sorted order, first its secrecy,
  // then its type (validateStackConfigValue).
  for (const key of keys) {
    const declaration = project.config![key];
    if (declaration.type === undefined) continue;
    const stored = merged.get(namespaced(project.name, key))!;
    if (declaration.secret === true && !stored.secure) {
      throw new CliConfigError(
        `Stack '${stackName}' with configuration key '${key}' must be encrypted as it's secret`,
      );
    }
    if (stored.secure) {
      // The CLI type-checks the decrypted text; any text is a string, other types need the key.
      if (declaration.type !== "string") {
        throw new Error(`model: can't type-check the encrypted ${declaration.type} '${key}'`);
      }
      continue;
    }
    if (!validateConfigValue(declaration.type, stored.text)) {
      throw new CliConfigError(
        `Stack '${stackName}' with configuration key '${key}' must be of type '${declaration.type}'`,
      );
    }
  }
  return merged;
}
