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
  const rest = value.replace(/(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)/g, (_, amount, unit) => {
    total += Number(amount) * units[unit];
    return "";
  });
  if (rest !== "") throw new Error(`harness: ${JSON.stringify(value)} is not a duration`);
  return total;
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

export function ignoreMissing(error: { statusCode?: number }) {
  if (error.statusCode !== 404) throw error;
}

/** 304: already stopped; 404: already gone. */
export function ignoreStopped(error: { statusCode?: number }) {
  if (error.statusCode !== 304 && error.statusCode !== 404) throw error;
}

export function ignoreNotModified(error: { statusCode?: number }) {
  if (error.statusCode !== 304) throw error;
}
