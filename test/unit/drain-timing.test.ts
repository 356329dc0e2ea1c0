// The drain's timing agrees with the proxy's health check and with the stop grace. A member told
// to stop keeps serving for its drain, until the proxy has surely taken it out; the proxy's health
// check settings live in its vhost template, the drains in the two backend images, the grace in the
// program. This renders the template with the php CLI, as the proxy's entrypoint does, and fails
// when any of them moves without the others. The static drain file must also lie where a static
// member may write.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { STOP_GRACE_SECONDS } from "../../src/containers/backends";
import { WRITABLE_PATHS } from "../../src/hardening";
import { phpVersion, runPhp } from "../support/php";

const ROOT = path.resolve(__dirname, "../..");
const TEMPLATE = path.join(
  ROOT,
  "docker-images/apache-reverse-proxy/templates/config-template.php",
);
const STATIC_DRAIN_SCRIPT = path.join(
  ROOT,
  "docker-images/apache-php-image/apache2-drain-foreground",
);
const STATIC_SITE_CONF = path.join(ROOT, "docker-images/apache-php-image/conf/static-site.conf");

const expressDrain = createRequire(__filename)(
  path.join(ROOT, "docker-images/express-image/drain.js"),
) as {
  PROXY_HEALTH_CHECK_INTERVAL_SECONDS: number;
  PROXY_HEALTH_CHECK_FAILS: number;
  DEFAULT_DRAIN_SECONDS: number;
  CLOSE_TIMEOUT_SECONDS: number;
};

// Like test/unit/proxy-template.test.ts: without php a developer gets skipped tests and a warning;
// CI must never report green because nothing ran.
const inCi = ["", "0", "false"].includes((process.env.CI ?? "").toLowerCase()) === false;
const php = phpVersion();
if (!php && !inCi) {
  console.warn("drain-timing.test.ts: no `php` on PATH, skipping (with CI=true it fails instead)");
}
const describeWithPhp = php || inCi ? describe : describe.skip;

/** hcinterval and hcfails of every BalancerMember the template renders; they must all agree. */
function proxyHealthCheck(): { interval: number; fails: number } {
  const result = runPhp(TEMPLATE, {
    STATIC_APP_1: "10.0.1.1:80",
    STATIC_APP_2: "10.0.1.2:80",
    DYNAMIC_APP_1: "10.0.2.1:3000",
    DYNAMIC_APP_2: "10.0.2.2:3000",
  });
  expect(result.status, result.stderr).toBe(0);
  const members = result.stdout.split("\n").filter((line) => /^\s*BalancerMember /.test(line));
  expect(members.length, "BalancerMember lines").toBeGreaterThan(0);
  const settings = members.map((line) => ({
    interval: Number(/\bhcinterval=(\d+)\b/.exec(line)?.[1]),
    fails: Number(/\bhcfails=(\d+)\b/.exec(line)?.[1]),
  }));
  for (const [i, setting] of settings.entries()) {
    expect(setting, members[i]).toEqual(settings[0]);
    expect(Number.isInteger(setting.interval) && Number.isInteger(setting.fails), members[i]).toBe(
      true,
    );
  }
  return settings[0];
}

/** A value the file sets with `pattern` (one capture group of digits). */
function numberIn(file: string, pattern: RegExp): number {
  const match = pattern.exec(readFileSync(file, "utf8"));
  if (!match) throw new Error(`${path.relative(ROOT, file)} sets nothing matching ${pattern}`);
  return Number(match[1]);
}

const staticDrainSeconds = () =>
  numberIn(STATIC_DRAIN_SCRIPT, /^readonly default_drain_seconds=(\d+)$/m);
const staticGracefulStopSeconds = () =>
  numberIn(STATIC_SITE_CONF, /^GracefulShutdownTimeout (\d+)$/m);

describeWithPhp("the drain against the proxy's health check", () => {
  it("the Express image restates the proxy's hcinterval and hcfails", () => {
    const { interval, fails } = proxyHealthCheck();
    expect(expressDrain.PROXY_HEALTH_CHECK_INTERVAL_SECONDS, "hcinterval").toBe(interval);
    expect(expressDrain.PROXY_HEALTH_CHECK_FAILS, "hcfails").toBe(fails);
  });

  it("both images drain for longer than hcinterval × (hcfails + 1), and by no more than one interval", () => {
    const { interval, fails } = proxyHealthCheck();
    const takenOutWithin = interval * (fails + 1);
    for (const [image, seconds] of [
      ["express-image (drain.js)", expressDrain.DEFAULT_DRAIN_SECONDS],
      ["apache-php-image (apache2-drain-foreground)", staticDrainSeconds()],
    ] as const) {
      expect(seconds, `${image}: drain seconds`).toBeGreaterThan(takenOutWithin);
      expect(seconds, `${image}: drain seconds`).toBeLessThanOrEqual(takenOutWithin + interval);
    }
  });
});

describe("the stop grace against the drains", () => {
  it("destroyGraceSeconds leaves each member its drain, its close and 2 s of slack before the kill", () => {
    // Express: the drain, then at most CLOSE_TIMEOUT_SECONDS for requests in flight (server.js).
    const express = expressDrain.DEFAULT_DRAIN_SECONDS + expressDrain.CLOSE_TIMEOUT_SECONDS;
    // Apache: the drain, then the graceful stop's timeout, which prefork checks once a second
    // (apache/httpd, server/mpm/prefork/prefork.c, prefork_run, 2.4.x).
    const apache = staticDrainSeconds() + staticGracefulStopSeconds() + 1;
    expect(STOP_GRACE_SECONDS, "express-image stops within").toBeGreaterThanOrEqual(express + 2);
    expect(STOP_GRACE_SECONDS, "apache-php-image stops within").toBeGreaterThanOrEqual(apache + 2);
  });
});

describe("the static drain file", () => {
  it("is the one static-site.conf tests, in a path the stack mounts writable for static members", () => {
    const match = /^readonly drain_file=(\/\S+)$/m.exec(readFileSync(STATIC_DRAIN_SCRIPT, "utf8"));
    expect(match, "apache2-drain-foreground sets drain_file").not.toBeNull();
    const file = match![1];
    const conf = readFileSync(STATIC_SITE_CONF, "utf8");
    const tested = [...conf.matchAll(/-f '([^']+)'/g)].map((m) => m[1]);
    // The health check's 503 and the nokeepalive: both look at that file.
    expect(tested, "static-site.conf's -f tests").toEqual([file, file]);
    // The root filesystem is read-only: www-data can create the file only on one of its tmpfs.
    const writable = WRITABLE_PATHS.static.map((p) => p.target);
    expect(
      writable.some((dir) => path.posix.dirname(file) === dir),
      `${file} directly in one of ${writable.join(", ")}`,
    ).toBe(true);
  });
});
