// The input properties of @pulumi/docker's schema that the harness implements, per resource type.
// Anything else the program sets makes the harness throw, naming the property: a deploy must never
// look green because an input was silently ignored.

export const IMAGE = "docker:index/image:Image";
export const NETWORK = "docker:index/network:Network";
export const CONTAINER = "docker:index/container:Container";

type Shape = { [property: string]: true | Shape };

const implemented: Record<string, Shape> = {
  [IMAGE]: {
    imageName: true,
    skipPush: true,
    buildOnPreview: true,
    build: { context: true, dockerfile: true, args: true, platform: true, target: true },
  },
  [NETWORK]: {
    name: true,
    driver: true,
    internal: true,
    attachable: true,
    options: true,
    labels: { label: true, value: true },
    ipamConfigs: { subnet: true, gateway: true, ipRange: true },
  },
  [CONTAINER]: {
    name: true,
    hostname: true,
    image: true,
    envs: true,
    command: true,
    user: true,
    labels: { label: true, value: true },
    networksAdvanced: { name: true, aliases: true, ipv4Address: true },
    ports: { internal: true, external: true, ip: true, protocol: true },
    healthcheck: { tests: true, interval: true, timeout: true, startPeriod: true, retries: true },
    restart: true,
    wait: true,
    waitTimeout: true,
    mustRun: true,
    start: true,
    destroyGraceSeconds: true,
  },
};

export function isImplementedType(type: string): boolean {
  return type in implemented;
}

/** Throws on the first input the harness can't honour, naming its path, e.g. `ports[0].foo`. */
export function assertImplemented(type: string, name: string, inputs: Record<string, unknown>) {
  const shape = implemented[type];
  if (!shape) throw new Error(`harness: resource type ${type} (${name}) is not implemented`);
  const walk = (value: unknown, allowed: Shape, path: string) => {
    const items = Array.isArray(value) ? value : [value];
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
