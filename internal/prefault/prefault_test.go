package prefault

import "testing"

func TestSliceClearsToCapacity(t *testing.T) {
	s := make([]int, 2, 5)
	full := s[:cap(s)]
	for i := range full {
		full[i] = i + 1
	}
	Slice(s[1:])
	if want := []int{1, 0, 0, 0, 0}; !equal(full, want) {
		t.Fatalf("after Slice(s[1:]): %v, want %v", full, want)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
