#!/usr/bin/env bash
# Container runtime for procbeat's integration tests: podman serving the
# Docker API on a unix socket, so testcontainers-go can start Elasticsearch.
#
# Usage:
#   eval "$(.ci/podman.sh)"    # set up, then export DOCKER_HOST & co.
#   . .ci/podman.sh            # same, exports straight into this shell
#   .ci/podman.sh stop         # stop the API service this script started
#
# Idempotent: packages are installed only when missing, the config file is
# rewritten only when it differs, and a service that already answers is reused.
# All progress goes to stderr; stdout carries only the export lines.
#
# Settings (see FACTS.md section 4): runc instead of crun (crun fails on this
# kernel's cgroup setup) and explicit ulimits (Elasticsearch's bootstrap
# checks need a high nofile limit).

procbeat_podman_socket=/run/podman/podman.sock
procbeat_podman_pidfile=/run/podman/procbeat-podman-service.pid
procbeat_podman_log=/var/log/procbeat-podman-service.log

procbeat_podman_setup() (
	set -euo pipefail
	log() { printf 'podman.sh: %s\n' "$*" >&2; }

	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { log "must run as root (or with sudo available)"; exit 1; }
		sudo="sudo"
	fi

	# 1. Packages. netavark (with iptables, which it drives), aardvark-dns
	# and catatonit are podman recommends we rely on (container networking,
	# --init); the rest of its recommends are not needed.
	pkgs="podman runc debootstrap uidmap slirp4netns fuse-overlayfs netavark aardvark-dns iptables catatonit curl"
	missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		log "installing:$missing"
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		# shellcheck disable=SC2086
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
	else
		log "packages present: $pkgs"
	fi

	# 2. containers.conf. The file is ours when it carries the marker line;
	# a foreign file is kept aside once, never silently merged.
	conf=/etc/containers/containers.conf
	want='# managed by procbeat .ci/podman.sh
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=8192:8192"]

[engine]
runtime = "runc"'
	if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
		if [ -f "$conf" ] && ! head -n1 "$conf" | grep -q '^# managed by procbeat'; then
			log "keeping previous $conf as $conf.procbeat-orig"
			$sudo cp -n "$conf" "$conf.procbeat-orig"
		fi
		$sudo mkdir -p /etc/containers
		printf '%s\n' "$want" | $sudo tee "$conf" >/dev/null
		log "wrote $conf"
		config_changed=1
	else
		config_changed=0
	fi

	# 3. The Docker-compatible API service.
	ping() { curl -fsS -m 5 --unix-socket "$procbeat_podman_socket" http://d/_ping >/dev/null 2>&1; }
	if ping && [ "$config_changed" = 1 ] && [ -f "$procbeat_podman_pidfile" ]; then
		# Our own service predates the config change: restart it so it reads it.
		log "config changed: restarting service"
		$sudo kill "$(cat "$procbeat_podman_pidfile")" 2>/dev/null || true
		sleep 1
	fi
	if ping; then
		log "service already answering on $procbeat_podman_socket"
	else
		$sudo mkdir -p "$(dirname "$procbeat_podman_socket")"
		$sudo rm -f "$procbeat_podman_socket"
		log "starting podman system service (log: $procbeat_podman_log)"
		# setsid + nohup: the service must outlive this script and the CI step
		# that sourced it; stop it with "podman.sh stop".
		$sudo setsid nohup podman system service --time=0 "unix://$procbeat_podman_socket" \
			>"$procbeat_podman_log" 2>&1 </dev/null &
		echo $! | $sudo tee "$procbeat_podman_pidfile" >/dev/null
		for _ in $(seq 1 60); do
			ping && break
			sleep 0.5
		done
		if ! ping; then
			log "service did not answer within 30s; last log lines:"
			tail -n 20 "$procbeat_podman_log" >&2 || true
			exit 1
		fi
		log "service answering on $procbeat_podman_socket"
	fi
	log "$(podman --version), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || echo '?')"
)

procbeat_podman_stop() {
	if [ -f "$procbeat_podman_pidfile" ]; then
		pid=$(cat "$procbeat_podman_pidfile")
		kill "$pid" 2>/dev/null && printf 'podman.sh: stopped service pid %s\n' "$pid" >&2
		rm -f "$procbeat_podman_pidfile"
	else
		printf 'podman.sh: no service started by this script\n' >&2
	fi
}

procbeat_podman_exports() {
	printf 'export DOCKER_HOST=%s\n' "unix://$procbeat_podman_socket"
	printf 'export TESTCONTAINERS_RYUK_DISABLED=true\n'
	printf 'export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1\n'
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	# Sourced: run the setup as a child process (errexit is switched off
	# for functions called in conditions, which would hide failures), then
	# export into the caller's shell; never exit it.
	if procbeat_podman_out=$(bash "${BASH_SOURCE[0]}" setup); then
		eval "$procbeat_podman_out"
		unset procbeat_podman_out
	else
		printf 'podman.sh: setup failed\n' >&2
		unset procbeat_podman_out
		return 1
	fi
else
	case "${1:-setup}" in
	setup)
		# A plain command, not part of && or if, so errexit works inside.
		procbeat_podman_setup
		status=$?
		[ "$status" -eq 0 ] || exit "$status"
		procbeat_podman_exports
		;;
	stop) procbeat_podman_stop ;;
	env) procbeat_podman_exports ;;
	*)
		printf 'usage: %s [setup|stop|env]\n' "$0" >&2
		exit 2
		;;
	esac
fi
