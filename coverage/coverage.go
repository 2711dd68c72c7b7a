// Package coverage measures which fields procbeat's documents carry: per
// source (Sysmon, Security) and event type, the share of documents holding
// each catalog field and each CAR field. It is the seed's coverage map,
// measured instead of claimed.
package coverage

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/procbeat/procbeat/codec/car"
	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/document"
)

// key is one row group: a source and an event type.
type key struct{ source, event string }

// Report accumulates documents. It is safe for concurrent use.
type Report struct {
	mu     sync.Mutex
	docs   map[key]int
	fields map[key]map[string]int
	car    map[key]map[string]int
	buf    []byte
}

// New returns an empty report.
func New() *Report {
	return &Report{docs: map[key]int{}, fields: map[key]map[string]int{}, car: map[key]map[string]int{}}
}

// Source names the log a document came from, by its event code.
func Source(d *document.Document) string {
	switch d.Event.Code {
	case "1", "5", "10":
		return "sysmon"
	case "4688", "4689":
		return "security"
	}
	return "other"
}

// Event names the event type: start, end or access.
func Event(d *document.Document) string {
	if d.Event.Code == "10" {
		return "access"
	}
	return d.Event.Action
}

// Add counts one document.
func (r *Report) Add(d *document.Document) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key{Source(d), Event(d)}
	r.docs[k]++
	if r.fields[k] == nil {
		r.fields[k], r.car[k] = map[string]int{}, map[string]int{}
	}
	r.buf = d.AppendJSON(r.buf[:0])
	countLeaves(r.buf, r.fields[k])
	r.buf = car.Append(r.buf[:0], d)
	countLeaves(r.buf, r.car[k])
}

// countLeaves adds one for every dotted leaf name present in the JSON object.
func countLeaves(raw []byte, into map[string]int) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				name := k
				if prefix != "" {
					name = prefix + "." + k
				}
				walk(name, c)
			}
		case []any:
			if len(x) > 0 {
				if _, objs := x[0].(map[string]any); objs {
					for _, e := range x {
						walk(prefix, e)
					}
					return
				}
			}
			seen[prefix] = true
		default:
			seen[prefix] = true
		}
	}
	walk("", m)
	for name := range seen {
		into[name]++
	}
}

// Write prints the report as Markdown: a table per source and event type,
// every catalog field the event type may carry and every CAR field, with
// the share of documents that carry it.
func (r *Report) Write(w io.Writer, cat *fields.Catalog) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]key, 0, len(r.docs))
	for k := range r.docs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].source != keys[j].source {
			return keys[i].source > keys[j].source
		}
		return keys[i].event > keys[j].event
	})
	var b strings.Builder
	b.WriteString("# procbeat field coverage\n")
	for _, k := range keys {
		n := r.docs[k]
		fmt.Fprintf(&b, "\n## %s %s (%d documents)\n\n| field | documents | share |\n|---|---:|---:|\n", k.source, k.event, n)
		for _, f := range cat.Fields {
			if f.IsContainer() || !f.CarriedBy(k.event) {
				continue
			}
			c := r.fields[k][f.Name]
			fmt.Fprintf(&b, "| `%s` | %d | %s |\n", f.Name, c, share(c, n))
		}
		fmt.Fprintf(&b, "\n| CAR field (%s) | documents | share |\n|---|---:|---:|\n", carAction(k.event))
		for _, f := range car.Fields {
			c := r.car[k][f]
			fmt.Fprintf(&b, "| `%s` | %d | %s |\n", f, c, share(c, n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Share returns the fraction of documents of source and event that carry
// field (a catalog name), for tests.
func (r *Report) Share(source, event, field string) (carried, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key{source, event}
	return r.fields[k][field], r.docs[k]
}

func carAction(event string) string {
	return map[string]string{"start": "create", "end": "terminate", "access": "access"}[event]
}

func share(c, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(c)/float64(n))
}
