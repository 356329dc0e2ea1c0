// docker.Container: pulumi-docker bridges kreuzwerker/terraform-provider-docker's
// `docker_container` (internal/provider/resource_docker_container.go for the schema,
// resource_docker_container_funcs.go for create/read/update/delete).
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import {
  durationNs,
  ignoreMissing,
  ignoreNotModified,
  ignoreStopped,
  labelMap,
  logTail,
  type LabelInput,
} from "./engineApi";
import type { DockerContext, ResourceModule } from "./types";

export const CONTAINER = "docker:index/container:Container";

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

/** Creates a container (also outside the program: DockerHarness.runContainer), tracked. */
export async function runContainer(context: DockerContext, inputs: ContainerInputs) {
  try {
    const result = await createContainer(context.docker, inputs, context.labels);
    context.track({ kind: "container", id: result.id, name: inputs.name });
    return { id: result.id as string, outputs: result.state as Record<string, any> };
  } catch (error) {
    // A container that failed to become healthy still exists: remember it so destroy finds it.
    const existing = await context.docker
      .getContainer(inputs.name)
      .inspect()
      .catch(() => undefined);
    if (existing) context.track({ kind: "container", id: existing.Id, name: inputs.name });
    throw error;
  }
}

/**
 * resourceDockerContainerDelete: ContainerStop with `destroy_grace_seconds` as the timeout (0
 * when unset: the stop signal, then SIGKILL at once), ContainerRemove with force, then wait
 * until it no longer runs.
 */
export async function removeContainer(
  context: DockerContext,
  id: string,
  graceSeconds: number | undefined,
) {
  const container = context.docker.getContainer(id);
  await container.stop({ t: graceSeconds ?? 0 }).catch(ignoreStopped);
  await container.remove({ force: true, v: true }).catch(ignoreMissing);
  context.forget(id);
}

export const container: ResourceModule = {
  type: CONTAINER,
  inputs: {
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
  // resource_docker_container.go `resourceDockerContainer` (ForceNew, Computed, TypeSet on each
  // attribute) and resource_docker_container_funcs.go `resourceDockerContainerUpdate`.
  rules: {
    properties: {
      name: "replace",
      image: "replace",
      hostname: "replace",
      envs: "replace",
      command: "replace",
      user: "replace",
      labels: "replace",
      networksAdvanced: "replace",
      ports: "replace",
      // The attrs list of resourceDockerContainerUpdate: restart goes through ContainerUpdate.
      restart: "container-update",
      mustRun: "must-run",
      // Neither ForceNew nor handled by resourceDockerContainerUpdate: a changed healthcheck is
      // recorded in the state and never reaches the running container.
      healthcheck: "state-only",
      wait: "state-only",
      waitTimeout: "state-only",
      start: "state-only",
      destroyGraceSeconds: "state-only",
    },
    computed: new Set(["hostname", "command", "envs", "labels", "healthcheck"]),
    sets: new Set(["envs", "labels"]),
    // pulumi-docker provider/resources.go marks `docker_container` `DeleteBeforeReplace: true`.
    deleteBeforeReplace: true,
  },
  docker: {
    create: (context, inputs) =>
      context.timed("deploy", () => runContainer(context, inputs as ContainerInputs)),
    async update(context, old: ResourceState, inputs, diff) {
      const handle = context.docker.getContainer(old.id!);
      for (const key of diff.changedKeys) {
        switch (container.rules.properties[key]) {
          case "container-update":
            // resourceDockerContainerUpdate: one ContainerUpdate with the restart policy (and the
            // resource limits, which the harness does not implement).
            await handle.update({ RestartPolicy: { Name: inputs.restart ?? "no" } });
            break;
          case "must-run":
            // resourceDockerContainerUpdate: must_run false → true starts the container.
            if (
              old.inputs.mustRun === false &&
              inputs.mustRun !== false &&
              inputs.start !== false
            ) {
              await handle.start().catch(ignoreNotModified);
            }
            break;
          case "state-only":
            break;
          default:
            throw new Error(`harness: ${old.name}: "${key}" is not an in-place update`);
        }
      }
      // The bridge reads the resource back after Update; the computed outputs are unchanged.
      return { ...old.outputs, ...inputs };
    },
    delete: (context, state) =>
      context.timed("teardown", () =>
        removeContainer(context, state.id!, state.inputs.destroyGraceSeconds),
      ),
  },
  memory: {
    uniqueName: true,
    create: (context, inputs) => ({
      ...inputs,
      networkDatas: (inputs.networksAdvanced ?? []).map(
        (network: { name: string; ipv4Address?: string }) => ({
          networkName: network.name,
          ipAddress: network.ipv4Address ?? context.nextAddress(),
        }),
      ),
      exitCode: null,
    }),
    update: (old, inputs) => ({ ...old.outputs, ...inputs }),
  },
};
