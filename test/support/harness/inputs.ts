// The input properties of @pulumi/docker's schema that the harness implements, per resource type
// (each type's module in resources/ declares its own). Anything else the program sets makes the
// harness throw, naming the property: a deploy must never look green because an input was
// silently ignored.
import { resourceModule } from "./resources";
import type { Shape } from "./resources/types";

export { CONTAINER } from "./resources/container";
export { IMAGE } from "./resources/image";
export { NETWORK } from "./resources/network";
export { VOLUME } from "./resources/volume";

/** Throws on the first input the harness can't honour, naming its path, e.g. `ports[0].foo`. */
export function assertImplemented(type: string, name: string, inputs: Record<string, unknown>) {
  const shape = resourceModule(type, name).inputs;
  const walk = (value: unknown, allowed: Shape, path: string) => {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    items.forEach((item, index) => {
      if (typeof item !== "object" || item === null) return;
      const at = Array.isArray(value) ? `${path}[${index}]` : path;
      for (const [key, child] of Object.entries(item)) {
        if (child === undefined) continue;
        const rule = allowed[key];
        const property = at ? `${at}.${key}` : key;
        if (!rule) {
          throw new Error(
            `harness: ${type} input "${property}" (resource ${name}) is not implemented; ` +
              `implement it in test/support/harness before the program may use it`,
          );
        }
        if (rule !== true) walk(child, rule, property);
      }
    });
  };
  walk(inputs, shape, "");
}
