// Polling and stream helpers for the swarm test bed.
import type Docker from "dockerode";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `intervalMs` until it returns a value (not undefined) and returns it. A
 * check that throws counts as "not yet"; after `timeoutMs` the error names what was awaited and
 * the last failure.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** Reads an engine's JSON progress stream to its end; rejects on an error event. */
export function followStream(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error, events: { error?: string }[]) => {
      const failure = error?.message ?? events.find((event) => event.error)?.error;
      if (failure) reject(new Error(failure));
      else resolve();
    });
  });
}
