#!/bin/sh
# Serves "<task hostname> on <node>\n" at / on :8080. NODE_NAME comes from the service's template
# env ({{.Node.Hostname}}), so a reply says which node answered.
set -eu
mkdir -p /srv/www
printf '%s on %s\n' "$(hostname)" "${NODE_NAME:-unknown}" >/srv/www/index.html
exec busybox httpd -f -v -p 8080 -h /srv/www
