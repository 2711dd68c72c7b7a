package jsonevent

import (
	"fmt"
	"time"

	"github.com/procbeat/procbeat/module/process/decode"
)

// Zone-less times. NXLog's EventTime and the TimeCreated of OTRF's exports
// are the wall clock of the machine that rendered the record, with no zone;
// Sysmon's UtcTime and Winlogbeat's @timestamp are UTC. Read as UTC, a
// zone-less time puts a Security 4688 hours away from the Sysmon 1 of the
// same process. The zone is taken, in this order, from:
//
//  1. decode.Options.Location (procbeat.timezone): the user's word;
//  2. the record's own @timestamp, which the shipping pipeline (Logstash,
//     NXLog's om_ output) writes in UTC moments after the event: the two
//     differ by the zone's offset, a whole number of quarter hours (every
//     zone in use is), plus the shipping delay. The difference rounded to
//     the quarter hour is the offset when what is left over is a plausible
//     delay (zonedMaxLag after the event, zonedMaxLead before it for clocks
//     that disagree); the zone-less time keeps its own precision;
//  3. nothing: the time is read as UTC, as before, and a notice names the
//     file, the record and the field, once per file.
//
// A shipper that held records back by nearly a whole number of quarter
// hours would pass for a zone: procbeat.timezone settles it.
const (
	zonedMaxLag  = 5 * time.Minute
	zonedMaxLead = time.Minute
	// Zones range from UTC-12 to UTC+14.
	minZoneOffset = -12 * time.Hour
	maxZoneOffset = 14 * time.Hour
)

// localTime reads the zone-less time v of field key (a time that carries
// a zone after all is taken as it is); stamp is the record's @timestamp,
// "" if none.
func (d *Decoder) localTime(key, v, stamp string) (time.Time, error) {
	if loc := d.opts.Location; loc != nil {
		t, _, err := parseTime(v, loc)
		return t, err
	}
	wall, zoned, err := parseTime(v, time.UTC)
	if err != nil || zoned {
		return wall, err
	}
	why := "the record has no @timestamp to tell it"
	if stamp != "" {
		at, stampZoned, err := parseTime(stamp, time.UTC)
		if err == nil && stampZoned {
			if off, ok := zoneOffset(wall, at); ok {
				return wall.Add(-off), nil
			}
		}
		why = fmt.Sprintf("its @timestamp %q does not tell it (a UTC time a whole number of quarter hours away, give or take %v of shipping delay)", stamp, zonedMaxLag)
	}
	if !d.zoneNoted {
		d.zoneNoted = true
		if d.opts.Notice != nil {
			d.opts.Notice(fmt.Sprintf("%s:%d%s: record %d: %s %q has no time zone and %s: "+
				"this file's zone-less times are read as UTC (set procbeat.timezone to the zone of the machine that wrote them)",
				d.Name, d.Line, decode.ResumedNote(d.From), d.Index, key, v, why))
		}
	}
	return wall, nil
}

// zoneOffset returns the offset from UTC of the zone whose wall clock read
// wall (parsed as if UTC) when the UTC clock read about stamp: at is stamp
// parsed. ok is false when their difference is no zone's offset give or
// take a shipping delay.
func zoneOffset(wall, at time.Time) (time.Duration, bool) {
	diff := wall.Sub(at) // the offset, less the delay
	off := diff.Round(15 * time.Minute)
	rest := diff - off
	if rest < -zonedMaxLag || rest > zonedMaxLead || off < minZoneOffset || off > maxZoneOffset {
		return 0, false
	}
	return off, true
}

// The time forms exports write: RFC 3339, and the same with a space for
// the 'T' and with or without a zone (NXLog, OTRF: "2006-01-02 15:04:05.000").
const (
	layoutT      = time.RFC3339Nano
	layoutTLocal = "2006-01-02T15:04:05.999999999"
	layoutS      = "2006-01-02 15:04:05.999999999Z07:00"
	layoutSLocal = "2006-01-02 15:04:05.999999999"
)

// parseTime reads the forms above, a zone-less one in loc; zoned says the
// text had a zone. The result is UTC. The form is told from the text, so
// that a good time costs one parse and no garbage (a failed time.Parse
// allocates its error).
func parseTime(s string, loc *time.Location) (t time.Time, zoned bool, err error) {
	zoned = hasZone(s)
	layout := layoutSLocal
	switch {
	case len(s) > 10 && s[10] == 'T' && zoned:
		layout = layoutT
	case len(s) > 10 && s[10] == 'T':
		layout = layoutTLocal
	case zoned:
		layout = layoutS
	}
	if t, err := time.ParseInLocation(layout, s, loc); err == nil {
		return t.UTC(), zoned, nil
	}
	return time.Time{}, false, fmt.Errorf("unrecognised time %q", s)
}

// hasZone reports whether a time's text ends in a zone: Z, or an offset
// after the seconds.
func hasZone(s string) bool {
	if n := len(s); n > 0 && (s[n-1] == 'Z' || s[n-1] == 'z') {
		return true
	}
	for i := 19; i < len(s); i++ {
		if s[i] == '+' || s[i] == '-' {
			return true
		}
	}
	return false
}
