// Where each container lives on the stack's network. Pure functions: no Pulumi, no Docker.
//
// Why fixed addresses: Docker hands out a network's free addresses in the order containers start.
// After an engine restart (a host reboot), or a `docker stop` / `docker start` in another order, or
// when some other container joins the network meanwhile, a backend comes back at another backend's
// old address. The proxy's STATIC_APP_n / DYNAMIC_APP_n would then point at the wrong containers,
// and every one of them still answers /healthz. So:
//
//   - the network always has an explicit subnet (Docker only honours a container's fixed
//     `ipv4Address` on a network whose subnet the user configured), split in two halves;
//   - every container of the stack gets a fixed address in the lower half, at a slot that depends
//     only on its role and number (never on how many members a pool has, so scaling one pool never
//     moves another pool's addresses);
//   - the network's `ipRange` is the upper half: Docker gives any other container that joins the
//     network an address from there, so it can never take a stack member's address.
//
// Docker keeps a container's configured address across restarts of the container and of the
// engine. The proxy's environment is still built from the addresses Docker reports back
// (`networkDatas`), not from this table.
import { createHash } from "node:crypto";
import { isIP } from "node:net";

/** Members per pool: the layout below reserves this many slots for each. */
export const MAX_BACKENDS = 16;

/** Slots (offsets from the subnet's first address): the gateway takes 1. */
export const slots = {
  proxy: 2,
  static: (member: number) => 2 + member,
  dynamic: (member: number) => 2 + MAX_BACKENDS + member,
} as const;

/** The highest slot the layout uses: it must fit in the subnet's lower half. */
export const HIGHEST_SLOT = slots.dynamic(MAX_BACKENDS);

/**
 * Where a stack with no `networkSubnet` gets its /24: outside Docker's own default address pools
 * (172.17.0.0/16 to 172.31.0.0/16 and 192.168.0.0/16), so networks Docker numbers by itself
 * (compose projects, `docker network create`) rarely stand in the way.
 */
export const DEFAULT_SUBNET_POOL = "10.217.0.0/16";
const DEFAULT_PREFIX = 24;

/** Parses "a.b.c.d/len" into its network address and prefix length, or undefined if malformed. */
export function parseIpv4Cidr(cidr: string): { address: number; prefix: number } | undefined {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!match || isIP(match[1]) !== 4) return undefined;
  const prefix = Number(match[2]);
  if (prefix > 32) return undefined;
  return { address: ipv4ToNumber(match[1]), prefix };
}

export function ipv4ToNumber(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function cidr(subnet: string): { first: number; size: number; prefix: number } {
  const parsed = parseIpv4Cidr(subnet);
  if (!parsed) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(subnet)}`);
  return { first: parsed.address, size: 2 ** (32 - parsed.prefix), prefix: parsed.prefix };
}

/** The address at `slot` in `subnet`; throws when the slot is outside the lower half. */
export function addressInSubnet(subnet: string, slot: number): string {
  const { first, size } = cidr(subnet);
  if (slot < 1 || slot >= size / 2) {
    throw new Error(`slot ${slot} is outside the lower half of ${subnet}`);
  }
  return numberToIpv4(first + slot);
}

/** The upper half of `subnet`: the network's `ipRange`, for containers that are not the stack's. */
export function upperHalf(subnet: string): string {
  const { first, size, prefix } = cidr(subnet);
  return `${numberToIpv4(first + size / 2)}/${prefix + 1}`;
}

/** True when two IPv4 CIDRs share any address. */
export function subnetsOverlap(a: string, b: string): boolean {
  const x = cidr(a);
  const y = cidr(b);
  return x.first < y.first + y.size && y.first < x.first + x.size;
}

/** The pool's /24s, starting at this stack's own slot (a hash of project and stack names). */
export function candidateSubnets(project: string, stack: string): string[] {
  const pool = cidr(DEFAULT_SUBNET_POOL);
  const count = pool.size / 2 ** (32 - DEFAULT_PREFIX);
  const start = createHash("sha256").update(`${project}/${stack}`).digest().readUInt16BE(0) % count;
  return Array.from({ length: count }, (_, i) => {
    const index = (start + i) % count;
    return `${numberToIpv4(pool.first + index * 2 ** (32 - DEFAULT_PREFIX))}/${DEFAULT_PREFIX}`;
  });
}

/** A network already on the engine, as the subnet choice needs it. */
export interface EngineNetwork {
  name: string;
  subnets: string[];
}

export interface SubnetChoice {
  /** The validated `networkSubnet`, or undefined to let the program choose. */
  configured: string | undefined;
  project: string;
  stack: string;
  /** The stack's own network name: an existing network of that name is this stack's, not a rival. */
  networkName: string;
  /** The engine's networks, or undefined when the engine could not be asked. */
  networks: EngineNetwork[] | undefined;
}

/**
 * The stack network's subnet. A configured `networkSubnet` is used as it is, after checking that no
 * other network on the engine overlaps it. Otherwise the stack keeps the subnet its network already
 * has (so a second `pulumi up` changes nothing), or takes the first free /24 of the default pool,
 * starting at a slot hashed from the stack's name (so two stacks rarely even compete for one).
 */
export function chooseSubnet(choice: SubnetChoice): string {
  const others = (choice.networks ?? []).filter((n) => n.name !== choice.networkName);
  const ipv4 = (subnets: string[]) => subnets.filter((s) => parseIpv4Cidr(s) !== undefined);
  const rival = (subnet: string) =>
    others.find((n) => ipv4(n.subnets).some((s) => subnetsOverlap(s, subnet)));

  if (choice.configured !== undefined) {
    const clash = rival(choice.configured);
    if (clash) {
      throw new Error(
        `networkSubnet ${choice.configured} overlaps network ${clash.name} ` +
          `(${ipv4(clash.subnets).join(", ")}) on this Docker engine; choose a free subnet, ` +
          `or unset networkSubnet to let the program pick one`,
      );
    }
    return choice.configured;
  }

  // Stryker disable next-line ArrayDeclaration: an element that is not a network has no name, so none is found either way
  const own = (choice.networks ?? []).find((n) => n.name === choice.networkName);
  const ownSubnet = own && ipv4(own.subnets)[0];
  if (ownSubnet && !rival(ownSubnet)) return ownSubnet;

  const free = candidateSubnets(choice.project, choice.stack).find((subnet) => !rival(subnet));
  if (!free) {
    throw new Error(
      `networkSubnet is unset and every /24 of ${DEFAULT_SUBNET_POOL} is taken on this Docker ` +
        `engine; set networkSubnet to a free subnet (a /25 or larger)`,
    );
  }
  return free;
}
