// A build context edited on a temporary copy, so a test can change what an image is built from
// (the landing page, the API) without ever modifying the repository.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export interface EditedContext {
  /** The edited copy: pass `{ [context]: directory }` as `contextOverrides`. */
  directory: string;
  remove(): void;
}

/** Copies `context` (without node_modules) to a temporary directory and applies `edit` there. */
export function editedContext(context: string, edit: (directory: string) => void): EditedContext {
  const directory = mkdtempSync(path.join(tmpdir(), "http-infra-context-"));
  cpSync(path.resolve(context), directory, {
    recursive: true,
    filter: (source) => path.basename(source) !== "node_modules",
  });
  edit(directory);
  return { directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
