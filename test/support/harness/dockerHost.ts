// The program asks the engine two things itself (src/engineNetworks.ts, src/swarm/swarmNodes.ts),
// through dockerode's default client, which reads DOCKER_HOST, as the Docker provider does unless
// `docker:host` is set. A harness aimed at another engine (a swarm manager) sets it while the
// program runs, so the program and the harness talk to the same engine.

/** Runs `work` with DOCKER_HOST set to `host` (unchanged when undefined), then restores it. */
export async function withDockerHost<T>(host: string | undefined, work: () => Promise<T>) {
  if (host === undefined) return work();
  const before = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = host;
  try {
    return await work();
  } finally {
    if (before === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = before;
  }
}
