// The host ports of the e2e suites and the benchmarks (test/support/ports.ts): one range each, no
// two ranges sharing a port, and no suite or bench publishing a port the table does not give it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { HOST_PORTS, portFrom, portTableProblems, type PortRange } from "../support/ports";
import { NODES } from "../support/swarm/layout";

const ROOT = join(__dirname, "..", "..");
const TABLE = "test/support/ports.ts";

/** The TypeScript files under `dir` (from the repository's root), recursively. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort();
}

/** Every file that may publish a host port: the e2e suites, their support modules, the benches. */
const PUBLISHERS = [...sources("test/e2e"), ...sources("test/support"), ...sources("bench")].filter(
  (file) => file !== TABLE,
);

/** The source without its import declarations. */
const withoutImports = (text: string) =>
  text.replace(/^import\b[^;]*?\bfrom\s*["'][^"']+["'];$/gm, "");

const ranges = Object.entries(HOST_PORTS) as [string, PortRange][];

describe("the host port table", () => {
  it("no two ranges overlap, and every port lies in its own range, named once", () => {
    expect(portTableProblems(HOST_PORTS)).toEqual([]);
  });

  it("names every range's owners by files that exist", () => {
    for (const [key, range] of ranges) {
      for (const owner of range.owners)
        expect(existsSync(join(ROOT, owner)), `${key}: ${owner}`).toBe(true);
    }
  });

  it("sees two ranges that overlap, a port outside its range, and a port named twice", () => {
    const table = {
      a: {
        owners: ["a.test.ts"],
        first: 18000,
        last: 18009,
        ports: { proxy: 18000, extra: 18010 },
      },
      b: {
        owners: ["b.test.ts"],
        first: 18005,
        last: 18019,
        ports: { proxy: 18005, nodes: [18006, 18005] },
      },
    };
    expect(portTableProblems(table)).toEqual([
      "a.extra = 18010 lies outside a's range 18000-18009",
      "b.nodes[1] and b.proxy are both 18005",
      "a (18000-18009) overlaps b (18005-18019)",
    ]);
  });

  it("refuses a range that is not one", () => {
    const table = { c: { owners: ["c.test.ts"], first: 18020, last: 18010, ports: {} } };
    expect(portTableProblems(table)).toEqual(["c: 18020-18010 is not a port range"]);
  });

  it("portFrom counts within the range and throws past its end, naming the range", () => {
    const variants = HOST_PORTS.benchProxyVariants;
    const from = variants.ports.firstVariant;
    expect(portFrom(variants, from, 0)).toBe(from);
    const room = variants.last - from + 1;
    expect(portFrom(variants, from, room - 1)).toBe(variants.last);
    expect(() => portFrom(variants, from, room)).toThrow(
      `port ${variants.last + 1} (${from} + ${room}) is outside the range`,
    );
    expect(() => portFrom(variants, from, room)).toThrow("bench/proxy-variants.bench-run.ts");
  });
});

describe("the suites and benches take their host ports from the table", () => {
  it("every swarm test bed node publishes on ports of the bed's range, none shared", () => {
    const bed = HOST_PORTS.swarmTestBed;
    const ports = NODES.flatMap((node) => [
      node.apiHostPort,
      node.proxyHostPort,
      node.httpsHostPort,
    ]);
    for (const port of ports) {
      expect(port >= bed.first && port <= bed.last, `${port} in ${bed.first}-${bed.last}`).toBe(
        true,
      );
    }
    expect(new Set(ports).size, "distinct node ports").toBe(ports.length);
  });

  it("no suite, support module or bench writes a port of the table as a literal", () => {
    const found: string[] = [];
    for (const file of PUBLISHERS) {
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const match of text.matchAll(/(?<![\w.])\d{4,5}(?![\w.])/g)) {
        const value = Number(match[0]);
        const inRange = ranges.find(([, range]) => value >= range.first && value <= range.last);
        if (inRange) found.push(`${file}: ${value} (in ${inRange[0]}'s range)`);
      }
    }
    expect(found).toEqual([]);
  });

  it("no suite, support module or bench publishes a host port written as a number", () => {
    const found: string[] = [];
    const publishing = /\b(proxyPort|external|port|HostPort|PublishedPort)\s*:\s*["'`]?\d+/g;
    for (const file of PUBLISHERS) {
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const match of text.matchAll(publishing)) found.push(`${file}: ${match[0]}`);
    }
    expect(found).toEqual([]);
  });

  it("a file takes ports only from a range it owns", () => {
    const found: string[] = [];
    for (const file of PUBLISHERS) {
      const text = withoutImports(readFileSync(join(ROOT, file), "utf8"));
      for (const match of text.matchAll(/HOST_PORTS\b(?:\.(\w+))?/g)) {
        const key = match[1] as keyof typeof HOST_PORTS | undefined;
        const range: PortRange | undefined = key && HOST_PORTS[key];
        if (!range) found.push(`${file}: ${match[0]} names no range`);
        else if (!range.owners.includes(file)) found.push(`${file} takes ports from ${key}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("every range is taken from by one of its owners", () => {
    const unused = ranges
      .filter(([key, range]) =>
        range.owners.every(
          (owner) => !readFileSync(join(ROOT, owner), "utf8").includes(`HOST_PORTS.${key}`),
        ),
      )
      .map(([key]) => key);
    expect(unused).toEqual([]);
  });
});
