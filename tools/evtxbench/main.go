// Command evtxbench reads one EVTX file with procbeat's reader and prints
// how many records it decoded and how fast. compare.sh runs it next to the
// Rust evtx_dump; it is not part of procbeat itself.
//
//	evtxbench [-workers N] [-filter all|process] FILE
//
// It prints one line: records (returned), scanned (returned + filtered out),
// errors, seconds and scanned records/s.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/module/process/mapping"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evtxbench:", err)
		os.Exit(1)
	}
}

// result is what one pass over a file counted.
type result struct {
	records, scanned, errors int
	elapsed                  time.Duration
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("evtxbench", flag.ContinueOnError)
	workers := fs.Int("workers", 1, "chunks decoded in parallel (0: GOMAXPROCS)")
	filter := fs.String("filter", "all", "all: decode every record; process: only Sysmon 1/5/10 and Security 4688/4689 (the replay path's filter)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: evtxbench [-workers N] [-filter all|process] FILE")
	}
	opts := evtx.Options{Workers: *workers}
	switch *filter {
	case "all":
	case "process":
		opts.Filter = mapping.Wants
	default:
		return fmt.Errorf("-filter %q: want all or process", *filter)
	}
	res, err := readAll(context.Background(), fs.Arg(0), opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "records=%d scanned=%d errors=%d seconds=%.3f records/s=%.0f\n",
		res.records, res.scanned, res.errors, res.elapsed.Seconds(),
		float64(res.scanned)/res.elapsed.Seconds())
	return nil
}

// readAll reads every record of path and counts what it saw. The decoding
// happens in Next, so nothing needs to look at the records.
func readAll(ctx context.Context, path string, opts evtx.Options) (result, error) {
	start := time.Now()
	r, err := evtx.Open(path, opts)
	if err != nil {
		return result{}, err // names the file already
	}
	defer r.Close()
	var res result
	for r.Next(ctx) {
		res.records++
	}
	if err := r.Err(); err != nil {
		return result{}, fmt.Errorf("read %s: %w", path, err)
	}
	res.elapsed = time.Since(start)
	st := r.Stats()
	res.scanned = st.Records + st.Filtered
	res.errors = st.RecordErrors + st.ChecksumErrors + st.BadMagicChunks
	return res, nil
}
