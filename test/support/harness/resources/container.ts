// docker.Container: pulumi-docker bridges kreuzwerker/terraform-provider-docker's
// `docker_container` (internal/provider/resource_docker_container.go for the schema,
// resource_docker_container_funcs.go for create/read/update/delete).
import type Docker from "dockerode";
import type { ResourceState } from "../engine";
import {
  durationNs,
  goDuration,
  ignoreMissing,
  ignoreNotModified,
  ignoreStopped,
  labelMap,
  type LabelInput,
} from "./engineApi";
import { InitializationError, type DockerContext, type ResourceModule } from "./types";
import type { PropertyMap } from "../propertyMap";

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
  // Least privilege (src/containers/hardening.ts).
  readOnly?: boolean;
  mounts?: ContainerMount[];
  capabilities?: { adds?: string[]; drops?: string[] };
  securityOpts?: string[];
  memory?: number;
  memorySwap?: number;
  cpus?: string;
  logDriver?: string;
  logOpts?: Record<string, string>;
  uploads?: { file: string; content?: string; permissions?: string; executable?: boolean }[];
  volumes?: { volumeName?: string; containerPath: string; readOnly?: boolean }[];
}

/** The mounts the harness implements: tmpfs only (no bind or volume source, no options of theirs). */
export interface ContainerMount {
  target: string;
  type: "tmpfs";
  source?: string;
  readOnly?: boolean;
  tmpfsOptions?: { sizeBytes?: number; mode?: number };
}

const MiB = 1024 * 1024;

/** The error text of v4.5.0 resource_docker_container_funcs.go `errContainerFailedToBeInHealthyState`. */
export const FAILED_TO_BE_HEALTHY = "container failed to be in healthy state";

/**
 * resourceDockerContainerCreate's `wait` (v4.5.0): a goroutine inspects the container every
 * second until its health is "healthy", under a context that ends after `wait_timeout` seconds;
 * it does not look at whether the container still runs, so one that exited is polled until the
 * timeout, which fails with errContainerFailedToBeInHealthyState. A container without a
 * healthcheck fails at once with the provider's own message. `capSeconds` (a test's shorter
 * wait, ProviderWaits.containerWaitCapSeconds) bounds the timeout.
 */
async function waitHealthy(
  container: Docker.Container,
  timeoutSeconds: number,
  capSeconds: number | undefined,
) {
  const seconds = capSeconds === undefined ? timeoutSeconds : Math.min(timeoutSeconds, capSeconds);
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const info = await container.inspect();
    if (!info.State?.Health) {
      throw new Error(
        "you have supplied a 'wait' argument, but the container does not have a healthcheck " +
          "defined. Please remove the 'wait' argument or add a 'healthcheck' attribute",
      );
    }
    if (info.State.Health.Status === "healthy") return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(FAILED_TO_BE_HEALTHY);
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, left)));
  }
}

/** Go's time.Duration.String() of a Docker healthcheck duration (nanoseconds, 0 when unset). */
const healthDuration = (ns: number | undefined) => goDuration(ns ?? 0);

/**
 * The mounts as Terraform sees them: resource_docker_container_structures.go
 * `getDockerContainerMounts` reports target, source, type and read_only of every mount and, for a
 * tmpfs, tmpfs_options' size_bytes and mode; an attribute the config leaves out is its zero value
 * there (Terraform reads an unset attribute of a set element as its type's zero), so check() fills
 * the same zeroes and the two compare equal when they agree.
 */
function tmpfsMount(mount: {
  target: string;
  source?: string;
  readOnly?: boolean;
  tmpfsOptions?: { sizeBytes?: number; mode?: number };
}): ContainerMount {
  return {
    target: mount.target,
    type: "tmpfs",
    source: mount.source ?? "",
    readOnly: mount.readOnly ?? false,
    tmpfsOptions: {
      sizeBytes: mount.tmpfsOptions?.sizeBytes ?? 0,
      mode: mount.tmpfsOptions?.mode ?? 0,
    },
  };
}

/**
 * `capabilities` as Read sets it (add and drop, both TypeSet: order is not part of the value, and
 * an empty set is the same as none), sorted and without empty lists so config and state compare.
 */
function capabilitySets(
  adds: readonly string[] | null | undefined,
  drops: readonly string[] | null | undefined,
) {
  return {
    ...(adds?.length ? { adds: [...adds].sort() } : {}),
    ...(drops?.length ? { drops: [...drops].sort() } : {}),
  };
}

/**
 * helpers.go `nanoInt64ToDecimalString`: NanoCpus as Read reports `cpus`. big.Rat's
 * FloatString(9), then: exactly nine "0" characters in it → FloatString(1) (rounded half away from
 * zero: "1.0", but 0.05 → "0.1"); else trailing zeros cut ("1.5", "10." for ten CPUs). In integers,
 * as big.Rat computes it: a float's toFixed would round 40.05 down.
 */
export function nanoCpusAsDecimal(nano: number): string {
  if (nano === 0) return "0";
  const whole = Math.floor(nano / 1e9);
  const fixed = `${whole}.${String(nano % 1e9).padStart(9, "0")}`;
  if ((fixed.match(/0/g) ?? []).length === 9) {
    const tenths = Math.floor(nano / 1e8) + (nano % 1e8 >= 5e7 ? 1 : 0);
    return `${Math.floor(tenths / 10)}.${tenths % 10}`;
  }
  return fixed.replace(/0+$/, "");
}

/**
 * resourceDockerContainerRead (v4.5.0 resource_docker_container_funcs.go) over the prior state:
 * the container gone → undefined ("This container doesn't exist anymore": SetId("")); else the
 * attributes it sets from ContainerInspect, the rest kept from the state. For the inputs the
 * harness implements:
 * - set from Docker: name (leading "/" trimmed), image (the image id when the state's image is a
 *   `sha256:` id, else Config.Image), hostname, command, user, restart, healthcheck (when the
 *   container has one: the image's HEALTHCHECK too), network_data, and `ports` (only when the
 *   state has ports, and only when the container runs or must_run is set: from
 *   NetworkSettings.Ports, which is empty for a stopped container);
 * - a stopped container: exit_code, and must_run set to false when it was true ("This creates a
 *   state drift that Terraform will detect and trigger an update");
 * - never read: envs and labels ("We decided not to set the environment variables and labels"),
 *   networks_advanced (only when empty, for import), wait, wait_timeout, start,
 *   destroy_grace_seconds.
 */
export async function readContainer(
  docker: Docker,
  id: string,
  prior: PropertyMap,
): Promise<PropertyMap | undefined> {
  // fetchDockerContainer: ContainerList(all) and a match on the id, so any other error fails.
  const listed = await docker.listContainers({ all: true, filters: { id: [id] } });
  if (!listed.some((summary) => summary.Id === id)) return undefined;
  const info = await docker.getContainer(id).inspect();
  const running = info.State.Running;
  const outputs: PropertyMap = { ...prior };
  if (prior.ports !== undefined && (running || prior.mustRun !== false)) {
    outputs.ports = flattenContainerPorts(info.NetworkSettings.Ports ?? {});
  }
  outputs.networkDatas = Object.entries(info.NetworkSettings.Networks ?? {}).map(
    ([networkName, data]) => ({
      networkName,
      ipAddress: data.IPAddress,
      ipPrefixLength: data.IPPrefixLen,
      gateway: data.Gateway,
      macAddress: data.MacAddress,
      globalIpv6Address: data.GlobalIPv6Address,
      globalIpv6PrefixLength: data.GlobalIPv6PrefixLen,
      ipv6Gateway: data.IPv6Gateway,
    }),
  );
  if (!running) {
    outputs.exitCode = info.State.ExitCode;
    if (outputs.mustRun !== false) outputs.mustRun = false;
  }
  outputs.name = info.Name.replace(/^\/+/, "");
  outputs.image = String(prior.image ?? "").startsWith("sha256:") ? info.Image : info.Config.Image;
  outputs.hostname = info.Config.Hostname;
  outputs.command = info.Config.Cmd ?? undefined;
  outputs.user = info.Config.User;
  outputs.restart = info.HostConfig.RestartPolicy?.Name ?? "";
  readLeastPrivilege(info, prior, outputs);
  const health = info.Config.Healthcheck;
  if (health) {
    outputs.healthcheck = {
      tests: health.Test,
      interval: healthDuration(health.Interval),
      timeout: healthDuration(health.Timeout),
      startPeriod: healthDuration(health.StartPeriod),
      retries: health.Retries ?? 0,
    };
  }
  return outputs;
}

/**
 * The attributes of least privilege as resourceDockerContainerRead sets them from ContainerInspect:
 * read_only (ReadonlyRootfs), mounts (getDockerContainerMounts), capabilities (only when CapAdd or
 * CapDrop is non-empty), security_opts (SecurityOpt), memory and memory_swap (bytes / 1024 / 1024;
 * a MemorySwap of 0 or -1 as it is), cpus (nanoInt64ToDecimalString, only when NanoCpus > 0),
 * log_driver (LogConfig.Type) and log_opts (LogConfig.Config, only when the state has log_opts:
 * containerLogOptsForState).
 */
function readLeastPrivilege(
  info: Docker.ContainerInspectInfo,
  prior: PropertyMap,
  outputs: PropertyMap,
) {
  // dockerode types these as `any`: the Engine API's string lists and log configuration.
  const host = info.HostConfig as Omit<
    Docker.HostConfig,
    "CapAdd" | "CapDrop" | "SecurityOpt" | "LogConfig"
  > & {
    CapAdd?: string[] | null;
    CapDrop?: string[] | null;
    SecurityOpt?: string[] | null;
    LogConfig?: { Type: string; Config?: Record<string, string> };
    Mounts?: {
      Type: string;
      Target: string;
      Source?: string;
      ReadOnly?: boolean;
      TmpfsOptions?: { SizeBytes?: number; Mode?: number };
    }[];
    NanoCpus?: number;
  };
  outputs.readOnly = host.ReadonlyRootfs ?? false;
  outputs.mounts = (host.Mounts ?? []).map((mount) => {
    if (mount.Type !== "tmpfs") {
      throw new Error(
        `harness: container ${outputs.name} has a ${mount.Type} mount; only tmpfs is modelled`,
      );
    }
    return tmpfsMount({
      target: mount.Target,
      source: mount.Source,
      readOnly: mount.ReadOnly,
      tmpfsOptions: { sizeBytes: mount.TmpfsOptions?.SizeBytes, mode: mount.TmpfsOptions?.Mode },
    });
  });
  if ((host.CapAdd ?? []).length > 0 || (host.CapDrop ?? []).length > 0) {
    outputs.capabilities = capabilitySets(host.CapAdd, host.CapDrop);
  }
  outputs.securityOpts = host.SecurityOpt ?? [];
  outputs.memory = Math.floor((host.Memory ?? 0) / MiB);
  const swap = host.MemorySwap ?? 0;
  outputs.memorySwap = swap > 0 ? Math.floor(swap / MiB) : swap;
  if ((host.NanoCpus ?? 0) > 0) outputs.cpus = nanoCpusAsDecimal(host.NanoCpus!);
  outputs.logDriver = host.LogConfig?.Type ?? "";
  const priorLogOpts = prior.logOpts as Record<string, string> | undefined;
  if (priorLogOpts !== undefined && Object.keys(priorLogOpts).length > 0) {
    outputs.logOpts = host.LogConfig?.Config ?? {};
  }
}

/**
 * resource_docker_container_structures.go `flattenContainerPorts`: one entry per host binding,
 * ports in order, with the HostIp Docker reports (an engine may list 0.0.0.0 and :: for one port).
 */
function flattenContainerPorts(
  ports: Record<string, { HostIp: string; HostPort: string }[] | null>,
) {
  const byPort = Object.keys(ports).sort((a, b) => {
    const [portA, protoA] = a.split("/");
    const [portB, protoB] = b.split("/");
    return Number(portA) - Number(portB) || protoA.localeCompare(protoB);
  });
  return byPort.flatMap((key) => {
    const [internal, protocol] = key.split("/");
    return (ports[key] ?? []).map((binding) => ({
      internal: Number(internal),
      external: Number(binding.HostPort) || 0,
      ip: binding.HostIp,
      protocol,
    }));
  });
}

/**
 * resourceDockerContainerCreate (v4.5.0): ContainerCreate, **SetId**, NetworkConnect for the
 * other networks, ContainerStart, the `wait` for health, then resourceDockerContainerRead. Once
 * the id is set, a failure (start, wait) leaves the container in the state: the SDK returns the
 * state with the id and the error (terraform-plugin-sdk helper/schema/resource.go `Apply` returns
 * `data.State()` beside the create's diagnostics; computed attributes the create never set, such
 * as network_data, are absent), and the bridge turns that into an initialization error
 * (InitializationError here).
 */
export async function createContainer(
  docker: Docker,
  inputs: ContainerInputs,
  extraLabels: Record<string, string>,
  waitCapSeconds: number | undefined,
): Promise<{ id: string; outputs: PropertyMap }> {
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
      // resourceDockerContainerCreate's hostConfig: ReadonlyRootfs, Mounts (a tmpfs with its
      // TmpfsOptions), CapAdd/CapDrop, SecurityOpt, Memory and MemorySwap (MBs * 1024 * 1024; a
      // memory_swap of -1 as it is), NanoCPUs (opts.ParseCPUs of `cpus`), LogConfig.
      ReadonlyRootfs: inputs.readOnly ?? false,
      // dockerode's MountSettings wants every TmpfsOptions field; the Engine API does not.
      Mounts: inputs.mounts?.map((mount) => ({
        Type: mount.type,
        Target: mount.target,
        Source: mount.source ?? "",
        ReadOnly: mount.readOnly ?? false,
        TmpfsOptions: mount.tmpfsOptions && {
          ...(mount.tmpfsOptions.sizeBytes ? { SizeBytes: mount.tmpfsOptions.sizeBytes } : {}),
          ...(mount.tmpfsOptions.mode ? { Mode: mount.tmpfsOptions.mode } : {}),
        },
      })) as Docker.MountConfig | undefined,
      CapAdd: inputs.capabilities?.adds,
      CapDrop: inputs.capabilities?.drops,
      SecurityOpt: inputs.securityOpts,
      Memory: inputs.memory ? inputs.memory * MiB : undefined,
      MemorySwap: inputs.memorySwap
        ? inputs.memorySwap > 0
          ? inputs.memorySwap * MiB
          : inputs.memorySwap
        : undefined,
      NanoCpus: inputs.cpus ? Math.round(Number(inputs.cpus) * 1e9) : undefined,
      LogConfig: { Type: inputs.logDriver ?? "", Config: inputs.logOpts ?? {} },
      // resource_docker_container_structures.go volumeSetToDockerVolumes (v4.5.0): a `volumes`
      // entry with a volume_name becomes "<volume>:<container_path>:rw|ro" in HostConfig.Binds.
      Binds: (inputs.volumes ?? []).map((volume) => {
        if (!volume.volumeName) {
          throw new Error("harness: a container volume without volumeName is not modelled");
        }
        return `${volume.volumeName}:${volume.containerPath}:${volume.readOnly ? "ro" : "rw"}`;
      }),
    },
    NetworkingConfig: firstNetwork
      ? { EndpointsConfig: { [firstNetwork.name]: endpoint(firstNetwork) } }
      : undefined,
  });
  const id = container.id;
  try {
    for (const upload of inputs.uploads ?? []) await uploadFile(container, upload);
    for (const network of otherNetworks) {
      await docker
        .getNetwork(network.name)
        .connect({ Container: id, EndpointConfig: endpoint(network) });
    }
    if (inputs.start ?? true) {
      await container.start().catch((error: Error) => {
        throw new Error(`Unable to start container: ${error.message}`);
      });
      if (inputs.wait) await waitHealthy(container, inputs.waitTimeout ?? 60, waitCapSeconds);
    }
  } catch (error) {
    throw new InitializationError(id, { ...inputs }, [(error as Error).message]);
  }
  const outputs = await readContainer(docker, id, { ...inputs });
  if (!outputs)
    throw new Error(`harness: container ${inputs.name} vanished right after its create`);
  return { id, outputs };
}

/**
 * resourceDockerContainerCreate's `upload` loop (v4.5.0 resource_docker_container_funcs.go): each
 * upload becomes a one-file tar (header Name = `file`, mode from `permissions`, else 0744 when
 * `executable`, else 0644; no owner, so root) sent with CopyToContainer to "/" after the network
 * connects and before the start. One of content, content_base64 or source must be set; the
 * harness implements `content` only.
 */
async function uploadFile(
  container: Docker.Container,
  upload: NonNullable<ContainerInputs["uploads"]>[number],
) {
  if (upload.content === undefined) {
    throw new Error(`harness: upload ${upload.file}: only \`content\` is modelled`);
  }
  const mode = upload.permissions
    ? parseInt(upload.permissions, 8)
    : upload.executable
      ? 0o744
      : 0o644;
  await container
    .putArchive(oneFileTar(upload.file, mode, upload.content), { path: "/" })
    .catch((error: Error) => {
      throw new Error(`Unable to upload volume content: ${error.message}`);
    });
}

/** A POSIX ustar archive of one regular file (Go's archive/tar writes the same for the provider). */
function oneFileTar(name: string, mode: number, content: string): Buffer {
  const body = Buffer.from(content, "utf8");
  const header = Buffer.alloc(512);
  const path = name.replace(/^\/+/, "");
  if (Buffer.byteLength(path) > 100) throw new Error(`harness: upload path too long: ${name}`);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0") + "\0";
  header.write(path, 0);
  header.write(octal(mode, 8), 100);
  header.write(octal(0, 8), 108); // uid
  header.write(octal(0, 8), 116); // gid
  header.write(octal(body.length, 12), 124);
  header.write(octal(Math.floor(Date.now() / 1000), 12), 136);
  header.write("        ", 148); // checksum field counts as spaces
  header.write("0", 156); // regular file
  header.write("ustar\u000000", 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

/** Creates a container (also outside the program: DockerHarness.runContainer), tracked. */
export async function runContainer(context: DockerContext, inputs: ContainerInputs) {
  try {
    const result = await createContainer(
      context.docker,
      inputs,
      context.labels,
      context.waits.containerWaitCapSeconds,
    );
    context.track({ kind: "container", id: result.id, name: inputs.name });
    return result;
  } catch (error) {
    // A container that failed after its create still exists: remember it so destroy finds it.
    if (error instanceof InitializationError) {
      context.track({ kind: "container", id: error.id, name: inputs.name });
    }
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
    readOnly: true,
    mounts: {
      target: true,
      type: true,
      source: true,
      readOnly: true,
      tmpfsOptions: { sizeBytes: true, mode: true },
    },
    capabilities: { adds: true, drops: true },
    securityOpts: true,
    memory: true,
    memorySwap: true,
    cpus: true,
    logDriver: true,
    logOpts: true,
    uploads: { file: true, content: true, permissions: true, executable: true },
    volumes: { volumeName: true, containerPath: true, readOnly: true },
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
      // `upload` is ForceNew, and so is each of its fields ("The container is mutated once, and
      // never updated later"); `volumes` too (v4.5.0 resource_docker_container.go).
      uploads: "replace",
      volumes: "replace",
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
      // Least privilege. ForceNew in the schema: read_only, mounts (and every attribute below
      // it), capabilities (and add, drop), security_opts, cpus, log_driver, log_opts. memory and
      // memory_swap are not: they are in resourceDockerContainerUpdate's attrs list, applied to
      // the running container with one ContainerUpdate.
      readOnly: "replace",
      mounts: "replace",
      capabilities: "replace",
      securityOpts: "replace",
      cpus: "replace",
      logDriver: "replace",
      logOpts: "replace",
      memory: "container-update",
      memorySwap: "container-update",
    },
    // security_opts and log_driver are Optional + Computed (Read reports Docker's values).
    computed: new Set([
      "hostname",
      "command",
      "envs",
      "labels",
      "healthcheck",
      "securityOpts",
      "logDriver",
    ]),
    // `mounts`, `security_opts`, `upload` and `volumes` are TypeSets as well
    // (resource_docker_container.go).
    sets: new Set(["envs", "labels", "mounts", "securityOpts", "uploads", "volumes"]),
    suppressDiff: {
      // resource_docker_container.go `user`: DiffSuppressFunc "treat "" as a no-op, which is
      // Docker's default value": Read sets the image's USER (e.g. node), a program that sets no
      // user sees no change.
      user: (prior, next) => next === undefined || next === "" || next === prior,
    },
    // pulumi-docker provider/resources.go marks `docker_container` `DeleteBeforeReplace: true`
    // (and its `name` is auto-named too: nameRequiresDeleteBeforeReplace would agree).
    deleteBeforeReplace: () => true,
    diffBasis: "outputs",
  },
  /**
   * The bridge's Check: the inputs with the Terraform schema's Default values filled in
   * (pulumi-terraform-bridge pkg/tfbridge/provider.go `Check` → `MakeTerraformInputs`, which
   * records them under `__defaults`; Terraform's config reader applies the nested ones the same
   * way), so the diff compares what Terraform compares. Defaults from v4.5.0
   * resource_docker_container.go: restart "no", wait false, wait_timeout 60, must_run true,
   * start true, read_only false; ports[].ip "0.0.0.0", ports[].protocol "tcp". Mounts and
   * capabilities are put in the form Read reports them (tmpfsMount, capabilitySets).
   */
  check: (inputs) => {
    if (inputs.name === undefined) {
      throw new Error("harness: an auto-named docker.Container (no `name`) is not modelled");
    }
    const { ports, mounts, capabilities } = inputs as Partial<ContainerInputs>;
    for (const mount of mounts ?? []) {
      if (mount.type !== "tmpfs") {
        throw new Error(
          `harness: a ${String(mount.type)} mount (container ${String(inputs.name)}) is not modelled`,
        );
      }
    }
    return {
      restart: "no",
      wait: false,
      waitTimeout: 60,
      mustRun: true,
      start: true,
      readOnly: false,
      ...inputs,
      ...(mounts && { mounts: mounts.map(tmpfsMount) }),
      ...(capabilities && {
        capabilities: capabilitySets(capabilities.adds, capabilities.drops),
      }),
      ...(ports && {
        ports: ports.map((port) => ({
          ip: "0.0.0.0",
          protocol: "tcp",
          ...port,
        })),
      }),
    };
  },
  docker: {
    create: (context, inputs) =>
      context.timed("deploy", () => runContainer(context, inputs as ContainerInputs)),
    read: (context, state) => readContainer(context.docker, state.id!, state.outputs),
    async update(context, old: ResourceState, inputs, diff) {
      // The bridge's Update with no Terraform diff (e.g. the empty update that resolves init
      // errors) returns the old state as it is: pkg/tfbridge/provider.go `Update`, `diff == nil`.
      if (diff.changedKeys.length === 0) return old.outputs;
      const handle = context.docker.getContainer(old.id!);
      let containerUpdated = false;
      for (const key of diff.changedKeys) {
        switch (container.rules.properties[key]) {
          case "container-update": {
            // resourceDockerContainerUpdate: at the first changed attribute of its attrs list,
            // one ContainerUpdate with the restart policy and the resources (memory in MBs *
            // 1024 * 1024, memory_swap only when set), then `break`: the other attributes went
            // with it. cpu_shares, memory_reservation and cpu_set, which the harness does not
            // implement, go as their zero values, which ContainerUpdate leaves alone.
            if (containerUpdated) break;
            containerUpdated = true;
            const { restart, memory, memorySwap } = inputs as ContainerInputs;
            await handle.update({
              RestartPolicy: { Name: restart ?? "no" },
              Memory: (memory ?? 0) * MiB,
              ...(memorySwap ? { MemorySwap: memorySwap > 0 ? memorySwap * MiB : memorySwap } : {}),
            });
            break;
          }
          case "must-run":
            // resourceDockerContainerUpdate: must_run false → true (the state's false, which
            // Read sets for a stopped container) starts the container.
            if (
              old.outputs.mustRun === false &&
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
      // resourceDockerContainerUpdate ends without a Read: the SDK returns the old state with the
      // planned values applied (helper/schema/resource.go `Apply` → `data.State()`).
      return { ...old.outputs, ...inputs };
    },
    delete: (context, state) =>
      context.timed("teardown", () =>
        removeContainer(context, state.id!, (state.inputs as ContainerInputs).destroyGraceSeconds),
      ),
  },
  memory: {
    uniqueName: true,
    create: (context, inputs) => ({
      ...inputs,
      networkDatas: ((inputs as ContainerInputs).networksAdvanced ?? []).map((network) => ({
        networkName: network.name,
        ipAddress: network.ipv4Address ?? context.nextAddress(),
      })),
      exitCode: null,
    }),
    update: (old, inputs, diff) =>
      diff.changedKeys.length === 0 ? old.outputs : { ...old.outputs, ...inputs },
  },
};
