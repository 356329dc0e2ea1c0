#!/bin/sh
# Starts the node's Docker engine. Extra arguments are passed on to dockerd.
# Environment: SWARM_INSECURE_REGISTRY (host:port of the test bed's plain-HTTP registry),
# SWARM_ADDRESS_POOL (where the node's own bridges take their subnets).
set -eu

: "${SWARM_INSECURE_REGISTRY:?SWARM_INSECURE_REGISTRY must name the test registry (host:port)}"
: "${SWARM_ADDRESS_POOL:=10.219.0.0/16}"

# With --cgroupns=host the node sees the host's cgroup tree. Its inner containers go below the
# node's own cgroup, so stopping and removing the node (runc kills and removes that cgroup with
# everything under it) leaves no inner cgroup behind on the host.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2 (NOT exercised by this project's CI, which runs on cgroup v1): a cgroup holding
  # processes can't hand controllers to children, so move ours into an "init" child first and
  # enable every controller below the node's cgroup, as docker-library's dind script does.
  # https://github.com/moby/moby/blob/v20.10.24/hack/dind
  own_cgroup="$(sed -n 's/^0:://p' /proc/self/cgroup)"
  mkdir -p "/sys/fs/cgroup${own_cgroup%/}/init"
  xargs -rn1 <"/sys/fs/cgroup${own_cgroup%/}/cgroup.procs" >"/sys/fs/cgroup${own_cgroup%/}/init/cgroup.procs" || :
  sed -e 's/ / +/g' -e 's/^/+/' <"/sys/fs/cgroup${own_cgroup%/}/cgroup.controllers" \
    >"/sys/fs/cgroup${own_cgroup%/}/cgroup.subtree_control"
else
  own_cgroup="$(awk -F: '$2 == "memory" { print $3; exit }' /proc/self/cgroup)"
fi
[ -n "$own_cgroup" ] || { echo "swarm-node: can't find the node's own cgroup in /proc/self/cgroup" >&2; exit 1; }
cgroup_parent="${own_cgroup%/}/swarm-node"

mkdir -p /etc/docker
cat >/etc/docker/daemon.json <<JSON
{
  "insecure-registries": ["$SWARM_INSECURE_REGISTRY"],
  "default-address-pools": [{ "base": "$SWARM_ADDRESS_POOL", "size": 24 }],
  "storage-driver": "overlay2",
  "cgroup-parent": "$cgroup_parent",
  "log-driver": "json-file",
  "log-opts": { "max-size": "1m", "max-file": "2" }
}
JSON

# Docker mounts /proc/sys read-only in an unprivileged container, and the engine tunes the network
# namespaces it makes (bridges, overlay sandboxes: forwarding, router advertisements). Only
# /proc/sys/net is made writable: those settings belong to the node's own network namespaces,
# while the rest of /proc/sys (kernel-wide) stays read-only.
# https://github.com/moby/moby/blob/v20.10.24/oci/defaults.go (ReadonlyPaths: /proc/sys)
if ! touch /proc/sys/net/ipv4/ip_forward 2>/dev/null; then
  mount --bind /proc/sys/net /proc/sys/net
  mount -o remount,bind,rw /proc/sys/net
fi

# A stale pid file from a node stopped hard would make dockerd refuse to start.
rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid

# --tls=false says plain TCP is meant: without it, dockerd 20.10 waits 15 s at start to warn about
# it (https://github.com/moby/moby/pull/41285). The port is published on the host's 127.0.0.1 only.
exec dockerd \
  --host=unix:///var/run/docker.sock \
  --host=tcp://0.0.0.0:2375 \
  --tls=false \
  "$@"
