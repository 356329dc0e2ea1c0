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
