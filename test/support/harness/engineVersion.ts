// `pulumi.requirePulumiVersion` under the harness. The Node SDK sends a RequirePulumiVersion RPC to
// the engine (@pulumi/pulumi runtime/settings.js `requirePulumiVersion`), and the CLI answers with
// plugin.ValidatePulumiVersionRange(range, version.Version) (pulumi/pulumi pkg/host/host_server.go
// `RequirePulumiVersion`; sdk/go/common/resource/plugin/plugin.go): an error when its own version
// is outside the range. Under the mock runtime there is no engine, and the SDK resolves at once
// whatever the range (`if (!engineRef) return Promise.resolve(undefined)`): a program that needs a
// newer engine would pass unnoticed. So the harness answers as the engine it models.
import * as pulumi from "@pulumi/pulumi";

/**
 * The pulumi/pulumi release whose step generator the harness follows: the harness cites
 * pulumi/pulumi's source at tag v3.259.0 (`sdk/.version` there reads 3.259.0).
 */
export const MODELLED_PULUMI_VERSION = "3.259.0";

type Version = [number, number, number];

function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * ValidatePulumiVersionRange for the ranges the harness understands: one or more space-separated
 * `>=x.y.z` / `>x.y.z` / `<x.y.z` / `<=x.y.z` (blang/semver ParseRange ANDs them). Anything else
 * (`||`, `!`, wildcards) throws: the harness would otherwise have to guess.
 */
export function validatePulumiVersionRange(range: string, engineVersion: string): void {
  const version = parseVersion(engineVersion);
  if (!version) throw new Error(`harness: engine version ${engineVersion} is not x.y.z`);
  for (const part of range.trim().split(/\s+/)) {
    const match = /^(>=|>|<=|<)(.+)$/.exec(part);
    const bound = match && parseVersion(match[2]);
    if (!match || !bound) {
      throw new Error(
        `harness: the version range "${range}" is not modelled (only >=, >, <=, < x.y.z, ANDed)`,
      );
    }
    const order = compare(version, bound);
    const ok = { ">=": order >= 0, ">": order > 0, "<=": order <= 0, "<": order < 0 }[match[1]];
    if (!ok) {
      // The CLI's own message (plugin.go ValidatePulumiVersionRange).
      throw new Error(
        `Pulumi CLI version ${engineVersion} does not satisfy the version range "${range}"`,
      );
    }
  }
}

/**
 * Makes `pulumi.requirePulumiVersion` answer as an engine of `engineVersion` would, until the
 * returned function restores the SDK's own. Both the settings module (which `pulumi.
 * requirePulumiVersion` calls at call time) and the copy `pulumi.runtime` exports are replaced.
 */
export function modelRequirePulumiVersion(
  engineVersion: string = MODELLED_PULUMI_VERSION,
): () => void {
  type Check = { requirePulumiVersion: typeof pulumi.runtime.requirePulumiVersion };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as Check;
  const runtime = pulumi.runtime as Check;
  const originals = {
    settings: settings.requirePulumiVersion,
    runtime: runtime.requirePulumiVersion,
  };
  const modelled = async (range: string) => validatePulumiVersionRange(range, engineVersion);
  settings.requirePulumiVersion = modelled;
  runtime.requirePulumiVersion = modelled;
  return () => {
    settings.requirePulumiVersion = originals.settings;
    runtime.requirePulumiVersion = originals.runtime;
  };
}
