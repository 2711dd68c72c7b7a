# Shared by compare.sh and goals.sh (sourced, from the repository root).

EVTX_RS_VERSION="${EVTX_RS_VERSION:-0.15.1}"
EVTX_RS_ROOT="${EVTX_RS_ROOT:-$HOME/.cache/procbeat/evtx-rs}"
RECORDS="${RECORDS:-200000}"
# MIX chooses the corpus chunks of the bench file: "process" (the files
# holding process events: 54% of the records are process events), "all"
# (every corpus EVTX file: 13.7%), or a share of process events such as
# "18%" (every corpus chunk, with process-bearing chunks spread among them
# up to that share: the mixed log issue 17 measured had 18%).
MIX="${MIX:-process}"
dump="$EVTX_RS_ROOT/bin/evtx_dump"

# ensure_evtx_dump builds evtx_dump (crates.io "evtx", pinned, default
# features) into EVTX_RS_ROOT unless that version is already there.
ensure_evtx_dump() {
	if ! [ -x "$dump" ] || [ "$("$dump" --version 2>/dev/null)" != "EVTX Parser $EVTX_RS_VERSION" ]; then
		echo "building evtx_dump $EVTX_RS_VERSION into $EVTX_RS_ROOT (default features)" >&2
		cargo install evtx --version "$EVTX_RS_VERSION" --locked --force --root "$EVTX_RS_ROOT" >&2
	fi
}

# write_bench_file FILE writes the bench file (clean corpus chunks of MIX,
# repeated: evtx/bigfile_test.go) and prints the test's
# "records= chunks= bytes=" line; it fails without the corpus (the test
# skips then, and writes nothing).
write_bench_file() {
	local info
	info="$(cd evtx && PROCBEAT_EVTX_BENCH_OUT="$1" PROCBEAT_EVTX_BENCH_RECORDS="$RECORDS" PROCBEAT_EVTX_BENCH_MIX="$MIX" \
		go test -run '^TestWriteBenchFile$' -count=1 -v . | grep '^records=' || true)"
	if [ -z "$info" ]; then
		echo "$(basename "$0"): no bench file written (is ../shared/corpus present?)" >&2
		return 1
	fi
	echo "$info"
}
