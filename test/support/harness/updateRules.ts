// How the Docker provider classifies a change of inputs between two `pulumi up` runs: no change,
// an in-place update, or a replacement. Pure functions over the provider's schema, so unit tests
// can check them without an engine. Sources (read them next to this file):
//
// - Container and Network are bridged from kreuzwerker/terraform-provider-docker
//   (pulumi/pulumi-docker provider/resources.go). The bridge's Diff (pulumi/pulumi-terraform-bridge
//   pkg/tfbridge/provider.go, `Provider.Diff`) asks Terraform for a plan and reports every
//   top-level property whose attribute is `ForceNew` as a replace key; any other change is an
//   update, which Terraform applies with the resource's UpdateContext.
// - Image is native to pulumi-docker (provider/provider.go): `Check` adds `build.contextDigest`,
//   `Diff` compares old and new inputs and never asks for a replacement.
import dockerignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import * as path from "node:path";
import { CONTAINER, IMAGE, NETWORK } from "./inputs";

/** What the provider does when a property changes. */
export type ChangeRule =
  /** Terraform `ForceNew`: the resource is replaced. */
  | "replace"
  /** Applied in place with `docker container update` (resourceDockerContainerUpdate). */
  | "container-update"
  /** must_run false → true starts the container (resourceDockerContainerUpdate's first branch). */
  | "must-run"
  /** Not ForceNew and ignored by the provider's Update: only the state changes. */
  | "state-only"
  /** Image: `dockerNativeProvider.Update` builds the image again (provider/provider.go). */
  | "rebuild";

interface TypeRules {
  /** Rule per top-level input property (the bridge reports replace keys at the top level). */
  properties: Record<string, ChangeRule>;
  /**
   * `Optional` + `Computed` attributes: leaving one out keeps the value in the state, so the
   * plan shows no change (terraform-plugin-sdk helper/schema/schema.go `schemaMap.diffString` /
   * `diffSet`: a removed value of a Computed attribute yields no diff).
   */
  computed: ReadonlySet<string>;
  /** `TypeSet` attributes: their order is not part of the value. */
  sets: ReadonlySet<string>;
  /**
   * What the provider's Diff answers for DeleteBeforeReplace when the program leaves the option
   * unset: pulumi-docker provider/resources.go marks `docker_container` `DeleteBeforeReplace:
   * true`, and the bridge returns it with every replacement (pkg/tfbridge/provider.go `Diff`).
   */
  deleteBeforeReplace: boolean;
}

/**
 * Rules for the inputs the harness implements (inputs.ts), read off the Terraform schemas:
 * internal/provider/resource_docker_container.go `resourceDockerContainer` (ForceNew, Computed,
 * TypeSet on each attribute) and resource_docker_container_funcs.go
 * `resourceDockerContainerUpdate` (what an update does); resource_docker_network.go
 * `resourceDockerNetwork` (every attribute ForceNew, no UpdateContext).
 */
export const changeRules: Record<string, TypeRules> = {
  [CONTAINER]: {
    properties: {
      name: "replace",
      image: "replace",
      hostname: "replace",
      envs: "replace",
      command: "replace",
      user: "replace",
      labels: "replace",
      networksAdvanced: "replace",
      ports: "replace",
      // The attrs list of resourceDockerContainerUpdate: restart goes through ContainerUpdate.
      restart: "container-update",
      mustRun: "must-run",
      // Neither ForceNew nor handled by resourceDockerContainerUpdate: a changed healthcheck is
      // recorded in the state and never reaches the running container.
      healthcheck: "state-only",
      wait: "state-only",
      waitTimeout: "state-only",
      start: "state-only",
      destroyGraceSeconds: "state-only",
    },
    computed: new Set(["hostname", "command", "envs", "labels", "healthcheck"]),
    sets: new Set(["envs", "labels"]),
    deleteBeforeReplace: true,
  },
  [NETWORK]: {
    properties: {
      name: "replace",
      driver: "replace",
      internal: "replace",
      attachable: "replace",
      options: "replace",
      labels: "replace",
      ipamConfigs: "replace",
    },
    computed: new Set(["driver", "options", "internal", "ipamConfigs"]),
    sets: new Set(["labels", "ipamConfigs"]),
    deleteBeforeReplace: false,
  },
  [IMAGE]: {
    // provider/provider.go `Diff` + `diffUpdates`: every changed key is an UPDATE, never a
    // replacement, and `Update` runs dockerBuild again. `build` includes the contextDigest that
    // `Check` computed, so an edited context is a changed `build`.
    properties: {
      imageName: "rebuild",
      skipPush: "rebuild",
      buildOnPreview: "rebuild",
      build: "rebuild",
    },
    computed: new Set(),
    sets: new Set(),
    deleteBeforeReplace: false,
  },
};

/**
 * A value the engine does not know yet. calculateDependentReplacements (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go) puts it in place of every input that came from a
 * resource about to be replaced, then asks the provider's Diff whether that forces a replacement.
 */
export const UNKNOWN = Symbol("unknown");

export interface InputDiff {
  /** Top-level properties whose value changed. */
  changedKeys: string[];
  /** Those of them that force a replacement. */
  replaceKeys: string[];
  /** The provider's DeleteBeforeReplace answer (before the program's option overrides it). */
  deleteBeforeReplace: boolean;
}

function canonical(value: unknown, isSet: boolean): string {
  const walk = (v: unknown): unknown => {
    if (v === UNKNOWN) return "\u0000<unknown>";
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([, child]) => child !== undefined && child !== null)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, child]) => [k, walk(child)]),
      );
    }
    return v;
  };
  const walked = walk(value);
  if (isSet && Array.isArray(walked)) {
    return JSON.stringify(walked.map((item) => JSON.stringify(item)).sort());
  }
  return JSON.stringify(walked ?? null);
}

function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null)
    return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * The provider's Diff of old inputs against new ones. Throws, naming the property, on a change it
 * has no rule for: a plan must never show "unchanged" because the harness didn't look.
 */
export function diffInputs(
  type: string,
  name: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): InputDiff {
  const rules = changeRules[type];
  if (!rules) throw new Error(`harness: no update rules for resource type ${type} (${name})`);
  const changedKeys: string[] = [];
  const replaceKeys: string[] = [];
  for (const key of new Set([...Object.keys(olds), ...Object.keys(news)])) {
    const before = olds[key];
    const after = news[key];
    if (after === undefined || after === null) {
      // An Optional+Computed attribute left out keeps its old value: no diff.
      if (rules.computed.has(key)) continue;
    }
    const unknown = containsUnknown(after);
    if (
      !unknown &&
      canonical(before, rules.sets.has(key)) === canonical(after, rules.sets.has(key))
    )
      continue;
    const rule = rules.properties[key];
    if (!rule) {
      throw new Error(
        `harness: ${type} input "${key}" of ${name} changed and the harness has no update rule ` +
          `for it; add one to test/support/harness/updateRules.ts, citing the provider`,
      );
    }
    changedKeys.push(key);
    // An unknown value for a ForceNew attribute: Terraform plans a replacement
    // (hashicorp/terraform-plugin-sdk helper/schema/schema.go `Schema.finalizeDiff`:
    // `RequiresNew = Old != New || NewComputed` when ForceNew).
    if (rule === "replace") replaceKeys.push(key);
  }
  return { changedKeys, replaceKeys, deleteBeforeReplace: rules.deleteBeforeReplace };
}

/** Pulumi's rule for the final choice: the program's option, when set, overrides the provider. */
export function deleteBeforeReplace(diff: InputDiff, option: boolean | undefined): boolean {
  // pulumi/pulumi pkg/resource/deploy/step_generator.go continueStepsFromDiff:
  //   deleteBeforeReplace := diff.DeleteBeforeReplace; if goal.DeleteBeforeReplace != nil { … }
  return option ?? diff.deleteBeforeReplace;
}

/**
 * The digest pulumi-docker's `Check` adds to an Image's `build` (provider/provider.go
 * `hashContext`): the Dockerfile's content under the name "Dockerfile", then every file of the
 * context not excluded by .dockerignore, in lexical order, as its relative path, mode and content
 * hash (symlinks: their target path). The exact bytes differ from the provider's (Go's mode
 * strings); what matters here is the same thing: it changes exactly when the context does.
 */
export function contextDigest(context: string, dockerfile: string): string {
  const root = path.resolve(context);
  const accumulator = createHash("sha256");
  const add = (relative: string, mode: string, content: Buffer | string) => {
    accumulator.update(relative);
    accumulator.update(mode);
    accumulator.update(createHash("sha256").update(content).digest());
    accumulator.update("\0");
  };
  add("Dockerfile", "", readFileSync(path.resolve(dockerfile)));

  // getIgnorePatterns: <Dockerfile>.dockerignore first, else the context's .dockerignore.
  const ignoreFile = [
    `${path.resolve(dockerfile)}.dockerignore`,
    path.join(root, ".dockerignore"),
  ].find((candidate) => existsSync(candidate));
  const ignore = dockerignore().add(ignoreFile ? readFileSync(ignoreFile, "utf8") : "");
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory).sort()) {
      const full = path.join(directory, entry);
      const relative = path.relative(root, full).split(path.sep).join("/");
      if (ignore.ignores(relative)) continue;
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isSymbolicLink()) add(relative, stat.mode.toString(8), readlinkSync(full));
      else if (stat.isFile()) add(relative, stat.mode.toString(8), readFileSync(full));
    }
  };
  walk(root);
  return accumulator.digest("hex");
}

/**
 * Where the build reads a context path from. Tests redirect a context to an edited copy (the way a
 * user edits the landing page in place) without touching the repository.
 */
export type ContextResolver = (projectPath: string) => string;

/** Redirects each context directory (and files under it) to another directory. */
export function contextResolver(overrides: Record<string, string> = {}): ContextResolver {
  return (projectPath) => {
    const normalized = path.posix.normalize(projectPath);
    for (const [context, directory] of Object.entries(overrides)) {
      const prefix = path.posix.normalize(context);
      if (normalized === prefix) return directory;
      if (normalized.startsWith(`${prefix}/`)) {
        return path.join(directory, normalized.slice(prefix.length + 1));
      }
    }
    return projectPath;
  };
}

/**
 * pulumi-docker's `Check` for an Image (provider/provider.go `dockerNativeProvider.Check`): the
 * inputs the engine stores and diffs, with `build.contextDigest` added.
 */
export function checkImageInputs(
  inputs: Record<string, any>,
  resolve: ContextResolver = (p) => p,
): Record<string, any> {
  const build = inputs.build ?? {};
  const context = build.context ?? ".";
  const dockerfile = build.dockerfile ?? path.join(context, "Dockerfile");
  const digest = contextDigest(resolve(context), resolve(dockerfile));
  return { ...inputs, build: { ...build, contextDigest: digest } };
}
