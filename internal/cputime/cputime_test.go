//go:build unix

package cputime

import "testing"

func TestProcessAdvancesWithWork(t *testing.T) {
	t0 := Process()
	if t0 <= 0 {
		t.Fatalf("Process() = %v before any work", t0)
	}
	x := 0
	for i := 0; Process()-t0 < 20e6; i++ { // 20 ms of CPU
		x += i
	}
	if x == 0 {
		t.Fatal("no work done")
	}
}
