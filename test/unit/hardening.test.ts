// The pure rules of least privilege (src/hardening.ts) and of CPU limits as the Docker provider
// reads them back (src/cpuLimit.ts): what every container and task gets, before any resource.
import { describe, expect, it } from "vitest";
import { cpusAsProviderReadsThem, nanoCpus, providerKeepsCpus } from "../../src/cpuLimit";
import {
  DROPPED_CAPABILITIES,
  LOG_DRIVER,
  PROXY_CHECK_LIMITS,
  runtimeLimits,
  tmpfsMounts,
  WRITABLE_PATHS,
} from "../../src/hardening";
import { validateSettings } from "../../src/settings";

const MiB = 1024 * 1024;

describe("CPU limits as the provider reads them back (nanoInt64ToDecimalString)", () => {
  it("nanoCpus is billionths of a CPU, rounded to a whole number", () => {
    expect(nanoCpus(1)).toBe(1_000_000_000);
    expect(nanoCpus(1.5)).toBe(1_500_000_000);
    // 0.1 × 1e9 is 100000000.00000001 in floating point.
    expect(nanoCpus(0.1)).toBe(100_000_000);
    expect(nanoCpus(0.29)).toBe(290_000_000);
    expect(nanoCpus(0)).toBe(0);
  });

  it("keeps nine decimals, trailing zeros cut", () => {
    expect(cpusAsProviderReadsThem(1.5)).toBe("1.5");
    expect(cpusAsProviderReadsThem(2.25)).toBe("2.25");
    expect(cpusAsProviderReadsThem(0.15)).toBe("0.15");
    expect(cpusAsProviderReadsThem(1.05)).toBe("1.05");
    expect(cpusAsProviderReadsThem(0.95)).toBe("0.95");
    expect(cpusAsProviderReadsThem(0.000000011)).toBe("0.000000011");
    // No zero at all.
    expect(cpusAsProviderReadsThem(1.123456789)).toBe("1.123456789");
    // Ten CPUs: one zero in "10" besides the nine decimals, so no rounding, and the dot stays.
    expect(cpusAsProviderReadsThem(10)).toBe("10.");
    expect(cpusAsProviderReadsThem(100)).toBe("100.");
  });

  it("rounds to one decimal, halves away from zero, when the nine-decimal string holds exactly nine zeros", () => {
    expect(cpusAsProviderReadsThem(1)).toBe("1.0");
    expect(cpusAsProviderReadsThem(2)).toBe("2.0");
    expect(cpusAsProviderReadsThem(0.5)).toBe("0.5");
    expect(cpusAsProviderReadsThem(0.05)).toBe("0.1");
    expect(cpusAsProviderReadsThem(0.06)).toBe("0.1");
    expect(cpusAsProviderReadsThem(0.04)).toBe("0.0");
    expect(cpusAsProviderReadsThem(0.01)).toBe("0.0");
    expect(cpusAsProviderReadsThem(10.05)).toBe("10.1");
    expect(cpusAsProviderReadsThem(20.05)).toBe("20.1");
    // One billionth: "0.000000001" holds nine zeros too.
    expect(cpusAsProviderReadsThem(0.000000001)).toBe("0.0");
    expect(cpusAsProviderReadsThem(0)).toBe("0");
  });

  it("a limit is kept only when it reads back as the same number", () => {
    for (const kept of [0.1, 0.25, 0.95, 1, 1.5, 2.25, 10, 256]) {
      expect(providerKeepsCpus(kept), String(kept)).toBe(true);
    }
    for (const changed of [0.01, 0.04, 0.05, 0.000000001, 10.05]) {
      expect(providerKeepsCpus(changed), String(changed)).toBe(false);
    }
  });
});

describe("what every container and task runs with", () => {
  it("each role's limits are its own settings keys", () => {
    const settings = validateSettings({
      proxyMemoryLimitMb: 512,
      staticMemoryLimitMb: 128,
      dynamicMemoryLimitMb: 64,
      proxyCpuLimit: "2.0",
      staticCpuLimit: "0.5",
      dynamicCpuLimit: "1.25",
    });
    expect(runtimeLimits(settings, "proxy")).toEqual({ memoryMb: 512, cpus: 2 });
    expect(runtimeLimits(settings, "static")).toEqual({ memoryMb: 128, cpus: 0.5 });
    expect(runtimeLimits(settings, "dynamic")).toEqual({ memoryMb: 64, cpus: 1.25 });
  });

  it("a proxy check's limits are fixed, small, and ones the provider keeps", () => {
    expect(PROXY_CHECK_LIMITS).toEqual({ memoryMb: 64, cpus: 0.25 });
    expect(providerKeepsCpus(PROXY_CHECK_LIMITS.cpus)).toBe(true);
  });

  it("a tmpfs only where a process writes, each sized", () => {
    expect(WRITABLE_PATHS).toEqual({
      proxy: [{ target: "/run/apache2", sizeBytes: 4 * MiB }],
      static: [
        { target: "/run/apache2", sizeBytes: 4 * MiB },
        { target: "/tmp", sizeBytes: 16 * MiB },
      ],
      dynamic: [],
      proxyCheck: [{ target: "/tmp", sizeBytes: 1 * MiB }],
    });
  });

  it("tmpfsMounts gives them in the shape both the container's and the service's mounts take", () => {
    expect(tmpfsMounts("static")).toEqual([
      { target: "/run/apache2", type: "tmpfs", tmpfsOptions: { sizeBytes: 4 * MiB } },
      { target: "/tmp", type: "tmpfs", tmpfsOptions: { sizeBytes: 16 * MiB } },
    ]);
    expect(tmpfsMounts("proxyCheck")).toEqual([
      { target: "/tmp", type: "tmpfs", tmpfsOptions: { sizeBytes: MiB } },
    ]);
    expect(tmpfsMounts("dynamic")).toEqual([]);
  });

  it("drops every capability and rotates logs at 10 MB, three files", () => {
    expect(DROPPED_CAPABILITIES).toEqual(["ALL"]);
    expect(LOG_DRIVER).toEqual({
      name: "json-file",
      options: { "max-size": "10m", "max-file": "3" },
    });
  });
});
