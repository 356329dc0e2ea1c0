/**
 * The oldest Pulumi CLI whose engine does what single-host mode's proxy options rely on
 * (src/containers/proxy.ts; CHANGELOG.md of pulumi/pulumi): ignoreChanges respected in
 * delete-before-replace diffs (3.163.0, #19188), the replacement_trigger option (3.208.0, #20936),
 * and a trigger sent as an Output no longer firing on its dependencies (3.226.0, #22119) — the
 * proxy's trigger is an Output built from the members'. Swarm mode's services need less: the
 * replaceWith option that takes them off a replaced network first (3.207.0, #20693).
 */
export const MINIMUM_PULUMI_VERSION = "3.226.0";
