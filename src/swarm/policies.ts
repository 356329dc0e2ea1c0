// How Swarm rolls a service's tasks, for members and proxy alike. Durations are Go durations, as
// the provider passes them to the Engine API (terraform-provider-docker
// resource_docker_service_funcs.go createServiceSpec).
// https://docs.docker.com/reference/cli/docker/service/update/

/**
 * How long Swarm watches a new task after it started before it counts the update as done: a task
 * that fails its healthcheck within this window makes Swarm roll the service back. Three of the
 * images' 5 s health probes fit in it.
 */
const MONITOR = "15s";

/** Members: the new task starts (and is healthy) before the old one stops; a failure rolls back. */
export const memberUpdateConfig = {
  parallelism: 1,
  order: "start-first",
  failureAction: "rollback",
  monitor: MONITOR,
  maxFailureRatio: "0",
};

/**
 * The proxy publishes its port in host mode: two tasks can't bind one node's port, so the old task
 * stops before the new one starts, one node at a time, while the other nodes' proxies answer.
 */
export const proxyUpdateConfig = { ...memberUpdateConfig, order: "stop-first" };

/** Rolling back goes the same way as rolling forward. */
export const memberRollbackConfig = {
  parallelism: 1,
  order: "start-first",
  failureAction: "pause",
  monitor: MONITOR,
  maxFailureRatio: "0",
};
export const proxyRollbackConfig = { ...memberRollbackConfig, order: "stop-first" };

/**
 * The provider waits until every replica runs the new spec, and fails `pulumi up` with "service
 * rollback completed: …" when Swarm rolled back (terraform-provider-docker
 * resource_docker_service_funcs.go resourceDockerServiceUpdateRefreshFunc). Global services can't
 * have one (the schema's ConflictsWith: converge_config / mode.0.global).
 */
export const convergeConfig = { delay: "2s", timeout: "3m" };

/**
 * How Swarm restarts a task that stopped: always, 5 s after it stopped, with no limit on the
 * attempts (a window of 0 counts every attempt). These are Swarm's own defaults, stated in full:
 * the provider sends each field the program leaves out as 0 (terraform-provider-docker
 * resource_docker_service_structures.go createRestartPolicy), which restarts a crashing task in a
 * tight loop, and reads each one back (flattenTaskRestartPolicy), so an unset delay would differ
 * from the state ("0s") and update every service on every `pulumi up`.
 */
export const restartPolicy = { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" };

/**
 * How long a task may take to stop (SIGTERM, or Apache's SIGWINCH) before Swarm kills it. Stated
 * because the provider sends an unset one as 0 (createContainerSpec): a kill at once. With it set,
 * the provider's delete waits until the service's containers on the manager are removed
 * (resource_docker_service_funcs.go deleteService), so the overlay has no endpoint left there when
 * `pulumi destroy`, or a network replacement, deletes it next. That wait is bounded by this same
 * period and fails the delete when it runs out, so the period must outlast a task's whole stop:
 * Swarm's 2 s for gossip, the graceful stop, the removal. On the test bed that took 7 s, and over
 * 10 s (Docker's default) under load; 30 s leaves room, and a task that stops sooner is not held.
 */
export const STOP_GRACE_PERIOD = "30s";
