// Debian's chromium for the browser tests, driven by playwright-core, which never downloads a
// browser of its own.
import { mkdirSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** The browser binary: Debian's package, or CHROMIUM_PATH (GitHub's runner has Google Chrome). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Chromium's background services try to reach Google; this machine's closed network refuses them. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** launch() gives every run a fresh, throw-away user-data dir. */
export function launchChromium(extraFlags: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS, ...extraFlags] });
}

/** Where the browser tests leave their screenshots (uploaded with test-results/ by CI). */
export const BROWSER_ARTIFACTS = "test-results/browser";

/** The screenshot path for `name`, its folder made. */
export function screenshotPath(name: string): string {
  mkdirSync(BROWSER_ARTIFACTS, { recursive: true });
  return `${BROWSER_ARTIFACTS}/${name}.png`;
}
