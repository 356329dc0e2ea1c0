import { defineConfig } from "vitest/config";

// The unit tests of the pure modules, the ones Stryker runs against each mutant
// (stryker.config.mjs). They need no Docker engine and no Pulumi program run: a mutant is tested in
// milliseconds. The program tests (test/unit/program.test.ts and the like) also reach these
// modules, but each takes seconds, and a rule of a pure module belongs in that module's own tests.
export default defineConfig({
  test: {
    include: [
      "test/unit/settings.test.ts",
      "test/unit/settings-*.test.ts",
      "test/unit/addressing.test.ts",
      "test/unit/naming.test.ts",
      "test/unit/proxy-environment.test.ts",
      "test/unit/pulumi-yaml.test.ts",
      "test/unit/secret-config.test.ts",
      "test/unit/hardening.test.ts",
    ],
  },
});
