// Every host port the e2e suites, the swarm test bed and the benchmarks publish on 127.0.0.1, in
// one table. Each suite and bench owns a range and takes its ports from it, so no two of them ever
// bind the same port: a suite that failed may leave its stack behind, `npm run bench` may run
// while `npm test` does, and one e2e file may be run on its own beside either; none of them then
// finds its port taken by another's proxy. test/unit/ports.test.ts fails when two ranges overlap,
// when a port lies outside its range, and when a suite or bench writes a host port of its own
// instead of taking it from here or takes one from a range it does not own.

/** A named set of host ports, all within [first, last]. */
export interface PortRange<P extends PortSet = PortSet> {
  /** The files, from the repository's root, that may take ports from this range. */
  readonly owners: readonly string[];
  /** First and last port of the range, both included. */
  readonly first: number;
  readonly last: number;
  readonly ports: P;
}

/** Port names to one port, or to a list of them (one per node, one per variant...). */
export type PortSet = Readonly<Record<string, number | readonly number[]>>;

function range<P extends PortSet>(
  owners: string | string[],
  first: number,
  last: number,
  ports: P,
) {
  return { owners: [owners].flat(), first, last, ports } as const satisfies PortRange<P>;
}

export const HOST_PORTS = {
  stack: range("test/e2e/stack.test.ts", 18080, 18081, { main: 18080, scale: 18081 }),
  browser: range("test/e2e/browser.test.ts", 18082, 18084, { proxy: 18082 }),
  addresses: range("test/e2e/addresses.test.ts", 18085, 18089, {
    proxy: 18085,
    /** A second, misconfigured proxy on the stack's network. */
    misconfiguredProxy: 18086,
    /** The proxy of a stack that must be refused (its networkSubnet is taken). */
    refusedStackProxy: 18087,
  }),
  benchFronts: range(["bench/fronts.bench-run.ts", "bench/support/fronts.ts"], 18100, 18109, {
    proxy: 18100,
    haproxy: 18101,
    directStatic: 18102,
    directDynamic: 18103,
    haproxyNoLog: 18104,
    /** HTTPS of the proxy and of the two HAProxys, with one certificate. */
    proxyHttps: 18105,
    haproxyHttps: 18106,
    haproxyNoLogHttps: 18107,
  }),
  load: range("test/e2e/load.test.ts", 18150, 18159, { proxy: 18150 }),
  update: range("test/e2e/update.test.ts", 18250, 18250, { proxy: 18250 }),
  benchUpdateDowntime: range("bench/update-downtime.bench-run.ts", 18251, 18259, {
    proxy: 18251,
  }),
  benchFirstDeploy: range("bench/first-deploy.bench-run.ts", 18260, 18269, { proxy: 18260 }),
  refresh: range("test/e2e/refresh.test.ts", 18300, 18309, { proxy: 18300 }),
  health: range("test/e2e/health.test.ts", 18310, 18319, { proxy: 18310 }),
  drain: range("test/e2e/drain.test.ts", 18330, 18330, { proxy: 18330 }),
  proxyReusedConnection: range("test/e2e/proxy-reused-connection.test.ts", 18331, 18331, {
    proxy: 18331,
  }),
  staticDrain: range("test/e2e/static-drain.test.ts", 18332, 18332, { member: 18332 }),
  /**
   * The swarm test bed (test/support/swarm/), shared by the swarm suites, which take turns with it:
   * each node's engine API and each node's proxy ports (layout.ts NODE_PROXY_PORT, NODE_HTTPS_PORT),
   * manager first.
   */
  swarmTestBed: range("test/support/swarm/layout.ts", 18400, 18459, {
    nodeApi: [18400, 18401, 18402],
    nodeProxy: [18410, 18411, 18412],
    /** Each node's NODE_HTTPS_PORT, where a stack with TLS publishes HTTPS. */
    nodeHttps: [18413, 18414, 18415],
  }),
  httpsGiven: range("test/e2e/https-given.test.ts", 18460, 18469, { http: 18460, https: 18461 }),
  httpsAcme: range("test/e2e/https-acme.test.ts", 18470, 18479, {
    http: 18470,
    https: 18471,
    /** Pebble's ACME directory (HTTPS), for a look from the host. */
    pebbleAcme: 18472,
    /** Pebble's management API: /roots/0, the root that signs what it issues. */
    pebbleManagement: 18473,
    /** pebble-challtestsrv's management API: where Pebble's mock DNS points the domain. */
    pebbleDns: 18474,
  }),
  benchCold: range("bench/cold.bench-run.ts", 18500, 18509, { proxy: 18500, haproxy: 18501 }),
  coldBurst: range("test/e2e/cold-burst.test.ts", 18510, 18519, { proxy: 18510 }),
  /** The variants the bench builds (PROXY_VARIANTS) take the range's ports from firstVariant on. */
  benchProxyVariants: range("bench/proxy-variants.bench-run.ts", 18520, 18539, {
    proxy: 18520,
    haproxy: 18521,
    haproxyNoLog: 18522,
    firstVariant: 18523,
  }),
  benchNodeLoss: range("bench/node-loss-variants.bench-run.ts", 18540, 18549, { proxy: 18540 }),
  /** The stack's proxy and the proxy of the same stack as it ran before least privilege. */
  benchLeastPrivilege: range("bench/least-privilege.bench-run.ts", 18550, 18559, {
    proxy: 18550,
    baselineProxy: 18551,
  }),
} as const;

/**
 * The `index`-th port from `from` on, within `range`: for suites that publish as many ports as
 * they are asked to (one per proxy variant). Throws, naming the range, past its end.
 */
export function portFrom(range: PortRange, from: number, index: number): number {
  const port = from + index;
  if (!Number.isInteger(index) || index < 0 || port < range.first || port > range.last) {
    throw new Error(
      `port ${port} (${from} + ${index}) is outside the range ${range.first}-${range.last} ` +
        `of ${range.owners.join(", ")} (test/support/ports.ts)`,
    );
  }
  return port;
}

/** Every port a range names, with its name ("nodeApi[1]" for a list's entries). */
export function namedPorts(range: PortRange): { name: string; port: number }[] {
  return Object.entries(range.ports).flatMap(([name, value]) =>
    typeof value === "number"
      ? [{ name, port: value }]
      : value.map((port, i) => ({ name: `${name}[${i}]`, port })),
  );
}

/**
 * What is wrong with a table of ranges, one sentence each (none for a good one): a range that is
 * empty or not made of valid ports, two ranges that overlap, a port outside its own range, a port
 * named twice in one range.
 */
export function portTableProblems(table: Readonly<Record<string, PortRange>>): string[] {
  const problems: string[] = [];
  const entries = Object.entries(table);
  for (const [key, range] of entries) {
    const valid = (port: number) => Number.isInteger(port) && port >= 1024 && port <= 65535;
    if (!valid(range.first) || !valid(range.last) || range.first > range.last) {
      problems.push(`${key}: ${range.first}-${range.last} is not a port range`);
    }
    const seen = new Map<number, string>();
    for (const { name, port } of namedPorts(range)) {
      if (!Number.isInteger(port) || port < range.first || port > range.last) {
        problems.push(
          `${key}.${name} = ${port} lies outside ${key}'s range ${range.first}-${range.last}`,
        );
      }
      const other = seen.get(port);
      if (other !== undefined) problems.push(`${key}.${name} and ${key}.${other} are both ${port}`);
      seen.set(port, name);
    }
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [a, ra] = entries[i];
      const [b, rb] = entries[j];
      if (ra.first <= rb.last && rb.first <= ra.last) {
        problems.push(`${a} (${ra.first}-${ra.last}) overlaps ${b} (${rb.first}-${rb.last})`);
      }
    }
  }
  return problems;
}
