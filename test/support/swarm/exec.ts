// Running a command in a container of a swarm node (docker exec), for probes from inside the swarm.
import type Docker from "dockerode";
import { PassThrough } from "node:stream";

/** Runs `cmd` in the container and returns its exit code and output; throws on a timeout. */
export async function execInContainer(
  docker: Docker,
  containerId: string,
  cmd: string[],
  timeoutMs = 15_000,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  stdout.on("data", (chunk: Buffer) => chunks.stdout.push(chunk));
  stderr.on("data", (chunk: Buffer) => chunks.stderr.push(chunk));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`exec ${cmd.join(" ")} in ${containerId} took over ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on("end", () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on("error", reject);
  });
  const { ExitCode } = await exec.inspect();
  return {
    exitCode: ExitCode ?? -1,
    stdout: Buffer.concat(chunks.stdout).toString("utf8"),
    stderr: Buffer.concat(chunks.stderr).toString("utf8"),
  };
}
