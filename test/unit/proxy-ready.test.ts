// What `pulumi up` waits for on a swarm (src/swarm/proxyReady.ts): which nodes get a check, the
// checks' names, and the health command each check runs, here with stand-ins for curl and getent.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WRITABLE_PATHS } from "../../src/hardening";
import { stackNames } from "../../src/naming";
import {
  checkForceUpdate,
  proxyConfigDigest,
  proxyNodes,
  readyProbe,
  imagePlatform,
  readyServiceName,
  shortDuration,
} from "../../src/swarm/proxyReady";
import type { SwarmNode } from "../../src/swarm/swarmNodes";

const node = (n: number, extra: Partial<SwarmNode> = {}): SwarmNode => ({
  id: `nodeid${n}`,
  hostname: `node-${n}`,
  labels: {},
  availability: "active",
  state: "ready",
  platform: { os: "linux", architecture: "x86_64" },
  proxyChecks: {},
  ...extra,
});

describe("the nodes that get a proxy check", () => {
  it("are the active ones, with the proxyNodeLabel when one is set", () => {
    const nodes = [
      node(1),
      node(2, { labels: { edge: "true" } }),
      node(3, { labels: { edge: "true" }, availability: "drain" }),
      node(4, { availability: "pause" }),
    ];
    expect(proxyNodes(nodes, undefined).map((n) => n.hostname)).toEqual(["node-1", "node-2"]);
    expect(proxyNodes(nodes, "edge=true").map((n) => n.hostname)).toEqual(["node-2"]);
  });

  it("none is an error naming proxyNodeLabel and listing the nodes", () => {
    expect(() => proxyNodes([node(1)], "edge=true")).toThrow(
      "proxyNodeLabel edge=true is on no active node of the swarm (nodes: node-1 (active))",
    );
  });
});

describe("a check's service name", () => {
  it("is the proxy's name, -ready- and the node's hostname when that fits a service name", () => {
    expect(readyServiceName(stackNames("http-infra", "dev"), node(1))).toBe(
      "http-infra-dev-proxy-ready-node-1",
    );
  });

  it("is the proxy's name and the node's id when the hostname does not fit 63 characters", () => {
    const names = stackNames("http-infra", "a-rather-long-stack-name-for-a-demo");
    const name = readyServiceName(names, node(1, { hostname: "worker.example.internal.corp" }));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^http-infra-a-rather-long-stack-name-for-a-demo-proxy-nodeid1$/);
  });
});

describe("the platform a check states", () => {
  it("is the one Docker's client adds for an image built for the node: Go's architecture names, none for arm", () => {
    const on = (architecture: string) =>
      imagePlatform(node(1, { platform: { os: "linux", architecture } }));
    expect(on("x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(on("aarch64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(on("armv7l")).toEqual({ os: "linux", architecture: "" });
    expect(on("s390x")).toEqual({ os: "linux", architecture: "s390x" });
  });
});

describe("a check's forceUpdate", () => {
  const name = "http-infra-dev-proxy-ready-node-1";
  const withCheck = (state: string, settled: boolean) =>
    node(1, { state, proxyChecks: { [name]: { forceUpdate: 4, settled } } });

  it("is left to Swarm for a check that does not exist yet", () => {
    expect(checkForceUpdate(node(1), name)).toBeUndefined();
  });

  it("is what Swarm holds while the check has settled, or while its node is not ready", () => {
    expect(checkForceUpdate(withCheck("ready", true), name)).toBe(4);
    expect(checkForceUpdate(withCheck("down", false), name)).toBe(4);
    expect(checkForceUpdate(withCheck("unknown", false), name)).toBe(4);
  });

  it("is raised by one when the node is ready and its check has not settled, so `up` waits for it again", () => {
    expect(checkForceUpdate(withCheck("ready", false), name)).toBe(5);
  });

  it("reads only this check: another stack's check on the node changes nothing", () => {
    const other = node(1, {
      proxyChecks: { "http-infra-prod-proxy-ready-node-1": { forceUpdate: 2, settled: false } },
    });
    expect(checkForceUpdate(other, name)).toBeUndefined();
  });
});

describe("durations the checks send", () => {
  it("are written as the provider reads them back (shortDur), so the next run sees no change", () => {
    expect([45, 60, 150, 180, 601].map(shortDuration)).toEqual([
      "45s",
      "1m",
      "2m30s",
      "3m",
      "10m1s",
    ]);
  });
});

describe("the configuration digest", () => {
  const password = { password: "secret-1" };
  it("changes with the env, the image or the secret, not with the env's order", () => {
    const base = proxyConfigDigest({ A: "1", B: "2" }, "img@sha256:1", password);
    expect(proxyConfigDigest({ B: "2", A: "1" }, "img@sha256:1", password)).toBe(base);
    expect(proxyConfigDigest({ A: "1", B: "3" }, "img@sha256:1", password)).not.toBe(base);
    expect(proxyConfigDigest({ A: "1", B: "2" }, "img@sha256:2", password)).not.toBe(base);
    expect(proxyConfigDigest({ A: "1", B: "2" }, "img@sha256:1", {})).not.toBe(base);
  });

  it("changes with the certificate's or the key's secret, whose names carry their content's hash", () => {
    const tls = (certificate: string, key: string) =>
      proxyConfigDigest({ A: "1" }, "img@sha256:1", { ...password, tls: [certificate, key] });
    const base = tls("cert-1", "key-1");
    expect(tls("cert-1", "key-1")).toBe(base);
    expect(tls("cert-2", "key-1"), "a new certificate").not.toBe(base);
    expect(tls("cert-1", "key-2"), "a new key").not.toBe(base);
    expect(proxyConfigDigest({ A: "1" }, "img@sha256:1", password), "TLS off").not.toBe(base);
  });

  it("is what it was before TLS for a stack without it, so upgrading rolls no proxy task", () => {
    const env = { STATIC_APP_1: "a:80", SERVER_NAME: "demo.res.ch" };
    const before = (secretName: string | null) =>
      createHash("sha256")
        .update(
          JSON.stringify({
            env: [
              ["SERVER_NAME", "demo.res.ch"],
              ["STATIC_APP_1", "a:80"],
            ],
            image: "img@sha256:1",
            secretName,
          }),
        )
        .digest("hex")
        .slice(0, 16);
    expect(proxyConfigDigest(env, "img@sha256:1", password)).toBe(before("secret-1"));
    expect(proxyConfigDigest(env, "img@sha256:1", {})).toBe(before(null));
    expect(proxyConfigDigest(env, "img@sha256:1", { tls: [] })).toBe(before(null));
  });
});

describe("a check's health command", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs the command with stand-ins: getent lists the proxy tasks' addresses, curl answers for
   * each address with the X-Proxy-Config in `reports` (CRLF line ends, as HTTP has), or fails.
   */
  function probe(reports: Record<string, string>, expected = "nodeid2-0123abcd") {
    dir = mkdtempSync(path.join(tmpdir(), "proxy-ready-"));
    const tool = (name: string, body: string) => {
      writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(path.join(dir, name), 0o755);
    };
    const addresses = Object.keys(reports);
    tool(
      "getent",
      `[ "$1 $2" = "ahostsv4 tasks.http-infra-dev-proxy" ] || exit 2\n` +
        addresses.map((ip) => `echo "${ip}      STREAM tasks.http-infra-dev-proxy"`).join("\n"),
    );
    tool(
      "curl",
      `for a in "$@"; do url="$a"; done\necho "$url" >> "${dir}/asked"\ncase "$url" in\n` +
        addresses
          .map(
            (ip) =>
              `  http://${ip}:8080/proxy-healthz) printf 'HTTP/1.1 200 OK\\r\\nX-Proxy-Config: ${reports[ip]}\\r\\n\\r\\n' ;;`,
          )
          .join("\n") +
        `\n  *) exit 7 ;;\nesac`,
    );
    const memo = path.join(dir, "memo");
    const script = readyProbe("http-infra-dev-proxy", expected, 8080, memo);
    const run = () => {
      const result = spawnSync("sh", ["-c", script], {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        encoding: "utf8",
      });
      return result.status;
    };
    const asked = () =>
      readFileSync(path.join(dir, "asked"), "utf8").trim().split("\n").filter(Boolean);
    return { run, asked, memo };
  }

  it("passes when its node's proxy reports the expected configuration, among all the proxies", () => {
    const { run } = probe({
      "10.0.0.3": "nodeid1-0123abcd",
      "10.0.0.4": "nodeid2-0123abcd",
      "10.0.0.5": "nodeid3-0123abcd",
    });
    expect(run()).toBe(0);
  });

  it("fails while its node's proxy still runs the old configuration, or is not there", () => {
    expect(probe({ "10.0.0.3": "nodeid1-0123abcd", "10.0.0.4": "nodeid2-00000000" }).run()).toBe(1);
    expect(probe({ "10.0.0.3": "nodeid1-0123abcd" }).run()).toBe(1);
    // Another node's proxy with the right digest does not count.
    expect(probe({ "10.0.0.3": "nodeid1-0123abcd" }, "nodeid1-0123abc").run()).toBe(1);
  });

  it("remembers its proxy's address: the next probe asks that proxy only", () => {
    const { run, asked, memo } = probe({
      "10.0.0.3": "nodeid1-0123abcd",
      "10.0.0.4": "nodeid2-0123abcd",
    });
    expect(run()).toBe(0);
    expect(readFileSync(memo, "utf8").trim()).toBe("10.0.0.4");
    const before = asked().length;
    expect(run()).toBe(0);
    expect(asked().slice(before)).toEqual(["http://10.0.0.4:8080/proxy-healthz"]);
  });

  it("remembers it on the check's tmpfs by default: the rest of its root filesystem is read-only", () => {
    const script = readyProbe("http-infra-dev-proxy", "nodeid2-0123abcd");
    const written = [...script.matchAll(/> (\S+)/g)].map((m) => m[1]);
    expect(written).toHaveLength(1);
    const writable = WRITABLE_PATHS.proxyCheck.map((p) => `${p.target}/`);
    expect(
      writable.some((dir) => written[0].startsWith(dir)),
      written[0],
    ).toBe(true);
  });
});
