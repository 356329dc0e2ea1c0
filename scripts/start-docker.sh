#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`, starting one if needed.
#
#   scripts/start-docker.sh
#
# - If `docker info` already works, it does nothing (safe to call from every CI step).
# - Otherwise, as root: installs Debian's `docker.io` with apt-get when `dockerd` is missing,
#   starts `dockerd` in the background (log: $DOCKERD_LOG, default /var/log/dockerd-ci.log)
#   and waits up to $DOCKER_START_TIMEOUT seconds (default 60) for `docker info` to answer.
# - A daemon it starts is recorded in $OWN_DOCKERD_PIDFILE (default /run/http-infra/dockerd.pid):
#   the e2e suite restarts only an engine recorded there (test/support/dockerEngine.ts), never
#   one it did not start.
# - On failure it exits non-zero with the last lines of the daemon log.
#
# Meant for CI containers/VMs without systemd (e.g. `.ci/run`); on a desktop, start Docker
# the usual way instead.
set -euo pipefail

readonly DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-ci.log}"
readonly DOCKER_START_TIMEOUT="${DOCKER_START_TIMEOUT:-60}"
readonly OWN_DOCKERD_PIDFILE="${OWN_DOCKERD_PIDFILE:-/run/http-infra/dockerd.pid}"

log() { printf 'start-docker: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

docker_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if docker_answers; then
  log "Docker engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "docker info fails and starting dockerd needs root; start Docker yourself"

if ! command -v dockerd >/dev/null 2>&1; then
  log "dockerd not found: installing docker.io with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # docker.io is Debian's own build of the engine (dockerd + CLI + containerd + runc).
  apt-get install -y --no-install-recommends \
    docker.io \
    iptables \
    ca-certificates
fi

# A dockerd may already be starting (e.g. a parallel CI step); only start one when none runs,
# so reruns never fight over /var/run/docker.pid. Only this pid namespace counts: the swarm test
# bed's Docker-in-Docker nodes run dockerd too, visible here, but they are not this host's engine.
dockerd_pid=""
if pgrep --ns $$ --nslist pid -x dockerd >/dev/null 2>&1; then
  log "dockerd is already running but not answering yet; waiting for it"
else
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  log "starting dockerd in the background (log: $DOCKERD_LOG)"
  # A pid file left over by a killed daemon makes dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  # containerd is started by dockerd itself when no system containerd socket is running.
  # setsid: the engine gets a session and process group of its own. Started in the caller's group,
  # it died (SIGKILL, nothing in its log) whenever whatever started it was killed as a group: a
  # shell job ended by its tool, a test runner's worker, a CI step.
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  dockerd_pid=$!
  mkdir -p "$(dirname "$OWN_DOCKERD_PIDFILE")"
  echo "$dockerd_pid" >"$OWN_DOCKERD_PIDFILE"
fi

for ((waited = 0; waited < DOCKER_START_TIMEOUT; waited++)); do
  if docker_answers; then
    log "Docker engine is up after ${waited}s ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  # A daemon that already exited will not answer: fail now rather than at the timeout.
  if [ -n "$dockerd_pid" ] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
    log "error: dockerd exited after ${waited}s; last lines of $DOCKERD_LOG:"
    tail -n 40 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  sleep 1
done

log "error: docker info did not answer within ${DOCKER_START_TIMEOUT}s; last lines of $DOCKERD_LOG:"
tail -n 40 "$DOCKERD_LOG" >&2 || true
exit 1
