package elasticsearch

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"

	"github.com/procbeat/procbeat/pipeline"
)

// benchDoc is shaped like an Elastic Defend process start event (about
// 1.3 KB), with per-event values so compression is not flattered.
func benchDoc(i int) pipeline.Event {
	h := sha256.Sum256([]byte(strconv.Itoa(i)))
	ent := base64.StdEncoding.EncodeToString(h[:18])
	par := base64.StdEncoding.EncodeToString(h[14:32])
	body := fmt.Appendf(nil, `{"@timestamp":"2026-11-22T20:%02d:%02d.%03dZ","agent":{"type":"endpoint","version":"8.19.7","id":"6b0f3f2a-1c55-4c39-9d7e-%012d"},"data_stream":{"dataset":"endpoint.events.process","namespace":"default","type":"logs"},"ecs":{"version":"8.11.0"},"event":{"action":"start","category":["process"],"created":"2026-11-22T20:00:00.000Z","dataset":"endpoint.events.process","id":"NQ5y8KcB%08d","kind":"event","module":"endpoint","outcome":"unknown","sequence":%d,"type":["start"]},"host":{"hostname":"WIN-BENCH01","name":"win-bench01","os":{"family":"windows","name":"Windows","platform":"windows","type":"windows","version":"10.0"}},"process":{"args":["C:\\Windows\\System32\\cmd.exe","/c","echo","%d"],"args_count":4,"command_line":"\"C:\\Windows\\System32\\cmd.exe\" /c echo %d","entity_id":"%s","executable":"C:\\Windows\\System32\\cmd.exe","hash":{"sha256":"%x"},"name":"cmd.exe","parent":{"entity_id":"%s","executable":"C:\\Windows\\explorer.exe","name":"explorer.exe","pid":%d},"pe":{"company":"Microsoft Corporation","description":"Windows Command Processor","file_version":"10.0.19041.1","original_file_name":"Cmd.Exe","product":"Microsoft Windows Operating System"},"pid":%d,"working_directory":"C:\\Users\\bench\\"},"user":{"domain":"WIN-BENCH01","id":"S-1-5-21-1004336348-1177238915-682003330-%d","name":"bench"}}`,
		i/60%60, i%60, i%1000, i, i, i, i, i, ent, h, par, 4000+i%97, 5000+i, 1000+i%13)
	return pipeline.Event{
		Index: "logs-endpoint.events.process-default",
		ID:    fmt.Sprintf("EcHq%016x", i*2654435761),
		Body:  body,
		Pos:   pipeline.Position{Source: "bench", Offset: uint64(i)},
	}
}

// BenchmarkEncode measures Event to bulk request body (action lines, bodies,
// gzip), one op = one document, in batches of bulk_max_size 1600.
func BenchmarkEncode(b *testing.B) {
	const batch = 1600
	events := make([]pipeline.Event, batch)
	idx := make([]int, batch)
	var docBytes int
	for i := range events {
		events[i] = benchDoc(i)
		idx[i] = i
		docBytes += len(events[i].Body)
	}
	for _, level := range []int{0, 1, 5} {
		b.Run(fmt.Sprintf("gzip=%d", level), func(b *testing.B) {
			enc := newEncoder(level)
			var out int
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				body, err := enc.encode(events, idx[:n])
				if err != nil {
					b.Fatal(err)
				}
				out += len(body)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
			b.ReportMetric(float64(out)/float64(b.N), "body_B/doc")
			b.ReportMetric(float64(docBytes)/batch, "doc_B/doc")
		})
	}
}

// BenchDoc is benchDoc for the external test package's benchmarks.
var BenchDoc = benchDoc
