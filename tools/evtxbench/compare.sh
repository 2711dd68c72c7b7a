#!/usr/bin/env bash
# Times procbeat's EVTX reader against the Rust evtx_dump (crates.io package
# "evtx", pinned below) on the same generated file in the same run, and prints
# a table of medians. Not run in CI: it builds a Rust crate (75 s on 2 cores
# the first time) and writes a ~460 MB file. See README.md here.
#
#   bash tools/evtxbench/compare.sh            # REPS=5 by default
#   REPS=9 RECORDS=400000 bash tools/evtxbench/compare.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

. tools/evtxbench/lib.sh
REPS="${REPS:-5}"
ensure_evtx_dump

work="$(mktemp -d "${TMPDIR:-/tmp}/evtxbench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
file="$work/bench.evtx"

go build -o "$work/evtxbench" ./tools/evtxbench
ours="$work/evtxbench"

info="$(write_bench_file "$file")"
total="$(sed -E 's/^records=([0-9]+).*/\1/' <<<"$info")"
bytes="$(sed -E 's/.*bytes=([0-9]+).*/\1/' <<<"$info")"

# Both tools must see the same records; this pass also warms the page cache.
n_rs="$("$dump" -t 1 -o jsonl "$file" 2>/dev/null | wc -l)"
n_go="$("$ours" -workers 1 "$file" | sed -E 's/.*scanned=([0-9]+).*/\1/')"
if [ "$n_rs" != "$total" ] || [ "$n_go" != "$total" ]; then
	echo "compare.sh: record counts differ: file $total, evtx_dump $n_rs, ours $n_go" >&2
	exit 1
fi

# name|command; "ours" rows compare with the evtx_dump row of the same
# threading named in ref.
configs=(
	"rs-jsonl-t1|$dump -t 1 -o jsonl $file"
	"rs-json-t1|$dump -t 1 -o json $file"
	"rs-xml-t1|$dump -t 1 -o xml $file"
	"go-all-w1|$ours -workers 1 -filter all $file"
	"go-process-w1|$ours -workers 1 -filter process $file"
	"rs-jsonl-tN|$dump -o jsonl $file"
	"go-all-wN|$ours -workers 0 -filter all $file"
	"go-process-wN|$ours -workers 0 -filter process $file"
)

# Repetitions are interleaved so that a change in machine load hits every
# configuration alike. Wall and CPU (user+sys) time of the whole process,
# start-up included, for both tools.
TIMEFORMAT='%R %U %S'
echo "load before: $(uptime)"
for ((rep = 1; rep <= REPS; rep++)); do
	for c in "${configs[@]}"; do
		name="${c%%|*}"
		cmd="${c#*|}"
		# shellcheck disable=SC2086 # cmd is split on purpose
		{ time $cmd >/dev/null 2>&1; } 2>>"$work/$name.times"
	done
done
echo "load after:  $(uptime)"

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
wall() { awk '{print $1}' "$work/$1.times" | median; }
cpu() { awk '{print $2 + $3}' "$work/$1.times" | median; }

declare -A rate
for c in "${configs[@]}"; do
	name="${c%%|*}"
	rate[$name]="$(awk -v n="$total" -v s="$(wall "$name")" 'BEGIN {printf "%.0f", n / s}')"
done

echo
echo "file: $total records, $bytes bytes ($((bytes / 65536)) chunks); $REPS repetitions; evtx_dump $EVTX_RS_VERSION; $(go version | cut -d' ' -f3); $(nproc) CPUs"
printf '%-15s %8s %10s %7s %13s %6s %9s  %s\n' config wall_s records/s cpu_s cpu_us/record ratio cpu_ratio notes
for c in "${configs[@]}"; do
	name="${c%%|*}"
	ref=""
	note=""
	case "$name" in
	go-*-w1) ref=rs-jsonl-t1 ;;
	go-*-wN) ref=rs-jsonl-tN ;;
	esac
	case "$name" in
	rs-*) note="renders text (${name#rs-})" ;;
	go-all-*) note="typed records, every record decoded" ;;
	go-process-*) note="typed records, only process events decoded (filter before decode)" ;;
	esac
	c_s="$(cpu "$name")"
	ratio="-"
	cratio="-"
	if [ -n "$ref" ]; then
		ratio="$(awk -v a="${rate[$name]}" -v b="${rate[$ref]}" 'BEGIN {printf "%.2f", a / b}')"
		cratio="$(awk -v a="$c_s" -v b="$(cpu "$ref")" 'BEGIN {printf "%.2f", b / a}')"
	fi
	printf '%-15s %8s %10s %7s %13s %6s %9s  %s\n' "$name" "$(wall "$name")" "${rate[$name]}" "$c_s" \
		"$(awk -v c="$c_s" -v n="$total" 'BEGIN {printf "%.2f", c * 1e6 / n}')" "$ratio" "$cratio" "$note"
done
echo
echo "ratio = our records/s over evtx_dump -o jsonl records/s (wall time) at the same threading (t1: one"
echo "thread; tN: all CPUs); cpu_ratio = the same from CPU time (user+sys), steadier on a shared machine."
echo "Above 1: ours is faster."
echo "evtx_dump renders every record as JSON or XML text; procbeat's reader fills typed winevent.Record values"
echo "and renders no text, so the two do different work per record: compare the json/jsonl/xml rows for the"
echo "cost of rendering itself. Times are whole processes (start-up, file open, output to /dev/null)."
