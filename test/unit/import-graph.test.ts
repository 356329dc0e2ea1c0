// The program's import graph: index.ts and every module under src/, read with TypeScript's own
// scanner (ts.preProcessFile, which lists `import`, `import type`, `export … from` and `require`).
// Data flows one way: shared modules, then the two targets (src/containers/, src/swarm/) beside
// each other, then src/deployTarget.ts, which picks one, then index.ts. A circle would mean a
// module needs something that needs it.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");

/** Project-relative paths (with `/`) of index.ts and every .ts file under src/. */
function programFiles(): string[] {
  const underSrc = readdirSync(path.join(ROOT, "src"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => path.posix.join("src", file.split(path.sep).join("/")));
  return ["index.ts", ...underSrc].sort();
}

type ImportGraph = Map<string, string[]>;

/** Each file's imports of other program files; packages and node: modules are left out. */
function importGraph(files: readonly string[]): ImportGraph {
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), "utf8"));
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith("."))
      .map((specifier) => {
        const base = path.posix.join(path.posix.dirname(file), specifier);
        const resolved = [`${base}.ts`, `${base}/index.ts`].find((candidate) =>
          known.has(candidate),
        );
        if (!resolved) throw new Error(`${file} imports ${specifier}, which is no program file`);
        return resolved;
      });
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/** The first circle found, as the modules along it (the first repeated at the end), or undefined. */
function findCycle(graph: ImportGraph): string[] | undefined {
  const done = new Set<string>();
  const trail: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): string[] | undefined => {
    if (onPath.has(file)) return [...trail.slice(trail.indexOf(file)), file];
    if (done.has(file)) return undefined;
    trail.push(file);
    onPath.add(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    trail.pop();
    onPath.delete(file);
    done.add(file);
    return undefined;
  };
  for (const file of [...graph.keys()].sort()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

const graph = importGraph(programFiles());
const importsOf = (file: string) => graph.get(file) ?? [];
const inFolder = (folder: string) => (file: string) => file.startsWith(`src/${folder}/`);
const sharedModules = [...graph.keys()].filter(
  (file) => /^src\/[^/]+\.ts$/.test(file) && file !== "src/deployTarget.ts",
);

describe("the program's import graph", () => {
  it("is read from index.ts and every module of src/, both targets included", () => {
    expect(importsOf("index.ts")).toContain("src/deployTarget.ts");
    expect(importsOf("src/deployTarget.ts")).toEqual([
      "src/containers/target.ts",
      "src/settings.ts",
      "src/swarm/target.ts",
      "src/target.ts",
    ]);
    expect([...graph.keys()].filter(inFolder("containers")).length).toBeGreaterThan(0);
    expect([...graph.keys()].filter(inFolder("swarm")).length).toBeGreaterThan(0);
  });

  it("has no circle", () => {
    const cycle = findCycle(graph);
    expect(cycle, cycle && `import circle: ${cycle.join(" → ")}`).toBeUndefined();
  });

  it("keeps the two targets apart: neither imports the other", () => {
    for (const [from, to] of [
      ["containers", "swarm"],
      ["swarm", "containers"],
    ]) {
      for (const file of [...graph.keys()].filter(inFolder(from))) {
        expect(importsOf(file).filter(inFolder(to)), `${file} imports src/${to}/`).toEqual([]);
      }
    }
  });

  it("keeps the shared modules below both targets: only deployTarget.ts imports a target", () => {
    expect(sharedModules).toContain("src/target.ts");
    for (const file of sharedModules) {
      const targetImports = importsOf(file).filter(
        (imported) => inFolder("containers")(imported) || inFolder("swarm")(imported),
      );
      expect(targetImports, `${file} imports a target's module`).toEqual([]);
    }
  });
});

describe("the circle check itself", () => {
  it("names every module of a circle, in import order", () => {
    const circle: ImportGraph = new Map([
      ["index.ts", ["src/deployTarget.ts"]],
      ["src/deployTarget.ts", ["src/swarm/target.ts"]],
      ["src/swarm/target.ts", ["src/swarm/members.ts"]],
      ["src/swarm/members.ts", ["src/deployTarget.ts"]],
    ]);
    expect(findCycle(circle)).toEqual([
      "src/deployTarget.ts",
      "src/swarm/target.ts",
      "src/swarm/members.ts",
      "src/deployTarget.ts",
    ]);
  });

  it("finds a module that imports itself, and no circle in a diamond", () => {
    expect(findCycle(new Map([["src/a.ts", ["src/a.ts"]]]))).toEqual(["src/a.ts", "src/a.ts"]);
    const diamond: ImportGraph = new Map([
      ["index.ts", ["src/a.ts", "src/b.ts"]],
      ["src/a.ts", ["src/shared.ts"]],
      ["src/b.ts", ["src/shared.ts"]],
      ["src/shared.ts", []],
    ]);
    expect(findCycle(diamond)).toBeUndefined();
  });
});
