package prefault

import (
	"slices"
	"testing"
)

func TestSliceClearsToCapacity(t *testing.T) {
	s := make([]int, 2, 5)
	full := s[:cap(s)]
	for i := range full {
		full[i] = i + 1
	}
	Slice(s[1:])
	if want := []int{1, 0, 0, 0, 0}; !slices.Equal(full, want) {
		t.Fatalf("after Slice(s[1:]): %v, want %v", full, want)
	}
}
