// How `npm test` is scheduled (vitest.config.ts; docs/testing.md, "How the run is scheduled"),
// resolved by Vitest itself: every test file in exactly one project, the two lanes really side by
// side, and a suite that restarts the host's engine never beside the swarm test bed.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createVitest, type TestSpecification, type Vitest } from "vitest/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..");

describe("the test schedule (vitest.config.ts)", () => {
  let specs: TestSpecification[] = [];
  let vitest: Vitest | undefined;

  beforeAll(async () => {
    vitest = await createVitest("test", { watch: false, root: ROOT, reporters: [] });
    specs = await vitest.globTestSpecifications();
  }, 30_000);
  afterAll(async () => {
    await vitest?.close();
  });

  const file = (spec: TestSpecification) => relative(ROOT, spec.moduleId);
  const project = (name: string) => specs.filter((spec) => spec.project.name === name);
  const config = (name: string) => {
    const first = project(name).at(0);
    if (!first) throw new Error(`project ${name} has no test file`);
    return first.project.config;
  };

  it("runs every test file once, in one project", () => {
    const files = specs.map(file);
    expect(files.length).toBeGreaterThan(40);
    expect(files.filter((name, i) => files.indexOf(name) !== i)).toEqual([]);
    expect(files).toContain("test/unit/test-schedule.test.ts");
    expect(files).toContain("docker-images/express-image/test/app.test.js");
  });

  it("puts each swarm suite in the swarm lane, and nothing else there", () => {
    const swarm = project("swarm").map(file).sort();
    expect(swarm).toEqual(
      specs
        .map(file)
        .filter((f) => /^test\/e2e\/swarm-/.test(f))
        .sort(),
    );
    expect(swarm.length).toBeGreaterThanOrEqual(3);
  });

  it("runs the two lanes side by side: same group, a pool each", () => {
    // Vitest gives each pool its own workers; with fileParallelism false each runs one file at a
    // time. One pool for both would make them one lane.
    expect(config("swarm").sequence.groupOrder).toBe(config("host").sequence.groupOrder);
    expect(config("swarm").pool).not.toBe(config("host").pool);
    expect(config("host").fileParallelism).toBe(false);
    expect(config("alone").sequence.groupOrder).toBeGreaterThan(config("host").sequence.groupOrder);
  });

  it("keeps every suite that restarts the host's engine out of the lanes", () => {
    const restarters = specs
      .filter((spec) =>
        /import\s*{[^}]*\brestartOwnEngine\b[^}]*}/.test(readFileSync(spec.moduleId, "utf8")),
      )
      .map(file);
    expect(restarters.length).toBeGreaterThan(0);
    const alone = project("alone").map(file);
    expect(restarters.filter((f) => !alone.includes(f))).toEqual([]);
  });
});
