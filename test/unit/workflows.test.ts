// The GitHub workflows, read as GitHub would run them: things that would fail on a real runner but
// that no local test exercises.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..");
/** The fields of a workflow step these tests read. */
interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}

const workflow = (name: string) =>
  load(readFileSync(join(ROOT, ".github/workflows", name), "utf8")) as {
    jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>;
  };

describe("preview.yml", () => {
  const steps = workflow("preview.yml").jobs.preview.steps;
  const pulumi = steps.find((step) => String(step.uses).startsWith("pulumi/actions@"))!;

  it("comments on the pull request only when the token can write: not from a fork", () => {
    // A fork's pull request gets a read-only GITHUB_TOKEN; commenting with it fails the job.
    expect(pulumi.with?.["comment-on-pr"]).toBe(
      "${{ github.event.pull_request.head.repo.full_name == github.repository }}",
    );
  });

  it("writes the preview to the job summary, which needs no token", () => {
    const summary = steps.find((step) => String(step.run ?? "").includes("GITHUB_STEP_SUMMARY"));
    expect(summary, "a step appends to $GITHUB_STEP_SUMMARY").toBeDefined();
    expect(summary!.env?.PREVIEW).toBe(`\${{ steps.${pulumi.id}.outputs.output }}`);
  });

  it("runs without repository secrets (forks get none): the passphrase falls back", () => {
    const env = workflow("preview.yml").jobs.preview.env ?? {};
    expect(env.PULUMI_CONFIG_PASSPHRASE).toMatch(/\|\| '[^']+'/);
  });
});

describe("test.yml", () => {
  const steps = workflow("test.yml").jobs.test.steps;

  it("installs testssl.sh 3.2 or later as `testssl`: the TLS grade needs 3.2 (3.0 rates nothing)", () => {
    const install = steps.find((step) => String(step.run ?? "").includes("testssl"));
    expect(install, "a step installs testssl.sh").toBeDefined();
    const tag = /--branch v3\.(\d+)\.\d+/.exec(install!.run!);
    expect(tag, "testssl.sh pinned to a v3.x.y tag").not.toBeNull();
    expect(Number(tag![1])).toBeGreaterThanOrEqual(2);
    expect(install!.run).toMatch(/\/usr\/local\/bin\/testssl$/m);
  });
});
