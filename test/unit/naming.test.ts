// Physical names (src/naming.ts): every Docker object carries project and stack, so stacks can share
// one engine, and every name is valid wherever Docker uses it.
import { describe, expect, it } from "vitest";
import { distinctLabel, dnsLabel, stackNames, type StackNames } from "../../src/naming";

const PROJECT = "http-infra";

// A container's host name is one DNS label (RFC 1123): at most 63 characters.
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Docker container and network names (moby daemon/names: RestrictedNamePattern).
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
// An image repository path component (distribution/reference grammar), lower case only.
const IMAGE_REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$/;

/** Every container and network name a stack can have (up to 16 backends per pool). */
function allNames(names: StackNames): string[] {
  const backends = [1, 2, 15, 16].flatMap((index) => [
    names.backend("static", index),
    names.backend("dynamic", index),
  ]);
  return [names.network, names.proxy, ...backends];
}

const allImages = (names: StackNames) =>
  (["static", "dynamic", "proxy"] as const).map((kind) => names.image(kind));

describe("stackNames", () => {
  it("every name carries the project and the stack", () => {
    const names = stackNames(PROJECT, "dev");
    expect(names.prefix).toBe("http-infra-dev");
    expect(names.network).toBe("http-infra-dev-net");
    expect(names.proxy).toBe("http-infra-dev-proxy");
    expect(names.backend("static", 1)).toBe("http-infra-dev-static-1");
    expect(names.backend("dynamic", 16)).toBe("http-infra-dev-dynamic-16");
    expect(allImages(names)).toEqual([
      "http-infra-dev-static:latest",
      "http-infra-dev-dynamic:latest",
      "http-infra-dev-proxy:latest",
    ]);
  });

  it("two stacks get disjoint container, network and image names", () => {
    // "dev" and "dev-static" share a prefix: a careless scheme could make them collide.
    for (const [a, b] of [
      ["dev", "staging"],
      ["dev", "dev-static"],
      ["dev", "dev-net"],
    ]) {
      const first = stackNames(PROJECT, a);
      const second = stackNames(PROJECT, b);
      const firstNames = [...allNames(first), ...allImages(first)];
      const secondNames = [...allNames(second), ...allImages(second)];
      expect(
        firstNames.filter((name) => secondNames.includes(name)),
        `${a} vs ${b}`,
      ).toEqual([]);
    }
  });

  it("upper case, underscores and dots in a stack name fold to one lower-case DNS label, plus a hash", () => {
    const names = stackNames(PROJECT, "Team_A.Dev");
    expect(names.prefix).toMatch(/^http-infra-team-a-dev-[0-9a-f]{6}$/);
    for (const name of allNames(names)) {
      expect(name, "as a host name").toMatch(DNS_LABEL);
      expect(name, "as a container name").toMatch(CONTAINER_NAME);
    }
    for (const image of allImages(names)) {
      const [repository, tag] = image.split(":");
      expect(repository, image).toMatch(IMAGE_REPOSITORY);
      expect(tag, image).toBe("latest");
    }
  });

  it("the longest stack name allowed still gives 63-character host names", () => {
    // "http-infra-" + 41 characters + "-dynamic-16" = 63, the DNS label limit.
    const stack = "s".repeat(41);
    const longest = stackNames(PROJECT, stack).backend("dynamic", 16);
    expect(longest).toHaveLength(63);
    expect(longest).toMatch(DNS_LABEL);
  });

  it("stack names that differ only in _, -, . or case give different Docker names", () => {
    const variants = ["dev-1", "dev_1", "dev.1", "Dev-1", "DEV_1"];
    const prefixes = variants.map((stack) => stackNames(PROJECT, stack).prefix);
    expect(new Set(prefixes).size, prefixes.join(", ")).toBe(variants.length);
    // A name that is already a DNS label keeps its plain, readable form.
    expect(stackNames(PROJECT, "dev-1").prefix).toBe("http-infra-dev-1");
  });

  it("a folded stack name that is too long is rejected, hash included", () => {
    // 35 characters + "-" + 6 hex digits = 42: one too many.
    expect(() => stackNames(PROJECT, "S".repeat(35))).toThrow(/rename the stack/);
    expect(stackNames(PROJECT, "S".repeat(34)).backend("dynamic", 16)).toHaveLength(63);
  });

  it("a stack name too long for a host name is rejected, naming the stack", () => {
    const stack = "s".repeat(42);
    expect(() => stackNames(PROJECT, stack)).toThrow(stack);
    expect(() => stackNames(PROJECT, stack)).toThrow(/rename the stack/);
  });

  it("the message says how long the prefix may be", () => {
    const stack = "s".repeat(42);
    expect(() => stackNames(PROJECT, stack)).toThrow(
      `stack "${stack}" of project "http-infra" gives the prefix "http-infra-${stack}": ` +
        "container host names need it to be 3 to 52 letters, digits or dashes; rename the stack",
    );
  });

  it("a stack name that folds to nothing is rejected, naming the stack", () => {
    // The message shows the prefix "http-infra-", which tells the user nothing about "___".
    expect(() => stackNames(PROJECT, "___")).toThrow('"___"');
    expect(() => stackNames(PROJECT, "...")).toThrow('"..."');
  });

  it("labels carry the project, the stack as Pulumi spells it, and the role", () => {
    const names = stackNames(PROJECT, "Team_A");
    expect(names.labels("dynamic")).toEqual([
      { label: "http-infra.project", value: "http-infra" },
      { label: "http-infra.stack", value: "Team_A" },
      { label: "http-infra.role", value: "dynamic" },
    ]);
    for (const role of ["static", "proxy", "network"] as const) {
      expect(names.labels(role), role).toContainEqual({ label: "http-infra.role", value: role });
    }
  });
});

describe("distinctLabel", () => {
  it("keeps a DNS label as it is and adds a 6-digit hash to anything folding changed", () => {
    expect(distinctLabel("dev")).toBe("dev");
    expect(distinctLabel("Dev")).toMatch(/^dev-[0-9a-f]{6}$/);
    expect(distinctLabel("Dev")).not.toBe(distinctLabel("DEV"));
    expect(distinctLabel("Dev")).toBe(distinctLabel("Dev"));
  });

  it("leaves a name with no letters or digits empty, with no hash for the caller to miss", () => {
    expect(distinctLabel("___")).toBe("");
  });
});

describe("dnsLabel", () => {
  it("lower-cases and turns every run of other characters into one dash", () => {
    expect(dnsLabel("Team_A.Dev")).toBe("team-a-dev");
    expect(dnsLabel("a__b..c")).toBe("a-b-c");
  });

  it("trims dashes at either end, so a label never starts or ends with one", () => {
    expect(dnsLabel("__dev__")).toBe("dev");
    expect(dnsLabel("-dev-")).toBe("dev");
    expect(dnsLabel("___")).toBe("");
    expect(dnsLabel("--dev--")).toBe("dev");
    expect(dnsLabel("-_dev_-")).toBe("dev");
  });
});
