// Type-aware lint: tsc does not report a deprecated API, a promise nobody awaits, or a promise
// handed to something that expects a plain callback; typescript-eslint does, with the types tsc
// already computes. Formatting is Prettier's job: no formatting rules here.
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import prettier from "eslint-config-prettier/flat";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  globalIgnores(["bin/", "test-results/"]),
  js.configs.recommended,
  {
    // index.ts, src/, test/, bench/ and the vitest configs: every file tsconfig.json includes. The
    // project service reads that tsconfig, so a .ts file it does not include is an error, not a
    // silently untyped lint.
    files: ["**/*.ts"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Pulumi providers deprecate inputs that still type-check but misbehave (a service's network
      // attached by `name` is replaced on every update).
      "@typescript-eslint/no-deprecated": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      // Off: an async function without an await is how the mocks and the harness implement a
      // promise-returning interface with synchronous work, so that a throw becomes a rejection as
      // callers expect. The mistake it would catch, a missing await, no-floating-promises reports.
      "@typescript-eslint/require-await": "off",
      // `const { omitted: _omitted, ...rest } = object` is how the code leaves a key out of a copy.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
    },
  },
  {
    // The Express backend: plain CommonJS run by Node, no build step.
    files: ["docker-images/express-image/*.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
  {
    // Its tests are ES modules that vitest loads.
    files: ["docker-images/express-image/test/*.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
  {
    // The landing page's script: a classic browser script, no modules.
    files: ["docker-images/apache-php-image/*.js"],
    languageOptions: { sourceType: "script", globals: globals.browser },
  },
  {
    files: ["eslint.config.mjs"],
    languageOptions: { globals: globals.node },
  },
  // Last: turns off the rules Prettier's layout can trip (no-unexpected-multiline on a chain
  // Prettier breaks before a computed member).
  prettier,
);
