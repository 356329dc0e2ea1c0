// The address layout of src/addressing.ts: fixed slots in the subnet's lower half, the upper half
// for other containers, and the choice of a free subnet per stack.
import { describe, expect, it } from "vitest";
import {
  addressInSubnet,
  candidateSubnets,
  chooseSubnet,
  DEFAULT_SUBNET_POOL,
  HIGHEST_SLOT,
  MAX_BACKENDS,
  slots,
  subnetsOverlap,
  upperHalf,
} from "../../src/addressing";

describe("slots", () => {
  it("never collide, whatever the pool sizes, and all fit in the lower half of a /25", () => {
    const all = [
      slots.proxy,
      ...Array.from({ length: MAX_BACKENDS }, (_, i) => slots.static(i + 1)),
      ...Array.from({ length: MAX_BACKENDS }, (_, i) => slots.dynamic(i + 1)),
    ];
    expect(new Set(all).size).toBe(all.length);
    expect(Math.min(...all), "slot 1 is the gateway").toBe(2);
    expect(Math.max(...all)).toBe(HIGHEST_SLOT);
    expect(HIGHEST_SLOT).toBeLessThan(128 / 2);
  });

  it("a pool's addresses don't depend on the other pool's size", () => {
    expect(slots.dynamic(1)).toBe(2 + MAX_BACKENDS + 1);
    expect(slots.static(3)).toBe(5);
  });
});

describe("addressInSubnet and upperHalf", () => {
  it("place slots in the lower half and the range for others in the upper half", () => {
    expect(addressInSubnet("10.217.4.0/24", 2)).toBe("10.217.4.2");
    expect(addressInSubnet("172.28.0.128/25", 34)).toBe("172.28.0.162");
    expect(addressInSubnet("10.0.0.0/8", 300)).toBe("10.0.1.44");
    expect(upperHalf("10.217.4.0/24")).toBe("10.217.4.128/25");
    expect(upperHalf("172.28.0.128/25")).toBe("172.28.0.192/26");
    expect(upperHalf("10.0.0.0/8")).toBe("10.128.0.0/9");
  });

  it("refuses a slot outside the lower half, or the network address", () => {
    expect(() => addressInSubnet("10.217.4.0/24", 128)).toThrow(
      "slot 128 is outside the lower half of 10.217.4.0/24",
    );
    expect(() => addressInSubnet("10.217.4.0/24", 0)).toThrow("outside the lower half");
  });

  it("slot 1 is the gateway, and the last slot of the lower half is usable", () => {
    expect(addressInSubnet("10.217.4.0/24", 1)).toBe("10.217.4.1");
    expect(addressInSubnet("10.217.4.0/24", 127)).toBe("10.217.4.127");
  });

  it("refuses a subnet that is not an IPv4 CIDR, naming it", () => {
    expect(() => addressInSubnet("10.217.4.0", 2)).toThrow('not an IPv4 CIDR: "10.217.4.0"');
    expect(() => upperHalf("fd00::/64")).toThrow('not an IPv4 CIDR: "fd00::/64"');
    expect(() => subnetsOverlap("10.217.4.0/24", "")).toThrow('not an IPv4 CIDR: ""');
  });
});

describe("subnetsOverlap", () => {
  it("is true for shared addresses only", () => {
    expect(subnetsOverlap("10.217.4.0/24", "10.217.0.0/16")).toBe(true);
    expect(subnetsOverlap("10.217.0.0/16", "10.217.255.0/24")).toBe(true);
    expect(subnetsOverlap("10.217.4.0/24", "10.217.5.0/24")).toBe(false);
    expect(subnetsOverlap("10.217.4.0/25", "10.217.4.128/25")).toBe(false);
  });

  it("adjacent subnets don't overlap, in either order; one shared address is an overlap", () => {
    expect(subnetsOverlap("10.217.5.0/24", "10.217.4.0/24")).toBe(false);
    expect(subnetsOverlap("10.217.4.128/25", "10.217.4.0/25")).toBe(false);
    expect(subnetsOverlap("10.217.5.0/32", "10.217.4.0/24")).toBe(false);
    expect(subnetsOverlap("10.217.4.255/32", "10.217.4.0/24")).toBe(true);
    expect(subnetsOverlap("10.217.4.0/24", "10.217.4.255/32")).toBe(true);
    expect(subnetsOverlap("10.217.4.0/24", "10.217.4.0/24")).toBe(true);
  });
});

describe("candidateSubnets", () => {
  it("lists every /24 of the pool once, starting at a slot hashed from project and stack", () => {
    const candidates = candidateSubnets("http-infra", "dev");
    expect(candidates).toHaveLength(256);
    expect(new Set(candidates).size).toBe(256);
    for (const subnet of candidates) expect(subnetsOverlap(subnet, DEFAULT_SUBNET_POOL)).toBe(true);
    expect(candidateSubnets("http-infra", "dev")).toEqual(candidates);
  });

  it("starts different stacks at different places", () => {
    const starts = new Set(
      ["dev", "staging", "prod", "e2e", "alice", "bob"].map(
        (s) => candidateSubnets("http-infra", s)[0],
      ),
    );
    expect(starts.size).toBeGreaterThan(4);
  });
});

describe("chooseSubnet", () => {
  const base = { project: "http-infra", stack: "dev", networkName: "http-infra-dev-net" };

  it("takes the stack's first candidate on an empty engine, and when the engine can't be asked", () => {
    const [first] = candidateSubnets("http-infra", "dev");
    expect(chooseSubnet({ ...base, configured: undefined, networks: [] })).toBe(first);
    expect(chooseSubnet({ ...base, configured: undefined, networks: undefined })).toBe(first);
  });

  it("skips candidates that overlap any other network, IPv6 subnets aside", () => {
    const [first, second, third] = candidateSubnets("http-infra", "dev");
    const networks = [
      { name: "a", subnets: [first, "fd00::/64"] },
      { name: "b", subnets: [second] },
    ];
    expect(chooseSubnet({ ...base, configured: undefined, networks })).toBe(third);
  });

  it("keeps the subnet the stack's own network already has", () => {
    const networks = [{ name: "http-infra-dev-net", subnets: ["172.18.0.0/16"] }];
    expect(chooseSubnet({ ...base, configured: undefined, networks })).toBe("172.18.0.0/16");
  });

  it("finds the stack's own network by name, wherever the engine lists it", () => {
    const networks = [
      { name: "bridge", subnets: ["172.17.0.0/16"] },
      { name: "http-infra-dev-net", subnets: ["172.18.0.0/16"] },
    ];
    expect(chooseSubnet({ ...base, configured: undefined, networks })).toBe("172.18.0.0/16");
  });

  it("uses a configured subnet as it is unless another network overlaps it", () => {
    const networks = [
      { name: "http-infra-dev-net", subnets: ["172.30.0.0/24"] },
      { name: "bridge", subnets: ["172.17.0.0/16"] },
    ];
    expect(chooseSubnet({ ...base, configured: "172.30.0.0/24", networks })).toBe("172.30.0.0/24");
    expect(() => chooseSubnet({ ...base, configured: "172.17.5.0/24", networks })).toThrow(
      "networkSubnet 172.17.5.0/24 overlaps network bridge (172.17.0.0/16) on this Docker engine; " +
        "choose a free subnet, or unset networkSubnet to let the program pick one",
    );
  });

  it("a network that overlaps by any one of its subnets is in the way, and the message lists its IPv4 subnets", () => {
    const networks = [{ name: "multi", subnets: ["10.1.0.0/24", "172.17.0.0/16", "fd00::/64"] }];
    expect(() => chooseSubnet({ ...base, configured: "172.17.5.0/24", networks })).toThrow(
      "networkSubnet 172.17.5.0/24 overlaps network multi (10.1.0.0/24, 172.17.0.0/16) on this " +
        "Docker engine",
    );
  });

  it("names networkSubnet when the whole default pool is taken, and says what to set", () => {
    const networks = [{ name: "everything", subnets: [DEFAULT_SUBNET_POOL] }];
    expect(() => chooseSubnet({ ...base, configured: undefined, networks })).toThrow(
      "networkSubnet is unset and every /24 of 10.217.0.0/16 is taken on this Docker engine; " +
        "set networkSubnet to a free subnet (a /25 or larger)",
    );
  });
});
