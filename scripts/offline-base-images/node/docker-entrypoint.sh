#!/bin/sh
# Entrypoint of the official node images, rewritten: the arguments run under node when they are
# node options ("-e ..."), a script file that is not executable ("server.js") or no command at all;
# any other command runs as given ("npm test", "bash").
set -e

runs_under_node() {
	case "$1" in
		-*) return 0 ;;
	esac
	if [ -f "$1" ] && [ ! -x "$1" ]; then
		return 0
	fi
	! command -v "$1" >/dev/null 2>&1
}

if [ "$#" -eq 0 ] || runs_under_node "$1"; then
	set -- node "$@"
fi

exec "$@"
