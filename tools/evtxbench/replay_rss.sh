#!/usr/bin/env bash
# Peak RSS of `procbeat replay` on a ~1 GB EVTX file made of corpus chunks
# (acceptance: under 64 MB). Not run in CI; needs GNU time (/usr/bin/time,
# Debian package "time"). See README.md here.
#
#   bash tools/evtxbench/replay_rss.sh          # REPS=3, BYTES=1073741824
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

REPS="${REPS:-3}"
BYTES="${BYTES:-1073741824}"
if ! [ -x /usr/bin/time ]; then
	echo "replay_rss.sh: needs /usr/bin/time (apt-get install time)" >&2
	exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/evtxrss.XXXXXX")"
trap 'rm -rf "$work"' EXIT
go build -o "$work/procbeat" ./cmd/procbeat
info="$(cd evtx && PROCBEAT_EVTX_BENCH_OUT="$work/big.evtx" PROCBEAT_EVTX_BENCH_RECORDS=0 PROCBEAT_EVTX_BENCH_BYTES="$BYTES" \
	go test -run '^TestWriteBenchFile$' -count=1 -v . | grep '^records=' || true)"
if [ -z "$info" ]; then
	echo "replay_rss.sh: no input written (is ../shared/corpus present?)" >&2
	exit 1
fi
echo "input: $info"
echo "load before: $(uptime)"
# GNU time forks (no vfork), so its child's maximum RSS is procbeat's own.
for ((rep = 1; rep <= REPS; rep++)); do
	/usr/bin/time -f "max_rss_kib=%M wall_s=%e cpu_s=%U+%S" -o "$work/time" \
		"$work/procbeat" replay "$work/big.evtx" >/dev/null 2>"$work/replay.err"
	echo "$(cat "$work/time")  $(grep '^documents:' "$work/replay.err" || true)"
done
echo "load after:  $(uptime)"
