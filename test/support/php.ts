// Runs PHP scripts (the reverse proxy's config template) with `php` from PATH, the way the proxy
// image's entrypoint does, but with an environment the test controls completely.
import { spawnSync } from "node:child_process";

export interface PhpResult {
  /** Exit status; null when php was killed (e.g. by the timeout). */
  status: number | null;
  stdout: string;
  stderr: string;
}

const PHP_TIMEOUT_MS = 10_000;

/** The `php` CLI's version line, or undefined when there is no runnable `php` on PATH. */
export function phpVersion(): string | undefined {
  const result = spawnSync("php", ["--version"], { encoding: "utf8", timeout: PHP_TIMEOUT_MS });
  if (result.error || result.status !== 0) return undefined;
  return result.stdout.split("\n")[0];
}

/**
 * Runs `php <script>` with exactly `env` (plus PATH, so php itself is found): nothing from the
 * test process's environment leaks in, so a developer's own STATIC_APP_1 can't change a result.
 * `-n` skips any php.ini on the machine, so results don't depend on local PHP settings.
 */
export function runPhp(script: string, env: Record<string, string>): PhpResult {
  const result = spawnSync("php", ["-n", script], {
    env: { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", ...env },
    encoding: "utf8",
    timeout: PHP_TIMEOUT_MS,
  });
  if (result.error) throw new Error(`could not run php ${script}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
