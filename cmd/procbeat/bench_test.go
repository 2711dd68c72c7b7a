package main

import (
	"io"
	"os"
	"testing"
)

// The whole commands on a large EVTX file, for CPU and allocation profiles
// of every stage at once (reader, mapping, tracker, encoding, pipeline,
// console output):
//
//	PROCBEAT_BENCH_EVTX=/tmp/bench.evtx go test -run XXX -bench 'Command' \
//	    -benchtime 1x -count 3 -cpuprofile cpu.out ./cmd/procbeat
//
// tools/evtxbench/README.md says how to write such a file from the corpus.
// Not run without PROCBEAT_BENCH_EVTX: the file is hundreds of MB.
func benchFile(b *testing.B) string {
	b.Helper()
	p := os.Getenv("PROCBEAT_BENCH_EVTX")
	if p == "" {
		b.Skip("PROCBEAT_BENCH_EVTX names no file")
	}
	if _, err := os.Stat(p); err != nil {
		b.Fatal(err)
	}
	return p
}

func benchCommand(b *testing.B, args ...string) {
	b.ReportAllocs()
	for b.Loop() {
		root := newRoot()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCommandReplay(b *testing.B) {
	benchCommand(b, "replay", benchFile(b))
}

func BenchmarkCommandDumpJSON(b *testing.B) {
	benchCommand(b, "evtx", "dump", "--format", "json", benchFile(b))
}
