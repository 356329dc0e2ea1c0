// The `name` rules every named Docker object shares (network, secret, volume). pulumi-docker
// provider/resources.go calls `prov.SetAutonaming(255, "-")`, which auto-names every resource's
// `name` (pulumi-terraform-bridge pkg/tfbridge/info/autonaming.go `SetAutonaming`). The bridge's
// Diff then answers delete-before-replace when `name` was set by the program rather than
// auto-named (pkg/tfbridge/schema.go `nameRequiresDeleteBeforeReplace`: a news key whose
// AutoNamed default is not in `__defaults`); a program may override that with its own
// deleteBeforeReplace, which the engine honours (step_generator.go continueStepsFromDiff).
// Auto-naming itself is not modelled: a resource without `name` is refused.

import type { PropertyMap } from "../propertyMap";

/** TypeRules.deleteBeforeReplace of a type whose `name` is auto-named. */
export const nameRequiresDeleteBeforeReplace = (news: Record<string, unknown>) =>
  news.name !== undefined;

/** The provider's Check for such a type: refuses what the harness can't name. */
export function requireName(typeName: string) {
  return (inputs: PropertyMap) => {
    if (inputs.name === undefined) {
      throw new Error(`harness: an auto-named ${typeName} (no \`name\`) is not modelled`);
    }
    return inputs;
  };
}
