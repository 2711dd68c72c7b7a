package winfmt

import (
	"fmt"
	"testing"
	"time"
)

// TestSysmonTimeEveryDay: parseSysmonTimeFast gives time.Date's value for
// every day of two 400-year cycles of the calendar and of the first and
// last years it reads (0000 to 9999), every eleventh day of the others,
// at a time of day that changes with the day.
func TestSysmonTimeEveryDay(t *testing.T) {
	d := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; d.Before(end); i++ {
		y, m, day := d.Date()
		hh, mm, ss, ms := i%24, i%60, (i/60)%60, i%1000
		want := time.Date(y, m, day, hh, mm, ss, ms*1e6, time.UTC)
		s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%03d", y, m, day, hh, mm, ss, ms)
		if got, ok := parseSysmonTimeFast(s); !ok || got != want {
			t.Fatalf("parseSysmonTimeFast(%q) = %v, %v; want %v", s, got, ok, want)
		}
		step := 1
		if y > 4 && y < 9995 && (y < 1600 || y > 2400) {
			step = 11
		}
		d = d.AddDate(0, 0, step)
	}
}
