// Command evtxbench reads one EVTX file with procbeat's reader and prints
// how many records it decoded and how fast. compare.sh runs it next to the
// Rust evtx_dump; it is not part of procbeat itself.
//
//	evtxbench [-workers N] [-filter all|process|enrich] [-dump json|xml] [-cpuprofile OUT] [-memprofile OUT] [-passes N] FILE
//
// It prints one line: records (returned), scanned (returned + filtered out),
// errors (all three per pass), seconds (all passes) and scanned records/s.
// With -dump it runs evtx.Dump (procbeat evtx dump) into a counter instead,
// so that the dump can be profiled; records then counts the lines written
// (records and error lines) and -workers and -filter do not apply.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
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
	filter := fs.String("filter", "all", "all: decode every record; process: only Sysmon 1/5/10 and Security 4688/4689 (the replay path's filter with enrich.enabled: false); enrich: and Sysmon 7 (the replay path's filter with enrichment, the default)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the reading to this file")
	memprofile := fs.String("memprofile", "", "write an allocation profile (all allocations) to this file at the end")
	dump := fs.String("dump", "", "json or xml: run procbeat evtx dump's rendering (to a line counter) instead of the bare reader")
	passes := fs.Int("passes", 1, "read the file this many times (longer profiles); counts are per pass, time is the total")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *passes < 1 {
		return errors.New("usage: evtxbench [-workers N] [-filter all|process|enrich] [-dump json|xml] [-cpuprofile OUT] [-memprofile OUT] [-passes N] FILE")
	}
	opts := evtx.Options{Workers: *workers}
	switch *filter {
	case "all":
	case "process":
		opts.Filter = mapping.Wants
	case "enrich":
		opts.Filter = mapping.WantsWithImages
	default:
		return fmt.Errorf("-filter %q: want all, process or enrich", *filter)
	}
	if *dump != "" && *dump != "json" && *dump != "xml" {
		return fmt.Errorf("-dump %q: want json or xml", *dump)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memprofile != "" {
		runtime.MemProfileRate = 4096
	}
	var res result
	for i := 0; i < *passes; i++ {
		var r result
		var err error
		if *dump != "" {
			r, err = dumpAll(context.Background(), fs.Arg(0), *dump)
		} else {
			r, err = readAll(context.Background(), fs.Arg(0), opts)
		}
		if err != nil {
			return err
		}
		res.records, res.scanned, res.errors = r.records, r.scanned, r.errors
		res.elapsed += r.elapsed
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return fmt.Errorf("memory profile: %w", err)
		}
	}
	fmt.Fprintf(out, "records=%d scanned=%d errors=%d seconds=%.3f records/s=%.0f\n",
		res.records, res.scanned, res.errors, res.elapsed.Seconds(),
		float64(res.scanned)*float64(*passes)/res.elapsed.Seconds())
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

// dumpAll runs evtx.Dump on path and counts the lines it writes.
func dumpAll(ctx context.Context, path, format string) (result, error) {
	start := time.Now()
	var lc lineCounter
	if err := evtx.Dump(ctx, &lc, path, format); err != nil {
		return result{}, err
	}
	return result{records: lc.lines, scanned: lc.lines, elapsed: time.Since(start)}, nil
}

// lineCounter is an io.Writer that counts newlines and keeps nothing.
type lineCounter struct{ lines int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}
