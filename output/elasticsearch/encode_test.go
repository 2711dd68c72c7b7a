package elasticsearch

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/pipeline"
)

func TestAppendCreateEscapes(t *testing.T) {
	ids := []string{"plain-id", `q"uote\back`, "tab\tnl\ncr\r", "ctl\x01\x1f", "ünïcode-€", "bad\xffutf8"}
	for _, id := range ids {
		ev := pipeline.Event{Index: "logs-endpoint.events.process-default", ID: id, Body: []byte(`{"a":1}`)}
		line := AppendCreate(nil, &ev)
		parts := bytes.Split(bytes.TrimSuffix(line, []byte("\n")), []byte("\n"))
		if len(parts) != 2 || string(parts[1]) != `{"a":1}` {
			t.Fatalf("id %q: lines %q", id, line)
		}
		var meta struct {
			Create struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			} `json:"create"`
		}
		if err := json.Unmarshal(parts[0], &meta); err != nil {
			t.Fatalf("id %q: action line %s: %v", id, parts[0], err)
		}
		want := strings.ToValidUTF8(id, "\ufffd")
		if meta.Create.ID != want || meta.Create.Index != ev.Index {
			t.Errorf("id %q came back as %q", id, meta.Create.ID)
		}
	}
}

func TestEncoderGzipRoundTrip(t *testing.T) {
	events := []pipeline.Event{
		{Index: "a", ID: "1", Body: []byte(`{"x":1}`)},
		{Index: "b", ID: "2", Body: []byte(`{"y":2}`)},
		{Index: "c", ID: "3", Body: []byte(`{"z":3}`)},
	}
	want := "{\"create\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n{\"create\":{\"_index\":\"c\",\"_id\":\"3\"}}\n{\"z\":3}\n"
	plain, _ := newEncoder(0).encode(events, []int{0, 2})
	if string(plain) != want {
		t.Fatalf("plain body %q", plain)
	}
	enc := newEncoder(5)
	for range 2 { // buffers are reused between requests
		z, err := enc.encode(events, []int{0, 2})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if string(got) != want {
			t.Fatalf("gzip body %q", got)
		}
	}
}

func TestParseBulkResponse(t *testing.T) {
	// errors:false first: items are not decoded.
	_, ok, err := parseBulkResponse(strings.NewReader(`{"errors":false,"items":[{"create":{"status":201}}]}`), 1, nil)
	if err != nil || !ok {
		t.Fatalf("fast path: ok=%v err=%v", ok, err)
	}
	body := `{"took":3,"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad","caused_by":{"type":"x","reason":"y"}}}}]}`
	res, ok, err := parseBulkResponse(strings.NewReader(body), 3, nil)
	if err != nil || ok || len(res) != 3 {
		t.Fatalf("res %v ok %v err %v", res, ok, err)
	}
	if res[1].Status != 409 || res[2].Error.Type != "mapper_parsing_exception" || res[2].Error.CausedBy.Reason != "y" {
		t.Fatalf("parsed %+v", res)
	}
	bad := map[string]string{
		"count":     `{"errors":true,"items":[{"create":{"status":201}}]}`,
		"truncated": `{"errors":true,"items":[{"create":{"status":201}`,
		"no items":  `{"errors":true}`,
		"not json":  `<html>proxy error</html>`,
		"other op":  `{"errors":true,"items":[{"delete":{"status":200}},{"create":{"status":201}}]}`,
	}
	for name, b := range bad {
		if _, _, err := parseBulkResponse(strings.NewReader(b), 2, nil); err == nil {
			t.Errorf("%s: accepted %s", name, b)
		}
	}
}
