// Small pieces of the Docker Engine API shared by the resource modules: label maps, Go-style
// durations, container logs, and the status codes a delete or stop may safely ignore.
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
  const rest = value.replace(
    /(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)/g,
    (_, amount: string, unit: string) => {
      total += Number(amount) * units[unit];
      return "";
    },
  );
  if (rest !== "") throw new Error(`harness: ${JSON.stringify(value)} is not a duration`);
  return total;
}

export async function logTail(container: Docker.Container, lines = 40): Promise<string> {
  const buffer = await container.logs({ stdout: true, stderr: true, tail: lines });
  // Without a TTY the engine multiplexes stdout/stderr in 8-byte-header frames; strip them.
  const text: string[] = [];
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    text.push(buffer.subarray(at + 8, at + 8 + size).toString("utf8"));
    at += 8 + size;
  }
  return text.join("").trimEnd();
}

export function ignoreMissing(error: Error & { statusCode?: number }) {
  if (error.statusCode !== 404) throw error;
}

/** 304: already stopped; 404: already gone. */
export function ignoreStopped(error: Error & { statusCode?: number }) {
  if (error.statusCode !== 304 && error.statusCode !== 404) throw error;
}

export function ignoreNotModified(error: Error & { statusCode?: number }) {
  if (error.statusCode !== 304) throw error;
}

/**
 * terraform-plugin-sdk helper/retry/state.go `StateChangeConf.WaitForStateContext`, for the one
 * shape the provider uses here (a Pending state, a Target state, no PollInterval): wait `delay`,
 * refresh at once, then between refreshes a wait that starts at 100 ms, doubles after each pending
 * answer, and is held between `minTimeout` and `maxWait` (10 s); past `timeout` (counted from the start) it
 * fails with helper/retry/error.go `TimeoutError.Error`'s text.
 */
export async function waitForState(
  conf: {
    delaySeconds: number;
    minTimeoutSeconds: number;
    /** The SDK's fixed 10 s ceiling (scaled with the rest when a test shortens the wait). */
    maxWaitSeconds: number;
    timeoutSeconds: number;
    target: string;
  },
  refresh: () => Promise<string>,
): Promise<void> {
  const started = Date.now();
  const deadline = started + conf.timeoutSeconds * 1000;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const timedOut = (lastState: string) =>
    new Error(
      `timeout while waiting for state to become '${conf.target}' ` +
        `(last state: '${lastState}', timeout: ${goDuration(conf.timeoutSeconds * 1e9)})`,
    );
  let lastState = "";
  const untilDeadline = (ms: number) => Math.max(0, Math.min(ms, deadline - Date.now()));
  await sleep(untilDeadline(conf.delaySeconds * 1000));
  let waitMs = 0;
  for (;;) {
    if (Date.now() >= deadline) throw timedOut(lastState);
    await sleep(untilDeadline(waitMs));
    if (Date.now() >= deadline) throw timedOut(lastState);
    if (waitMs === 0) waitMs = 100;
    lastState = await refresh();
    if (lastState === conf.target) return;
    waitMs = Math.min(
      Math.max(waitMs * 2, conf.minTimeoutSeconds * 1000),
      conf.maxWaitSeconds * 1000,
    );
  }
}

/**
 * The StateChangeConf terraform-provider-docker v4.5.0 puts around removing a network
 * (resource_docker_network_funcs.go resourceDockerNetworkDelete) and a volume
 * (resource_docker_volume.go resourceDockerVolumeDelete), the same constants in both: Delay 2 s,
 * MinTimeout 5 s, Timeout 30 s (and the SDK's 10 s ceiling). A test may shorten the 30 s
 * (ProviderWaits.networkRemoveSeconds): every interval is scaled with it.
 */
export function removalWait(timeoutSeconds: number) {
  const scale = timeoutSeconds / 30;
  return {
    delaySeconds: 2 * scale,
    minTimeoutSeconds: 5 * scale,
    maxWaitSeconds: 10 * scale,
    timeoutSeconds: 30 * scale,
    target: "removed",
  };
}

/** Go's `time.Duration.String()` for whole and fractional seconds and sub-second values. */
export function goDuration(nanoseconds: number): string {
  if (nanoseconds === 0) return "0s";
  if (nanoseconds < 1e6) return `${nanoseconds / 1e3}µs`;
  if (nanoseconds < 1e9) return `${nanoseconds / 1e6}ms`;
  let rest = nanoseconds / 1e9;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  const seconds = `${Number(rest.toFixed(9))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/**
 * Swarm objects as the Engine API returns them (API v1.41: ServiceInspect, TaskList, NodeList),
 * with the fields this project reads; dockerode types these answers `any`.
 */
export interface SwarmService {
  ID: string;
  Version: { Index: number };
  Spec: {
    Name: string;
    TaskTemplate: { ContainerSpec: { Image: string; Env?: string[] } };
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
  };
  UpdateStatus?: { State?: Docker.UpdateState; Message?: string };
}

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  /** Unset until the scheduler assigns the task to a node. */
  NodeID?: string;
  Slot?: number;
  DesiredState: string;
  Spec: { ContainerSpec?: { Image?: string } };
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
  NetworksAttachments?: { Network: { Spec: { Name: string } }; Addresses: string[] }[];
}

export interface SwarmNode {
  ID: string;
  Description: { Hostname: string };
  Spec: { Role: string };
  Status: { State: string; Addr?: string };
}

export async function inspectService(docker: Docker, id: string): Promise<SwarmService> {
  return (await docker.getService(id).inspect()) as SwarmService;
}

export async function listTasks(
  docker: Docker,
  options: { filters: string | Record<string, string[]> },
): Promise<SwarmTask[]> {
  return (await docker.listTasks(options)) as SwarmTask[];
}

export async function listNodes(docker: Docker): Promise<SwarmNode[]> {
  return (await docker.listNodes()) as SwarmNode[];
}
