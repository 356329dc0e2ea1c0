// The config rules of src/settings.ts: defaults, one test per rule, and every broken rule reported
// at once. Messages are compared as literal strings: they are what a user reads after `pulumi up`.
import { describe, expect, it } from "vitest";
import { parseIpv4Cidr } from "../../src/addressing";
import { SettingsError, validateSettings, type RawSettings } from "../../src/settings";

/** The problems a SettingsError lists for `raw`; fails the test if `raw` is accepted. */
function problemsOf(raw: RawSettings): string[] {
  try {
    validateSettings(raw);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error(`expected a SettingsError for keys ${Object.keys(raw).join(", ")}`);
}

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const BASE_IMAGE_KEYS = ["staticBaseImage", "dynamicBaseImage", "proxyBaseImage"] as const;

describe("defaults", () => {
  const expectedDefaults = {
    staticBackends: 2,
    dynamicBackends: 2,
    proxyPort: 8080,
    proxyBindAddress: "127.0.0.1",
    serverName: "demo.res.ch",
    networkSubnet: undefined,
    staticBaseImage: "php:8.4-apache-bookworm",
    dynamicBaseImage: "node:22-bookworm-slim",
    proxyBaseImage: "php:8.4-apache-bookworm",
    balancerManagerUser: "admin",
    deployTarget: "containers",
    registry: undefined,
    proxyNodeLabel: undefined,
    proxyMemoryLimitMb: 384,
    staticMemoryLimitMb: 256,
    dynamicMemoryLimitMb: 256,
    proxyCpuLimit: "1.0",
    staticCpuLimit: "1.0",
    dynamicCpuLimit: "1.0",
    balancerManagerPassword: undefined,
    tls: { mode: "off" },
  };

  it("an empty config gets every default", () => {
    expect(validateSettings({})).toEqual(expectedDefaults);
  });

  it("a key that is present but undefined gets its default", () => {
    const allUndefined: Required<Record<keyof RawSettings, undefined>> = {
      staticBackends: undefined,
      dynamicBackends: undefined,
      proxyPort: undefined,
      proxyBindAddress: undefined,
      serverName: undefined,
      acmeCheckInterval: undefined,
      networkSubnet: undefined,
      staticBaseImage: undefined,
      dynamicBaseImage: undefined,
      proxyBaseImage: undefined,
      balancerManagerUser: undefined,
      deployTarget: undefined,
      registry: undefined,
      proxyNodeLabel: undefined,
      proxyMemoryLimitMb: undefined,
      staticMemoryLimitMb: undefined,
      dynamicMemoryLimitMb: undefined,
      proxyCpuLimit: undefined,
      staticCpuLimit: undefined,
      dynamicCpuLimit: undefined,
      balancerManagerPassword: undefined,
      balancerManagerPasswordIsSecret: undefined,
      tlsMode: undefined,
      tlsCertificate: undefined,
      tlsPrivateKey: undefined,
      tlsPrivateKeyIsSecret: undefined,
      acmeDomains: undefined,
      acmeEmail: undefined,
      acmeDirectoryUrl: undefined,
      acmeCaRoot: undefined,
      httpsPort: undefined,
    };
    expect(validateSettings(allUndefined)).toEqual(expectedDefaults);
  });

  it("configured values replace the defaults", () => {
    const configured = {
      staticBackends: 3,
      dynamicBackends: 5,
      proxyPort: 9090,
      proxyBindAddress: "::1",
      serverName: "lab.example.org",
      networkSubnet: "172.28.0.0/24",
      staticBaseImage: "http-infra-base/php-apache:8.4-bookworm",
      dynamicBaseImage: "http-infra-base/node:22-bookworm-slim",
      proxyBaseImage: "registry.example.com:5000/php:8.4-apache",
      balancerManagerUser: "ops",
      balancerManagerPassword: "a long enough secret",
      proxyMemoryLimitMb: 512,
      staticMemoryLimitMb: 64,
      dynamicMemoryLimitMb: 1024,
      proxyCpuLimit: "2.5",
      staticCpuLimit: "0.25",
      dynamicCpuLimit: "3",
    };
    expect(validateSettings(configured)).toEqual({
      ...configured,
      deployTarget: "containers",
      registry: undefined,
      proxyNodeLabel: undefined,
      tls: { mode: "off" },
    });
  });

  it("an empty networkSubnet lets the program pick the subnet", () => {
    expect(validateSettings({ networkSubnet: "" }).networkSubnet).toBeUndefined();
  });

  it("an empty balancerManagerPassword keeps the balancer-manager off", () => {
    expect(
      validateSettings({ balancerManagerPassword: "" }).balancerManagerPassword,
    ).toBeUndefined();
  });
});

describe("one rule each", () => {
  it("staticBackends and dynamicBackends must be integers from 1 to 16", () => {
    for (const key of ["staticBackends", "dynamicBackends"] as const) {
      for (const value of [0, 17, 2.5, -1]) {
        expect(problemsOf({ [key]: value }), `${key} = ${value}`).toEqual([
          `${key} must be an integer from 1 to 16 (got ${value})`,
        ]);
      }
      expect(validateSettings({ [key]: 1 })[key]).toBe(1);
      expect(validateSettings({ [key]: 16 })[key]).toBe(16);
    }
  });

  it("a count that is not a number is reported as NaN (not as null)", () => {
    expect(problemsOf({ dynamicBackends: NaN })).toEqual([
      "dynamicBackends must be an integer from 1 to 16 (got NaN)",
    ]);
  });

  it("proxyPort must be an integer from 1 to 65535", () => {
    for (const value of [0, 65536, 80.5]) {
      expect(problemsOf({ proxyPort: value }), `proxyPort = ${value}`).toEqual([
        `proxyPort must be an integer from 1 to 65535 (got ${value})`,
      ]);
    }
    expect(validateSettings({ proxyPort: 1 }).proxyPort).toBe(1);
    expect(validateSettings({ proxyPort: 65535 }).proxyPort).toBe(65535);
  });

  it("proxyBindAddress must be an IPv4 or IPv6 literal, not a host name", () => {
    expect(problemsOf({ proxyBindAddress: "localhost" })).toEqual([
      'proxyBindAddress must be an IPv4 or IPv6 address such as 127.0.0.1 (got "localhost")',
    ]);
    expect(problemsOf({ proxyBindAddress: "1.2.3" })).toEqual([
      'proxyBindAddress must be an IPv4 or IPv6 address such as 127.0.0.1 (got "1.2.3")',
    ]);
    expect(problemsOf({ proxyBindAddress: "" })).toEqual([
      'proxyBindAddress must be an IPv4 or IPv6 address such as 127.0.0.1 (got "")',
    ]);
    for (const address of ["0.0.0.0", "192.168.1.10", "::1", "::"]) {
      expect(validateSettings({ proxyBindAddress: address }).proxyBindAddress).toBe(address);
    }
  });

  it("serverName must be a DNS host name: no spaces, no underscores, labels of 63 at most, no trailing dot", () => {
    const longLabel = `${"a".repeat(64)}.ch`;
    for (const name of ["demo res.ch", "demo_res.ch", longLabel, "demo.res.ch.", "-demo.ch", ""]) {
      expect(problemsOf({ serverName: name }), name).toEqual([
        `serverName must be a DNS host name (got ${JSON.stringify(name)})`,
      ]);
    }
    for (const name of ["demo.res.ch", "localhost", "Lab-1.Example.ORG", `${"a".repeat(63)}.ch`]) {
      expect(validateSettings({ serverName: name }).serverName).toBe(name);
    }
  });

  it("serverName whose last label is all digits is rejected (the proxy refuses it at start)", () => {
    // docker-images/apache-reverse-proxy/templates/config-validation.php (isHostname) rejects a
    // name whose last label is numeric; accepting it here fails `pulumi up` only at the proxy.
    for (const name of ["10.0.0.1", "10.0.0.10", "8080", "demo.2024"]) {
      expect(problemsOf({ serverName: name }), name).toEqual([
        `serverName must be a DNS host name (got ${JSON.stringify(name)})`,
      ]);
    }
  });

  it("serverName may have all-digit labels before the last one", () => {
    for (const name of ["123.example.org", "lab.2024.example.org"]) {
      expect(validateSettings({ serverName: name }).serverName).toBe(name);
    }
  });

  it("a serverName with trailing characters is refused, naming serverName", () => {
    for (const name of ["demo.res.ch:8080", "demo.res.ch/", "demo.res.ch ", "demo.res.ch\n"]) {
      expect(problemsOf({ serverName: name }), JSON.stringify(name)).toEqual([
        `serverName must be a DNS host name (got ${JSON.stringify(name)})`,
      ]);
    }
  });

  it("serverName may be 253 characters long, not 254, and its labels one character", () => {
    const labels = (last: number) =>
      [..."abc"]
        .map((letter) => letter.repeat(63))
        .concat("d".repeat(last))
        .join(".");
    expect(labels(61)).toHaveLength(253);
    expect(validateSettings({ serverName: labels(61) }).serverName).toBe(labels(61));
    expect(problemsOf({ serverName: labels(62) })).toEqual([
      `serverName must be a DNS host name (got "${labels(62)}")`,
    ]);
    expect(validateSettings({ serverName: "a.b.ch" }).serverName).toBe("a.b.ch");
  });

  it("networkSubnet must be an IPv4 CIDR", () => {
    for (const subnet of ["172.28.0.0", "172.28.0.0/33", "300.28.0.0/24", "fd00::/64", "x"]) {
      expect(problemsOf({ networkSubnet: subnet }), subnet).toEqual([
        `networkSubnet must be an IPv4 CIDR such as 172.28.0.0/24 (got ${JSON.stringify(subnet)})`,
      ]);
    }
    expect(validateSettings({ networkSubnet: "10.200.0.0/16" }).networkSubnet).toBe(
      "10.200.0.0/16",
    );
  });

  it("networkSubnet must start on its network boundary (no host bits set)", () => {
    expect(problemsOf({ networkSubnet: "172.28.0.1/24" })).toEqual([
      'networkSubnet must start on its network boundary (got "172.28.0.1/24": host bits are set)',
    ]);
  });

  it("networkSubnet must be a /8 to a /25: the stack's fixed addresses fill at most half of a /25", () => {
    for (const subnet of ["172.28.0.0/26", "172.28.0.0/30", "172.28.0.7/32", "10.0.0.0/7"]) {
      expect(problemsOf({ networkSubnet: subnet }).at(-1), subnet).toBe(
        `networkSubnet must be from a /8 to a /25 (got ${JSON.stringify(subnet)}): its lower half ` +
          "holds the stack's fixed addresses, its upper half other containers",
      );
    }
    expect(problemsOf({ networkSubnet: "0.0.0.0/0" })).toHaveLength(1);
    // A /25 has 64 addresses in its lower half: room for the proxy and 16 + 16 backends.
    expect(validateSettings({ networkSubnet: "172.28.0.128/25" }).networkSubnet).toBe(
      "172.28.0.128/25",
    );
    expect(validateSettings({ networkSubnet: "10.0.0.0/8" }).networkSubnet).toBe("10.0.0.0/8");
  });

  it("each base image must be a Docker image reference: no spaces, lower-case repository", () => {
    for (const key of BASE_IMAGE_KEYS) {
      for (const image of ["php 8.4", "PHP:8.4-apache-bookworm", "", "php:", "php@sha256:abc"]) {
        expect(problemsOf({ [key]: image }), `${key} = ${image}`).toEqual([
          `${key} must be a Docker image reference such as php:8.4-apache-bookworm (got ${JSON.stringify(image)})`,
        ]);
      }
    }
  });

  it("a base image may name a registry with a port, a path, a tag and a sha256 digest", () => {
    const accepted = [
      "php:8.4-apache-bookworm",
      "node",
      "registry.example.com:5000/team/php:8.4-apache_v2",
      "localhost:5000/http-infra-base/node:22-bookworm-slim",
      `php@${DIGEST}`,
      `docker.io/library/php:8.4-apache-bookworm@${DIGEST}`,
      // Separators inside the second and later path components.
      "ghcr.io/http-infra/php-apache.base_8:8.4",
      // A registry host in punycode (bücher.example) holds a double dash, which no path has.
      "xn--bcher-kva.example/php:8.4",
      "r.example:5000/php",
      "10.0.0.1:5000/php",
    ];
    for (const key of BASE_IMAGE_KEYS) {
      for (const image of accepted) {
        expect(validateSettings({ [key]: image })[key], `${key} = ${image}`).toBe(image);
      }
    }
  });

  it("a base image's registry must be a host name or IPv4 address, with a port of digits", () => {
    // Docker refuses these too (distribution/reference: a domain component starts and ends with a
    // letter or digit), but only when it builds the image, long after the program could name the key.
    const refused = [
      "-registry.example.com/php",
      "registry-.example.com:5000/php",
      "registry..example.com/php",
      "registry.example.com:/php",
      "registry.example.com:50a0/php",
    ];
    for (const image of refused) {
      expect(problemsOf({ proxyBaseImage: image }), image).toEqual([
        `proxyBaseImage must be a Docker image reference such as php:8.4-apache-bookworm (got ${JSON.stringify(image)})`,
      ]);
    }
  });

  it("balancerManagerUser must be 1 to 64 letters, digits, dots, dashes or underscores", () => {
    for (const user of ["ad min", "ad:min", "", "a".repeat(65), "admin\n"]) {
      expect(problemsOf({ balancerManagerUser: user }), JSON.stringify(user)).toEqual([
        `balancerManagerUser must be 1 to 64 letters, digits, dots, dashes or underscores (got ${JSON.stringify(user)})`,
      ]);
    }
    expect(validateSettings({ balancerManagerUser: "ops.team_1-a" }).balancerManagerUser).toBe(
      "ops.team_1-a",
    );
  });

  it("balancerManagerUser must start with a letter or digit (the proxy refuses it at start)", () => {
    // The proxy's check is /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/ (config-validation.php).
    for (const user of ["-admin", ".admin", "_admin"]) {
      expect(problemsOf({ balancerManagerUser: user }), user).toEqual([
        `balancerManagerUser must start with a letter or digit (got ${JSON.stringify(user)})`,
      ]);
    }
  });

  it("balancerManagerPassword must be at least 12 characters, and the message never shows it", () => {
    const password = "hunter2-pw";
    const problems = problemsOf({ balancerManagerPassword: password });
    expect(problems).toEqual(["balancerManagerPassword must be at least 12 characters (got 10)"]);
    const error = (() => {
      try {
        validateSettings({ balancerManagerPassword: password });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("expected a SettingsError");
    })();
    expect(error.message).not.toContain(password);
    expect(
      validateSettings({ balancerManagerPassword: "exactly12chr" }).balancerManagerPassword,
    ).toBe("exactly12chr");
  });

  it("balancerManagerPassword must not contain line breaks or NUL, and the message never shows it", () => {
    for (const password of [
      "correct horse\nbattery",
      "correct horse\rbattery",
      "correct\0horsebattery",
    ]) {
      const problems = problemsOf({ balancerManagerPassword: password });
      expect(problems, JSON.stringify(password)).toEqual([
        "balancerManagerPassword must not contain line breaks or NUL characters",
      ]);
      expect(problems.join("\n")).not.toContain("horse");
    }
  });

  it("balancerManagerPassword must not contain other control characters (the proxy refuses them at start)", () => {
    // The proxy rejects /[\x00-\x1f\x7f]/ (config-validation.php); a tab passes this check today.
    for (const password of ["correct\thorsebattery", "correct\x7fhorsebattery"]) {
      const problems = problemsOf({ balancerManagerPassword: password });
      expect(problems, JSON.stringify(password)).toEqual([
        "balancerManagerPassword must not contain control characters such as tabs",
      ]);
    }
  });

  it("balancerManagerPassword must be at most 72 bytes (bcrypt ignores the rest; the proxy refuses it)", () => {
    const problems = problemsOf({ balancerManagerPassword: "p".repeat(73) });
    expect(problems).toEqual([
      "balancerManagerPassword must be at most 72 bytes (bcrypt ignores the rest)",
    ]);
    // 24 three-byte characters are 72 bytes: accepted.
    expect(
      validateSettings({ balancerManagerPassword: "€".repeat(24) }).balancerManagerPassword,
    ).toBe("€".repeat(24));
  });
});

describe("limits", () => {
  const MEMORY_KEYS = [
    "proxyMemoryLimitMb",
    "staticMemoryLimitMb",
    "dynamicMemoryLimitMb",
  ] as const;
  const CPU_KEYS = ["proxyCpuLimit", "staticCpuLimit", "dynamicCpuLimit"] as const;

  it("each memory limit must be an integer number of MiB from 32 to 1048576", () => {
    for (const key of MEMORY_KEYS) {
      for (const value of [31, 0, -256, 128.5, 1_048_577, NaN]) {
        expect(problemsOf({ [key]: value }), `${key} = ${value}`).toEqual([
          `${key} must be an integer from 32 to 1048576 (got ${value})`,
        ]);
      }
      expect(validateSettings({ [key]: 32 })[key]).toBe(32);
      expect(validateSettings({ [key]: 1_048_576 })[key]).toBe(1_048_576);
    }
  });

  it("each CPU limit must be a number of CPUs from 0.01 to 256, to the hundredth", () => {
    for (const key of CPU_KEYS) {
      for (const value of [
        "0",
        "0.001",
        "1.125",
        "-1",
        "1,5",
        " 1",
        "1.",
        ".5",
        "01",
        "257",
        "1e2",
        "",
      ]) {
        expect(problemsOf({ [key]: value }), `${key} = ${value}`).toEqual([
          `${key} must be a number of CPUs from 0.01 to 256, to the hundredth, such as 1.5 (got ${JSON.stringify(value)})`,
        ]);
      }
      for (const value of ["0.1", "0.5", "1", "1.0", "2.25", "10", "256"]) {
        expect(validateSettings({ [key]: value })[key], `${key} = ${value}`).toBe(value);
      }
    }
  });

  it("a CPU limit the Docker provider reads back as another number is refused, naming the key", () => {
    // terraform-provider-docker helpers.go nanoInt64ToDecimalString rounds these to one decimal.
    expect(problemsOf({ staticCpuLimit: "0.05" })).toEqual([
      "staticCpuLimit 0.05 is read back by the Docker provider as 0.1 CPUs, which would replace " +
        "the container on every run; use a value it keeps, such as 0.1",
    ]);
    expect(problemsOf({ dynamicCpuLimit: "0.01" })).toEqual([
      "dynamicCpuLimit 0.01 is read back by the Docker provider as 0.0 CPUs, which would replace " +
        "the container on every run; use a value it keeps, such as 0.1",
    ]);
    expect(problemsOf({ proxyCpuLimit: "10.05" })).toEqual([
      "proxyCpuLimit 10.05 is read back by the Docker provider as 10.1 CPUs, which would replace " +
        "the container on every run; use a value it keeps, such as 10.1",
    ]);
  });

  it("a CPU limit set as a number in the stack's config (not a string) is refused, naming the key", () => {
    expect(problemsOf({ proxyCpuLimit: 2 as unknown as string })).toEqual([
      "proxyCpuLimit must be a number of CPUs from 0.01 to 256, to the hundredth, such as 1.5 (got 2)",
    ]);
  });
});

describe("the swarm-only keys", () => {
  const SWARM = { deployTarget: "swarm" } as const;

  it("deployTarget must be containers or swarm, spelled so", () => {
    for (const target of ["kubernetes", "Swarm", ""]) {
      expect(problemsOf({ deployTarget: target }), target).toEqual([
        `deployTarget must be one of containers, swarm (got ${JSON.stringify(target)})`,
      ]);
    }
  });

  it("registry and proxyNodeLabel are refused with deployTarget containers, naming each", () => {
    expect(problemsOf({ registry: "127.0.0.1:5000", proxyNodeLabel: "edge=true" })).toEqual([
      'registry is only used with deployTarget swarm (got "127.0.0.1:5000")',
      'proxyNodeLabel is only used with deployTarget swarm (got "edge=true")',
    ]);
  });

  it("a swarm keeps its registry and proxy node label; empty values mean none", () => {
    expect(
      validateSettings({ ...SWARM, registry: "127.0.0.1:5000", proxyNodeLabel: "edge=true" }),
    ).toMatchObject({
      deployTarget: "swarm",
      registry: "127.0.0.1:5000",
      proxyNodeLabel: "edge=true",
    });
    for (const deployTarget of ["containers", "swarm"]) {
      expect(validateSettings({ deployTarget, registry: "", proxyNodeLabel: "" })).toMatchObject({
        registry: undefined,
        proxyNodeLabel: undefined,
      });
    }
  });

  it("registry must be a host name or IPv4 address with an optional port: no scheme, no path", () => {
    const refused = [
      "http://127.0.0.1:5000",
      "127.0.0.1:5000/v2",
      "127.0.0.1:",
      "127.0.0.1:123456",
      "127.0.0.1:port",
      "-registry.local",
      "registry-.local",
      "registry..local",
      "Registry.local",
      `${"r".repeat(64)}.local`,
    ];
    for (const registry of refused) {
      expect(problemsOf({ ...SWARM, registry }), registry).toEqual([
        "registry must be a registry host with an optional port, such as 127.0.0.1:5000 " +
          `(got ${JSON.stringify(registry)})`,
      ]);
    }
    const accepted = [
      "127.0.0.1:5000",
      "localhost",
      "registry.example.com",
      "r.example:443",
      "my-registry.internal",
      `${"r".repeat(63)}.local:65535`,
    ];
    for (const registry of accepted) {
      expect(validateSettings({ ...SWARM, registry }).registry, registry).toBe(registry);
    }
  });

  it("proxyNodeLabel must be key=value: a lower-case key, a value without spaces, 128 characters each", () => {
    const refused = [
      "edge",
      "edge=",
      "=true",
      "Edge=true",
      "-edge=true",
      "edge.=true",
      "edge =true",
      "edge=true false",
      "edge=true=1",
      `${"k".repeat(129)}=v`,
      `k=${"v".repeat(129)}`,
    ];
    for (const proxyNodeLabel of refused) {
      expect(problemsOf({ ...SWARM, proxyNodeLabel }), proxyNodeLabel).toEqual([
        "proxyNodeLabel must be a node label as key=value, such as http-infra.proxy=true " +
          `(got ${JSON.stringify(proxyNodeLabel)})`,
      ]);
    }
    const accepted = [
      "edge=true",
      "x=1",
      "http-infra.proxy=true",
      "node.role_1=Proxy-A.b_c",
      `${"k".repeat(128)}=${"v".repeat(128)}`,
    ];
    for (const proxyNodeLabel of accepted) {
      expect(validateSettings({ ...SWARM, proxyNodeLabel }).proxyNodeLabel, proxyNodeLabel).toBe(
        proxyNodeLabel,
      );
    }
  });

  it("proxyBindAddress can't be set with deployTarget swarm: a swarm publishes on every interface", () => {
    expect(problemsOf({ ...SWARM, proxyBindAddress: "0.0.0.0" })).toEqual([
      'proxyBindAddress can\'t be set with deployTarget swarm (got "0.0.0.0"): a swarm publishes ' +
        "the proxy's port on every interface of each node; firewall the nodes instead",
    ]);
    expect(validateSettings(SWARM).proxyBindAddress).toBe("127.0.0.1");
  });
});

describe("several broken rules", () => {
  it("are reported together in one SettingsError, in key order, naming each key", () => {
    let caught: unknown;
    try {
      validateSettings({
        staticBackends: 0,
        proxyPort: 70000,
        serverName: "bad name",
        proxyBaseImage: "Bad Image",
        balancerManagerPassword: "hunter2",
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SettingsError);
    expect(caught).toBeInstanceOf(Error);
    const error = caught as SettingsError;
    expect(error.name).toBe("SettingsError");
    expect(error.problems).toEqual([
      "staticBackends must be an integer from 1 to 16 (got 0)",
      "proxyPort must be an integer from 1 to 65535 (got 70000)",
      'serverName must be a DNS host name (got "bad name")',
      'proxyBaseImage must be a Docker image reference such as php:8.4-apache-bookworm (got "Bad Image")',
      "balancerManagerPassword must be at least 12 characters (got 7)",
    ]);
    expect(error.message).toBe(
      "invalid configuration:\n" +
        "  - staticBackends must be an integer from 1 to 16 (got 0)\n" +
        "  - proxyPort must be an integer from 1 to 65535 (got 70000)\n" +
        '  - serverName must be a DNS host name (got "bad name")\n' +
        '  - proxyBaseImage must be a Docker image reference such as php:8.4-apache-bookworm (got "Bad Image")\n' +
        "  - balancerManagerPassword must be at least 12 characters (got 7)",
    );
    expect(error.message).not.toContain("hunter2");
  });
});

describe("the HTTPS keys go through the TLS rules (src/tls.ts, tested in tls.test.ts)", () => {
  const acme = {
    tlsMode: "acme",
    acmeDomains: "www.example.org",
    acmeEmail: "ops@example.org",
    acmeCheckInterval: 60,
  };

  it("hands every TLS key to validateTls and keeps its answer", () => {
    expect(validateSettings(acme).tls).toEqual({
      mode: "acme",
      httpsPort: 8443,
      domains: ["www.example.org"],
      email: "ops@example.org",
      directoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
      caRoot: undefined,
      checkIntervalSeconds: 60,
    });
    expect(problemsOf({ tlsMode: "given" })).toEqual([
      "tlsCertificate must be set with tlsMode given: the PEM chain, leaf first",
      "tlsPrivateKey must be set with tlsMode given: `pulumi config set --secret tlsPrivateKey < key.pem`",
    ]);
  });

  it("checks httpsPort against the validated proxyPort, and ACME against the deploy target", () => {
    expect(problemsOf({ ...acme, proxyPort: 9000, httpsPort: 9000 })).toEqual([
      "httpsPort must differ from proxyPort (both 9000): plain HTTP stays on proxyPort to redirect to HTTPS",
    ]);
    expect(problemsOf({ ...acme, deployTarget: "swarm" })).toEqual([
      expect.stringMatching(/^tlsMode acme can't be used with deployTarget swarm: /),
    ]);
  });
});

describe("the balancer-manager password's storage", () => {
  it("a password stored in plain text is refused, without echoing it", () => {
    const problems = problemsOf({
      balancerManagerPassword: "a-long-enough-password",
      balancerManagerPasswordIsSecret: false,
    });
    expect(problems).toEqual([
      "balancerManagerPassword is stored in plain text in the stack's config; set it again with " +
        "`pulumi config set --secret balancerManagerPassword <password>`",
    ]);
    expect(problems.join("\n")).not.toContain("a-long-enough-password");
  });

  it("a secret password, or none, is accepted", () => {
    const settings = validateSettings({
      balancerManagerPassword: "a-long-enough-password",
      balancerManagerPasswordIsSecret: true,
    });
    expect(settings.balancerManagerPassword).toBe("a-long-enough-password");
    expect(settings).not.toHaveProperty("balancerManagerPasswordIsSecret");
    expect(
      validateSettings({ balancerManagerPasswordIsSecret: false }).balancerManagerPassword,
    ).toBeUndefined();
  });
});

describe("parseIpv4Cidr", () => {
  it("returns the network address as a number and the prefix length", () => {
    expect(parseIpv4Cidr("172.28.0.0/24")).toEqual({ address: 2_887_516_160, prefix: 24 });
    expect(parseIpv4Cidr("10.0.0.0/8")).toEqual({ address: 167_772_160, prefix: 8 });
    expect(parseIpv4Cidr("255.255.255.255/32")).toEqual({ address: 4_294_967_295, prefix: 32 });
    expect(parseIpv4Cidr("0.0.0.0/0")).toEqual({ address: 0, prefix: 0 });
  });

  it("returns undefined for anything that is not a.b.c.d/0..32", () => {
    for (const text of [
      "172.28.0.0",
      "172.28.0.0/33",
      "172.28.0.0/",
      "256.0.0.0/8",
      "1.2.3/8",
      "1.2.3.4.5/8",
      " 10.0.0.0/8",
      "10.0.0.0/8 ",
      "fd00::/64",
      "",
    ]) {
      expect(parseIpv4Cidr(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});
