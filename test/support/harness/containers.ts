// Container and network creation through the Engine API, mapping @pulumi/docker's input names
// (as documented for docker.Container and docker.Network) to the API's fields, and the outputs
// the provider reads back after a create.
import type Docker from "dockerode";

export type LabelInput = { label: string; value: string }[] | undefined;

export function labelMap(
  labels: LabelInput,
  extra: Record<string, string>,
): Record<string, string> {
  return { ...Object.fromEntries((labels ?? []).map((l) => [l.label, l.value])), ...extra };
}

/** Go-style durations as the provider takes them ("5s", "1m30s", "250ms") to nanoseconds. */
export function durationNs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const units: Record<string, number> = { h: 3.6e12, m: 6e10, s: 1e9, ms: 1e6, us: 1e3, ns: 1 };
  let total = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)/g, (_, amount, unit) => {
    total += Number(amount) * units[unit];
    return "";
  });
  if (rest !== "") throw new Error(`harness: ${JSON.stringify(value)} is not a duration`);
  return total;
}

export interface NetworkInputs {
  name: string;
  driver?: string;
  internal?: boolean;
  attachable?: boolean;
  options?: Record<string, string>;
  labels?: LabelInput;
  ipamConfigs?: { subnet?: string; gateway?: string; ipRange?: string }[];
}

export async function createNetwork(
  docker: Docker,
  inputs: NetworkInputs,
  extraLabels: Record<string, string>,
) {
  const network = await docker.createNetwork({
    Name: inputs.name,
    Driver: inputs.driver ?? "bridge",
    Internal: inputs.internal ?? false,
    Attachable: inputs.attachable ?? false,
    Options: inputs.options ?? {},
    Labels: labelMap(inputs.labels, extraLabels),
    CheckDuplicate: true,
    IPAM: {
      Driver: "default",
      Config: (inputs.ipamConfigs ?? []).map((c) => ({
        Subnet: c.subnet,
        Gateway: c.gateway,
        IPRange: c.ipRange,
      })),
    },
  });
  const info = await network.inspect();
  return {
    id: info.Id as string,
    state: {
      ...inputs,
      driver: info.Driver,
      scope: info.Scope,
      ipamDriver: info.IPAM?.Driver,
      ipamConfigs: (info.IPAM?.Config ?? []).map((c: any) => ({
        subnet: c.Subnet,
        gateway: c.Gateway,
        ipRange: c.IPRange,
      })),
    },
  };
}

export interface ContainerInputs {
  name: string;
  image: string;
  hostname?: string;
  envs?: string[];
  command?: string[];
  user?: string;
  labels?: LabelInput;
  networksAdvanced?: { name: string; aliases?: string[]; ipv4Address?: string }[];
  ports?: { internal: number; external?: number; ip?: string; protocol?: string }[];
  healthcheck?: {
    tests?: string[];
    interval?: string;
    timeout?: string;
    startPeriod?: string;
    retries?: number;
  };
  restart?: string;
  wait?: boolean;
  waitTimeout?: number;
  mustRun?: boolean;
  start?: boolean;
  destroyGraceSeconds?: number;
}

export async function logTail(container: Docker.Container, lines = 40): Promise<string> {
  const buffer = (await container.logs({ stdout: true, stderr: true, tail: lines })) as Buffer;
  // Without a TTY the engine multiplexes stdout/stderr in 8-byte-header frames; strip them.
  const text: string[] = [];
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    text.push(buffer.subarray(at + 8, at + 8 + size).toString("utf8"));
    at += 8 + size;
  }
  return text.join("").trimEnd();
}

/**
 * Waits, as the provider's `wait` does, until the container's healthcheck reports healthy; fails
 * at once if the container stops, or after `waitTimeout` seconds (the provider's default is 60).
 */
async function waitHealthy(container: Docker.Container, name: string, timeoutSeconds: number) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const info = await container.inspect();
    if (!info.State.Running) {
      throw new Error(
        `container ${name} exited with code ${info.State.ExitCode} before it was healthy; ` +
          `its log:\n${await logTail(container)}`,
      );
    }
    const health = info.State.Health;
    if (!health) throw new Error(`container ${name}: wait is set but the image has no HEALTHCHECK`);
    if (health.Status === "healthy") return;
    if (Date.now() > deadline) {
      const last = health.Log?.at(-1)?.Output?.trim() ?? "no check ran";
      throw new Error(
        `container ${name} was not healthy within ${timeoutSeconds}s (status ${health.Status}; last check: ${last})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function createContainer(
  docker: Docker,
  inputs: ContainerInputs,
  extraLabels: Record<string, string>,
) {
  const [firstNetwork, ...otherNetworks] = inputs.networksAdvanced ?? [];
  const endpoint = (n: NonNullable<ContainerInputs["networksAdvanced"]>[number]) => ({
    Aliases: n.aliases,
    IPAMConfig: n.ipv4Address ? { IPv4Address: n.ipv4Address } : undefined,
  });
  const portKey = (p: { internal: number; protocol?: string }) =>
    `${p.internal}/${p.protocol ?? "tcp"}`;
  const health = inputs.healthcheck;

  const container = await docker.createContainer({
    name: inputs.name,
    Hostname: inputs.hostname,
    Image: inputs.image,
    Env: inputs.envs ?? [],
    Cmd: inputs.command,
    User: inputs.user,
    Labels: labelMap(inputs.labels, extraLabels),
    ExposedPorts: Object.fromEntries((inputs.ports ?? []).map((p) => [portKey(p), {}])),
    Healthcheck: health && {
      Test: health.tests,
      Interval: durationNs(health.interval),
      Timeout: durationNs(health.timeout),
      StartPeriod: durationNs(health.startPeriod),
      Retries: health.retries,
    },
    HostConfig: {
      // The provider's default bind address is 0.0.0.0 when `ip` is omitted.
      PortBindings: Object.fromEntries(
        (inputs.ports ?? []).map((p) => [
          portKey(p),
          [{ HostIp: p.ip ?? "0.0.0.0", HostPort: p.external ? String(p.external) : "" }],
        ]),
      ),
      RestartPolicy: { Name: inputs.restart ?? "no" },
      NetworkMode: firstNetwork?.name,
    },
    NetworkingConfig: firstNetwork
      ? { EndpointsConfig: { [firstNetwork.name]: endpoint(firstNetwork) } }
      : undefined,
  });
  for (const network of otherNetworks) {
    await docker
      .getNetwork(network.name)
      .connect({ Container: container.id, EndpointConfig: endpoint(network) });
  }

  if (inputs.start ?? true) {
    await container.start();
    if (inputs.wait) await waitHealthy(container, inputs.name, inputs.waitTimeout ?? 60);
    const info = await container.inspect();
    if ((inputs.mustRun ?? true) && !info.State.Running) {
      throw new Error(
        `container ${inputs.name} is not running (exit code ${info.State.ExitCode}); its log:\n${await logTail(container)}`,
      );
    }
  }

  const info = await container.inspect();
  return {
    id: info.Id,
    state: {
      ...inputs,
      networkDatas: Object.entries(info.NetworkSettings.Networks).map(([networkName, data]) => ({
        networkName,
        ipAddress: data.IPAddress,
        ipPrefixLength: data.IPPrefixLen,
        gateway: data.Gateway,
        macAddress: data.MacAddress,
        globalIpv6Address: data.GlobalIPv6Address,
        globalIpv6PrefixLength: data.GlobalIPv6PrefixLen,
        ipv6Gateway: data.IPv6Gateway,
      })),
      exitCode: info.State.Running ? null : info.State.ExitCode,
    },
  };
}
