// A patched copy of the program, for measuring a proposed design without touching the project's
// own files: index.ts and src/ are copied to a temporary directory (its node_modules a link to the
// project's, so the copy shares the one Pulumi runtime the harness mocks) and the patch applied
// there. Build contexts stay relative to the project directory, as the program runs from there.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export interface ProgramVariant {
  /** The patched copy's entry module, for runProgram's `program` option. */
  program: string;
  remove(): void;
}

export function programVariant(patchFile: string): ProgramVariant {
  const root = path.resolve(".");
  const directory = mkdtempSync(path.join(tmpdir(), "http-infra-variant-"));
  cpSync(path.join(root, "index.ts"), path.join(directory, "index.ts"));
  cpSync(path.join(root, "src"), path.join(directory, "src"), { recursive: true });
  symlinkSync(path.join(root, "node_modules"), path.join(directory, "node_modules"));
  execFileSync("git", ["apply", path.resolve(patchFile)], { cwd: directory });
  return {
    program: path.join(directory, "index.ts"),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}
