// From the backends' addresses to the proxy's environment (src/proxyEnvironment.ts), and the URL a
// browser on the host opens.
import { describe, expect, it } from "vitest";
import {
  proxyEnvironmentDigest,
  hostPort,
  ipOnNetwork,
  proxyEnvironment,
  proxyUrl,
  type ProxyEnvironmentArgs,
} from "../../src/proxyEnvironment";

const NETWORK = "http-infra-dev-net";
const CONTAINER = "http-infra-dev-static-1";

describe("ipOnNetwork", () => {
  it("picks the address on the named network wherever it is listed", () => {
    const stackFirst = [
      { networkName: NETWORK, ipAddress: "10.10.0.5" },
      { networkName: "bridge", ipAddress: "172.17.0.2" },
    ];
    const stackLast = [
      { networkName: "bridge", ipAddress: "172.17.0.2" },
      { networkName: "monitoring", ipAddress: "10.99.0.3" },
      { networkName: NETWORK, ipAddress: "10.10.0.5" },
    ];
    expect(ipOnNetwork(stackFirst, NETWORK, CONTAINER)).toBe("10.10.0.5");
    expect(ipOnNetwork(stackLast, NETWORK, CONTAINER)).toBe("10.10.0.5");
  });

  it("fails naming the container, the network and the networks it saw when the network is missing", () => {
    expect(() =>
      ipOnNetwork([{ networkName: "bridge", ipAddress: "172.17.0.2" }], NETWORK, CONTAINER),
    ).toThrow(
      "container http-infra-dev-static-1 has no IP address on network http-infra-dev-net " +
        "(networks seen: bridge)",
    );
    const two = [
      { networkName: "bridge", ipAddress: "172.17.0.2" },
      { networkName: "monitoring", ipAddress: "10.99.0.3" },
    ];
    expect(() => ipOnNetwork(two, NETWORK, CONTAINER)).toThrow(
      "(networks seen: bridge, monitoring)",
    );
  });

  it("fails the same way when the container has no networks at all", () => {
    for (const networkDatas of [undefined, []]) {
      expect(() => ipOnNetwork(networkDatas, NETWORK, CONTAINER)).toThrow(
        "container http-infra-dev-static-1 has no IP address on network http-infra-dev-net " +
          "(networks seen: none)",
      );
    }
  });

  it("fails when the container is on the network but has no address there yet", () => {
    expect(() =>
      ipOnNetwork([{ networkName: NETWORK, ipAddress: "" }], NETWORK, CONTAINER),
    ).toThrow(
      "container http-infra-dev-static-1 has no IP address on network http-infra-dev-net " +
        "(networks seen: http-infra-dev-net)",
    );
  });

  it("a stopped container listed with no address is where its fixed address says (refresh)", () => {
    const attachments = [
      { name: "bridge", ipv4Address: "172.17.0.9" },
      { name: NETWORK, ipv4Address: "10.10.0.5" },
    ];
    expect(
      ipOnNetwork([{ networkName: NETWORK, ipAddress: "" }], NETWORK, CONTAINER, attachments),
    ).toBe("10.10.0.5");
    // A real address always wins, and the fallback never invents a network the container is not on.
    expect(
      ipOnNetwork(
        [{ networkName: NETWORK, ipAddress: "10.10.0.6" }],
        NETWORK,
        CONTAINER,
        attachments,
      ),
    ).toBe("10.10.0.6");
    expect(() => ipOnNetwork([], NETWORK, CONTAINER, attachments)).toThrow(/networks seen: none/);
  });
});

describe("hostPort", () => {
  it("joins an IPv4 address and a port with a colon", () => {
    expect(hostPort("10.10.0.5", 3000)).toBe("10.10.0.5:3000");
  });

  it("brackets an IPv6 address, as Apache's BalancerMember URLs need", () => {
    expect(hostPort("fd00::5", 80)).toBe("[fd00::5]:80");
    expect(hostPort("2001:db8::1:2", 3000)).toBe("[2001:db8::1:2]:3000");
  });
});

describe("proxyEnvironment", () => {
  const base: ProxyEnvironmentArgs = {
    staticAddresses: ["10.10.0.9:80", "10.10.0.3:80"],
    dynamicAddresses: ["10.10.0.7:3000", "10.10.0.2:3000", "[fd00::4]:3000"],
    serverName: "demo.res.ch",
    balancerManagerUser: "admin",
  };

  it("numbers members from 1 in the order given, then names the server", () => {
    expect(proxyEnvironment(base)).toEqual([
      "STATIC_APP_1=10.10.0.9:80",
      "STATIC_APP_2=10.10.0.3:80",
      "DYNAMIC_APP_1=10.10.0.7:3000",
      "DYNAMIC_APP_2=10.10.0.2:3000",
      "DYNAMIC_APP_3=[fd00::4]:3000",
      "SERVER_NAME=demo.res.ch",
    ]);
  });

  it("leaves the balancer-manager variables out when there is no password", () => {
    const env = proxyEnvironment(base);
    expect(env.filter((line) => line.startsWith("BALANCER_MANAGER_"))).toEqual([]);
  });

  it("treats an empty password as no password", () => {
    // Settings already turn "" into "off"; index.ts passes the raw secret, so "" can reach here.
    const env = proxyEnvironment({ ...base, balancerManagerPassword: "" });
    expect(env.filter((line) => line.startsWith("BALANCER_MANAGER_"))).toEqual([]);
  });

  it("adds the balancer-manager user and password only when a password is given", () => {
    const env = proxyEnvironment({
      ...base,
      balancerManagerUser: "ops",
      balancerManagerPassword: "correct horse battery",
    });
    expect(env.slice(-2)).toEqual([
      "BALANCER_MANAGER_USER=ops",
      "BALANCER_MANAGER_PASSWORD=correct horse battery",
    ]);
    expect(env).toHaveLength(8);
  });

  it("rejects an empty static or dynamic pool", () => {
    const message = "the proxy needs at least one static and one dynamic backend";
    expect(() => proxyEnvironment({ ...base, staticAddresses: [] })).toThrow(message);
    expect(() => proxyEnvironment({ ...base, dynamicAddresses: [] })).toThrow(message);
  });
});

describe("proxyUrl", () => {
  it("uses a specific bind address as it is", () => {
    expect(proxyUrl("127.0.0.1", 8080)).toBe("http://127.0.0.1:8080/");
    expect(proxyUrl("192.168.1.10", 80)).toBe("http://192.168.1.10:80/");
  });

  it("reaches the IPv4 wildcard 0.0.0.0 through 127.0.0.1", () => {
    expect(proxyUrl("0.0.0.0", 8080)).toBe("http://127.0.0.1:8080/");
  });

  it("brackets IPv6 and reaches the IPv6 wildcard :: through [::1]", () => {
    expect(proxyUrl("::1", 8080)).toBe("http://[::1]:8080/");
    expect(proxyUrl("::", 8080)).toBe("http://[::1]:8080/");
    expect(proxyUrl("fd00::1", 9000)).toBe("http://[fd00::1]:9000/");
  });
});

describe("proxyEnvironmentDigest (the proxy's replacementTrigger)", () => {
  const envs = ["STATIC_APP_1=10.0.0.2:80", "DYNAMIC_APP_1=10.0.0.4:3000", "SERVER_NAME=a.ch"];

  it("is a sha256 hex digest that changes with any variable's content", () => {
    expect(proxyEnvironmentDigest(envs)).toMatch(/^[0-9a-f]{64}$/);
    expect(proxyEnvironmentDigest(envs)).not.toBe(
      proxyEnvironmentDigest([...envs.slice(0, 2), "SERVER_NAME=b.ch"]),
    );
    expect(proxyEnvironmentDigest(envs)).not.toBe(
      proxyEnvironmentDigest([...envs, "STATIC_APP_2=10.0.0.3:80"]),
    );
  });

  it("ignores the order, as the provider keeps env as a set", () => {
    expect(proxyEnvironmentDigest([...envs].reverse())).toBe(proxyEnvironmentDigest(envs));
  });

  it("does not contain the password it covers", () => {
    const digest = proxyEnvironmentDigest([...envs, "BALANCER_MANAGER_PASSWORD=hunter2hunter2"]);
    expect(digest).not.toContain("hunter2");
  });
});
