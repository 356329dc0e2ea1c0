// The e2e suites' least-privilege check (test/support/cisCheck.ts) on made-up `docker inspect`
// answers: a container that follows every rule passes; breaking any one rule fails the check,
// naming the container and the rule; exceptions apply only on their own target and are explained
// in docs/security.md.
import type Docker from "dockerode";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkLeastPrivilege,
  EXCEPTIONS,
  formatFindings,
  ROLE_EXCEPTIONS,
  roleOf,
  RULES,
  type InspectedContainer,
  type StackExpectation,
} from "../support/cisCheck";

const STACK: StackExpectation = {
  target: "containers",
  proxyPort: 8080,
  proxyBindAddress: "127.0.0.1",
};

/** The parts of `docker inspect`'s answer the rules read, typed loosely enough to break them. */
interface InspectFixture {
  Name: string;
  Config: {
    User: string;
    Healthcheck: { Test: string[] };
    ExposedPorts: Record<string, object>;
    Cmd?: string[];
  };
  HostConfig: {
    Privileged: boolean;
    CapAdd: string[] | null;
    CapDrop: string[];
    ReadonlyRootfs: boolean;
    Binds: string[] | null;
    Mounts: { Type: string; Target: string }[];
    SecurityOpt: string[];
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    PidsLimit: number | null;
    LogConfig: { Type: string; Config: Record<string, string> };
    NetworkMode: string;
    PidMode: string;
    IpcMode: string;
    UTSMode: string;
    UsernsMode: string;
    Devices: unknown[];
    CgroupParent: string;
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
    RestartPolicy: { Name: string; MaximumRetryCount?: number };
  };
  Mounts: { Type: string; Name?: string; Destination: string }[];
}

/** What `docker inspect` shows for a container deployed the way the program deploys it. */
function inspected(
  role: InspectedContainer["role"],
  edit: (info: InspectFixture) => void = () => {},
) {
  const info: InspectFixture = {
    Name: `/http-infra-dev-${role}`,
    Config: {
      User: role === "dynamic" ? "node" : "www-data",
      Healthcheck: { Test: ["CMD", "curl", "http://127.0.0.1:8080/healthz"] },
      ExposedPorts: { [role === "dynamic" ? "3000/tcp" : "8080/tcp"]: {} },
    },
    HostConfig: {
      Privileged: false,
      CapAdd: null,
      CapDrop: ["ALL"],
      ReadonlyRootfs: true,
      Binds: null,
      Mounts: [{ Type: "tmpfs", Target: "/run/apache2" }],
      SecurityOpt: ["no-new-privileges:true"],
      Memory: 268435456,
      MemorySwap: 268435456,
      NanoCpus: 1e9,
      PidsLimit: 512,
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      NetworkMode: "http-infra-dev-net",
      PidMode: "",
      IpcMode: "private",
      UTSMode: "",
      UsernsMode: "",
      Devices: [],
      CgroupParent: "",
      PortBindings:
        role === "proxy" ? { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] } : {},
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 5 },
    },
    Mounts: [{ Type: "tmpfs", Destination: "/run/apache2" }],
  };
  edit(info);
  return {
    name: info.Name.slice(1),
    role,
    info: info as unknown as Docker.ContainerInspectInfo,
  };
}

const failuresOf = (containers: InspectedContainer[], stack = STACK) =>
  formatFindings(checkLeastPrivilege(containers, stack).failures);

describe("the least-privilege check", () => {
  it("passes a stack whose every container follows every rule", () => {
    expect(failuresOf([inspected("proxy"), inspected("static"), inspected("dynamic")])).toEqual([]);
  });

  // One edit per rule, each breaking that rule only.
  const breaking: Record<string, [InspectedContainer["role"], (info: InspectFixture) => void]> = {
    "user-not-root": ["static", (i) => (i.Config.User = "")],
    healthcheck: ["dynamic", (i) => (i.Config.Healthcheck = { Test: ["NONE"] })],
    "not-privileged": ["proxy", (i) => (i.HostConfig.Privileged = true)],
    "capabilities-dropped": ["proxy", (i) => (i.HostConfig.CapAdd = ["NET_BIND_SERVICE"])],
    "read-only-root": ["proxy", (i) => (i.HostConfig.ReadonlyRootfs = false)],
    "declared-mounts-only": [
      "static",
      (i) => (i.HostConfig.Binds = ["/var/run/docker.sock:/var/run/docker.sock"]),
    ],
    "no-new-privileges": ["dynamic", (i) => (i.HostConfig.SecurityOpt = [])],
    "default-seccomp-apparmor": [
      "dynamic",
      (i) => i.HostConfig.SecurityOpt.push("seccomp=unconfined"),
    ],
    "memory-limit": ["static", (i) => (i.HostConfig.Memory = i.HostConfig.MemorySwap = 0)],
    "no-swap-on-top": ["static", (i) => (i.HostConfig.MemorySwap = 536870912)],
    "cpu-limit": ["dynamic", (i) => (i.HostConfig.NanoCpus = 0)],
    "pids-limit": ["dynamic", (i) => (i.HostConfig.PidsLimit = null)],
    "log-rotation": ["proxy", (i) => (i.HostConfig.LogConfig.Config = {})],
    "no-host-namespaces": ["static", (i) => (i.HostConfig.PidMode = "host")],
    "no-host-devices": ["static", (i) => (i.HostConfig.Devices = [{ PathOnHost: "/dev/sda" }])],
    "default-cgroup": ["dynamic", (i) => (i.HostConfig.CgroupParent = "/elsewhere")],
    "unprivileged-ports": [
      "proxy",
      (i) =>
        (i.HostConfig.PortBindings = { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] }),
    ],
    "only-proxy-publishes": [
      "static",
      (i) => (i.HostConfig.PortBindings = { "8080/tcp": [{ HostIp: "", HostPort: "8081" }] }),
    ],
    "published-on-one-address": [
      "proxy",
      (i) => (i.HostConfig.PortBindings["8080/tcp"][0].HostIp = "0.0.0.0"),
    ],
    "restart-on-failure-5": ["proxy", (i) => (i.HostConfig.RestartPolicy = { Name: "always" })],
  };

  it("has a breaking case for every rule", () => {
    expect(Object.keys(breaking).sort()).toEqual(RULES.map((rule) => rule.id).sort());
  });

  for (const [rule, [role, edit]] of Object.entries(breaking)) {
    it(`fails a container that breaks ${rule}, naming the container and the rule`, () => {
      // Excepted or not: every rule must be able to fail.
      const { failures, excepted } = checkLeastPrivilege([inspected(role, edit)], STACK);
      expect([...failures, ...excepted].map((f) => `${f.container} ${f.rule}`)).toEqual([
        `http-infra-dev-${role} ${rule}`,
      ]);
    });
  }

  it("reads as the container, the rule, its CIS number and why", () => {
    const proxy = inspected("proxy", (i) => (i.HostConfig.ReadonlyRootfs = false));
    expect(failuresOf([proxy])).toEqual([
      "http-infra-dev-proxy breaks read-only-root (CIS 5.12): has a writable root filesystem",
    ]);
  });

  it("excepts a rule only on the targets that state the exception", () => {
    const noNewPrivileges = inspected("static", (i) => (i.HostConfig.SecurityOpt = []));
    expect(failuresOf([noNewPrivileges])).toEqual([
      "http-infra-dev-static breaks no-new-privileges (CIS 5.25): security options [] lack no-new-privileges",
    ]);
    const swarm = { target: "swarm", proxyPort: 8080 } as const;
    const result = checkLeastPrivilege([noNewPrivileges], swarm);
    expect(result.failures).toEqual([]);
    expect(result.excepted.map((f) => f.rule)).toContain("no-new-privileges");
  });

  it("lets the proxy mount volumes at its certificate files and ACME store, and nothing else", () => {
    const proxy = inspected("proxy", (i) => {
      i.HostConfig.Binds = ["http-infra-dev-acme:/var/lib/apache2/md:rw"];
      i.Mounts.push(
        { Type: "volume", Name: "0123abcd", Destination: "/etc/apache2/tls" },
        { Type: "volume", Name: "http-infra-dev-acme", Destination: "/var/lib/apache2/md" },
      );
    });
    expect(failuresOf([proxy])).toEqual([]);
    const elsewhere = inspected("proxy", (i) => {
      i.Mounts.push({ Type: "volume", Name: "0123abcd", Destination: "/etc/apache2" });
    });
    expect(failuresOf([elsewhere])).toEqual([
      "http-infra-dev-proxy breaks declared-mounts-only (CIS 5.5, 5.31): mounts [volume:/etc/apache2]",
    ]);
    const member = inspected("static", (i) => {
      i.Mounts.push({ Type: "volume", Name: "0123abcd", Destination: "/etc/apache2/tls" });
    });
    expect(failuresOf([member])).toEqual([
      "http-infra-dev-static breaks declared-mounts-only (CIS 5.5, 5.31): mounts [volume:/etc/apache2/tls]",
    ]);
    const hostPath = inspected("proxy", (i) => {
      i.HostConfig.Binds = ["/srv/md:/var/lib/apache2/md:rw"];
    });
    expect(failuresOf([hostPath])).toEqual([
      "http-infra-dev-proxy breaks declared-mounts-only (CIS 5.5, 5.31): mounts [bind:/var/lib/apache2/md]",
    ]);
  });

  it("excepts the certificate files' holder from read-only-root and the restart rule only: it is never started", () => {
    const holder = inspected("tls-files", (i) => {
      i.HostConfig.ReadonlyRootfs = false;
      i.HostConfig.RestartPolicy = { Name: "no" };
      i.HostConfig.Mounts = [];
      i.Mounts = [{ Type: "volume", Name: "http-infra-dev-tls", Destination: "/etc/apache2/tls" }];
    });
    const { failures, excepted } = checkLeastPrivilege([holder], STACK);
    expect(failures).toEqual([]);
    expect(excepted.map((f) => f.rule).sort()).toEqual(["read-only-root", "restart-on-failure-5"]);
    // Any other rule still holds for it, and the exception is the holder's alone.
    const privileged = inspected("tls-files", (i) => (i.HostConfig.CapDrop = []));
    expect(failuresOf([privileged])).toEqual([
      "http-infra-dev-tls-files breaks capabilities-dropped (CIS 5.3): drops [], not ALL",
    ]);
    const writableProxy = inspected("proxy", (i) => (i.HostConfig.ReadonlyRootfs = false));
    expect(failuresOf([writableProxy])).toHaveLength(1);
  });

  it("with HTTPS on, the proxy publishes its HTTPS port beside proxyPort, and no other", () => {
    const https = { ...STACK, httpsPort: 8443 };
    const both = inspected("proxy", (i) => {
      i.HostConfig.PortBindings["8443/tcp"] = [{ HostIp: "127.0.0.1", HostPort: "8443" }];
    });
    expect(failuresOf([both], https)).toEqual([]);
    expect(failuresOf([both])).toEqual([
      "http-infra-dev-proxy breaks only-proxy-publishes (CIS 5.8): publishes [8080,8443], not only [8080]",
    ]);
    expect(failuresOf([inspected("proxy")], https)).toEqual([
      "http-infra-dev-proxy breaks only-proxy-publishes (CIS 5.8): publishes [8080], not only [8080,8443]",
    ]);
  });

  it("names a swarm task's role from its service: members, the proxy, and the proxy's checks", () => {
    const prefix = "http-infra-swarm";
    expect(
      [
        "http-infra-swarm-proxy",
        "http-infra-swarm-static-1",
        "http-infra-swarm-dynamic-12",
        "http-infra-swarm-proxy-ready-node-1",
        "http-infra-swarm-proxy-nodeid1",
        "http-infra-swarm-static",
        "http-infra-swarm-static-1x",
        "http-infra-other-proxy",
        "other-http-infra-swarm-static-1",
      ].map((service) => roleOf(service, prefix)),
    ).toEqual([
      "proxy",
      "static",
      "dynamic",
      "proxy-check",
      "proxy-check",
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("holds a proxy check to every rule, as a member (it publishes nothing)", () => {
    const check = inspected("proxy-check", (i) => {
      i.Config.Cmd = ["sh", "-c", "sleep infinity"];
      i.HostConfig.Mounts = [{ Type: "tmpfs", Target: "/tmp" }];
    });
    expect(failuresOf([check])).toEqual([]);
    const publishing = inspected("proxy-check", (i) => {
      i.HostConfig.PortBindings = { "8080/tcp": [{ HostIp: "", HostPort: "8080" }] };
    });
    expect(failuresOf([publishing])).toEqual([
      "http-infra-dev-proxy-check breaks only-proxy-publishes (CIS 5.8): publishes [8080]",
    ]);
  });

  it("every exception and every rule is explained in docs/security.md", () => {
    const doc = readFileSync(path.join(__dirname, "..", "..", "docs", "security.md"), "utf8");
    for (const rule of RULES) expect(doc, `rule ${rule.id}`).toContain(`\`${rule.id}\``);
    for (const [target, exceptions] of [
      ...Object.entries(EXCEPTIONS),
      ...Object.entries(ROLE_EXCEPTIONS),
    ]) {
      for (const rule of Object.keys(exceptions)) {
        expect(
          RULES.map((r) => r.id),
          `${target} exception ${rule}`,
        ).toContain(rule);
        const section = doc.slice(doc.indexOf("## Exceptions"));
        expect(section, `${target} exception ${rule} in "## Exceptions"`).toContain(`\`${rule}\``);
      }
    }
  });
});
