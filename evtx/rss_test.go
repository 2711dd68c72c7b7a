//go:build linux

package evtx

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// rssInputBytes is the size of the input the memory test reads: the
	// acceptance criterion is about a 1 GB file.
	rssInputBytes = 1 << 30
	// rssLimitKiB is the peak resident set the reader may reach on it.
	rssLimitKiB = 64 << 10

	rssChildEnv = "PROCBEAT_EVTX_RSS_CHILD" // path the child reads
	rssWantEnv  = "PROCBEAT_EVTX_RSS_WANT"  // records the child must see
)

// TestReaderPeakRSS reads a ~1 GB file made of corpus chunks in a child
// process (this test binary, re-executed) with Workers=0 and checks that the
// child's peak resident set stays under 64 MiB: memory must not grow with
// the file. The peak is VmHWM from /proc, polled by the parent while the
// child runs and reported by the child itself just before it exits.
// (Rusage.Maxrss is not used: Linux carries the parent's high-water mark
// over into it across fork+exec.) It takes a few seconds; -short skips it.
func TestReaderPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 1 GB file")
	}
	path := t.TempDir() + "/big.evtx"
	start := time.Now()
	records, chunks := writeCorpusEVTX(t, path, 0, rssInputBytes, benchMix{})
	t.Logf("wrote %s: %d records in %d chunks (%d MiB) in %v", path, records, chunks,
		(int64(fileHeaderBlock)+int64(chunks)*chunkSize)>>20, time.Since(start).Round(time.Millisecond))

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestReaderPeakRSSChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+path, rssWantEnv+"="+strconv.Itoa(records))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	polled := make(chan int64, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		polled <- pollHWM(cmd.Process.Pid, stop)
	}()
	err := cmd.Wait()
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var got, self int64
	var secs float64
	line := childLine(stdout.String())
	if _, err := fmt.Sscanf(line, "rss-child records=%d vmhwm_kib=%d seconds=%g", &got, &self, &secs); err != nil {
		t.Fatalf("child output %q: %v\nstdout:\n%s", line, err, stdout.String())
	}
	if got != int64(records) {
		t.Fatalf("child read %d records, want %d", got, records)
	}
	peak := max(self, <-polled)
	t.Logf("child read %d records in %.2fs (%v with start-up), Workers=0 (GOMAXPROCS %d): peak RSS %d KiB (self-reported %d KiB)",
		got, secs, elapsed.Round(time.Millisecond), runtime.GOMAXPROCS(0), peak, self)
	if peak >= rssLimitKiB {
		t.Errorf("peak RSS %d KiB reading a %d MiB file, want < %d KiB", peak, rssInputBytes>>20, rssLimitKiB)
	}
}

// TestReaderPeakRSSChild is the child half of TestReaderPeakRSS; it runs
// only when that test starts it.
func TestReaderPeakRSSChild(t *testing.T) {
	path := os.Getenv(rssChildEnv)
	if path == "" {
		t.Skip("child of TestReaderPeakRSS")
	}
	want, err := strconv.Atoi(os.Getenv(rssWantEnv))
	if err != nil {
		t.Fatalf("%s: %v", rssWantEnv, err)
	}
	start := time.Now()
	r, err := Open(path, Options{Workers: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for r.Next(context.Background()) {
		if r.Record().Provider == "" {
			t.Fatalf("record %d: no provider", n)
		}
		n++
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if errs := r.Errors(); len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	if n != want {
		t.Fatalf("read %d records, want %d", n, want)
	}
	hwm, err := readHWM("self")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("rss-child records=%d vmhwm_kib=%d seconds=%.3f\n", n, hwm, time.Since(start).Seconds())
}

// childLine returns the child's result line from its output.
func childLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "rss-child ") {
			return l
		}
	}
	return ""
}

// pollHWM returns the highest VmHWM seen for pid until stop is closed or
// the process is gone.
func pollHWM(pid int, stop <-chan struct{}) int64 {
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if v, err := readHWM(strconv.Itoa(pid)); err == nil {
			peak = max(peak, v)
		}
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// readHWM returns VmHWM (peak resident set, KiB) of /proc/<pid>.
func readHWM(pid string) (int64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/%s/status: no VmHWM", pid)
}
