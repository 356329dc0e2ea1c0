// js-yaml ships no types and @types/js-yaml is not a dependency: only what the tests use.
declare module "js-yaml" {
  /** Parses one YAML document (YAML 1.2 core schema). */
  export function load(text: string, options?: { filename?: string }): unknown;
}
