// Package esfake is an in-process stand-in for Elasticsearch's Bulk API,
// for tests: it stores create actions by index and _id (409 for an id it
// already holds, as Elasticsearch does) and injects faults: whole-request
// 503s, per-item 429s and permanent 400s, slow answers and dropped
// connections. Fault decisions come from a seeded generator.
package esfake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Faults are the probabilities (0..1) of each injected failure.
type Faults struct {
	Seed          uint64
	RequestStatus float64       // whole request answered 503
	DropBefore    float64       // connection closed before anything is stored
	DropAfter     float64       // items stored, then connection closed without an answer
	Slow          float64       // items stored, answer delayed by SlowDelay
	SlowDelay     time.Duration //
	Item429       float64       // an item answered 429 (not stored)
	// Reject marks documents as permanently unmappable (400
	// mapper_parsing_exception), every time they are sent.
	Reject func(index, id string) bool
}

// Stats are the server's counts.
type Stats struct {
	Requests, GzipRequests, Dropped, Status503, Slow int
	Created, Conflicts, Rejected, Throttled          int
	MaxItems                                         int
}

// Server is the fake. Embeds the httptest server (URL, Close).
type Server struct {
	*httptest.Server

	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	docs   map[string][]byte // index + "\x00" + id -> body
	stats  Stats
	// OnCreate, if set, runs (under the server's lock) for each stored doc.
	OnCreate func(index, id string)
}

// New starts a fake server.
func New(f Faults) *Server {
	s := &Server{
		faults: f,
		rng:    rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15)),
		docs:   make(map[string][]byte),
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// SetFaults replaces the fault settings (keeping the generator).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Stats returns a copy of the counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Has reports whether index/id is stored.
func (s *Server) Has(index, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.docs[index+"\x00"+id]
	return ok
}

// Doc returns the stored body of index/id.
func (s *Server) Doc(index, id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.docs[index+"\x00"+id]
	return b, ok
}

// Each calls f with every stored document (under the server's lock: f
// must not call the server).
func (s *Server) Each(f func(index, id string, body []byte)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, body := range s.docs {
		index, id, _ := strings.Cut(k, "\x00")
		f(index, id, body)
	}
}

// Len is the number of distinct stored documents.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

func (s *Server) chance(p float64) bool { return p > 0 && s.rng.Float64() < p }

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"name":"esfake","version":{"number":"8.19.7"},"tagline":"You Know, for Search"}`)
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/_bulk") {
		http.Error(w, `{"error":"esfake serves only POST /_bulk"}`, http.StatusNotFound)
		return
	}
	body, gz, err := readBody(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "parse_exception", "reason": err.Error()}, "status": 400})
		return
	}
	acts, err := parseBulk(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "illegal_argument_exception", "reason": err.Error()}, "status": 400})
		return
	}

	s.mu.Lock()
	s.stats.Requests++
	if gz {
		s.stats.GzipRequests++
	}
	s.stats.MaxItems = max(s.stats.MaxItems, len(acts))
	f := s.faults
	switch {
	case s.chance(f.DropBefore):
		s.stats.Dropped++
		s.mu.Unlock()
		hijackClose(w)
		return
	case s.chance(f.RequestStatus):
		s.stats.Status503++
		s.mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]any{"type": "unavailable_shards_exception", "reason": "esfake: injected"}, "status": 503})
		return
	}
	items := make([]map[string]item, len(acts))
	anyErr := false
	for i, a := range acts {
		it := item{Index: a.index, ID: a.id}
		key := a.index + "\x00" + a.id
		_, exists := s.docs[key]
		switch {
		case a.bad != "":
			it.Status, it.Error = 400, &itemErr{Type: "illegal_argument_exception", Reason: a.bad}
			s.stats.Rejected++
		case f.Reject != nil && f.Reject(a.index, a.id):
			it.Status, it.Error = 400, &itemErr{Type: "mapper_parsing_exception",
				Reason: fmt.Sprintf("failed to parse field [process.pid] of type [long] in document with id '%s'", a.id)}
			s.stats.Rejected++
		case s.chance(f.Item429):
			it.Status, it.Error = 429, &itemErr{Type: "es_rejected_execution_exception", Reason: "esfake: injected rejection"}
			s.stats.Throttled++
		case exists:
			it.Status, it.Error = 409, &itemErr{Type: "version_conflict_engine_exception",
				Reason: fmt.Sprintf("[%s]: version conflict, document already exists (current version [1])", a.id)}
			s.stats.Conflicts++
		default:
			s.docs[key] = a.doc
			it.Status, it.Result = 201, "created"
			s.stats.Created++
			if s.OnCreate != nil {
				s.OnCreate(a.index, a.id)
			}
		}
		if it.Status >= 300 {
			anyErr = true
		}
		items[i] = map[string]item{a.op: it}
	}
	drop := s.chance(f.DropAfter)
	slow := !drop && s.chance(f.Slow)
	if drop {
		s.stats.Dropped++
	}
	if slow {
		s.stats.Slow++
	}
	s.mu.Unlock()

	if drop {
		hijackClose(w)
		return
	}
	if slow {
		select {
		case <-time.After(f.SlowDelay):
		case <-r.Context().Done():
			return
		}
	}
	// Key order as Elasticsearch writes it: took, errors, items.
	var out bytes.Buffer
	fmt.Fprintf(&out, `{"took":1,"errors":%t,"items":`, anyErr)
	if err := json.NewEncoder(&out).Encode(items); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.WriteString("}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out.Bytes())
}

type item struct {
	Index  string   `json:"_index"`
	ID     string   `json:"_id"`
	Status int      `json:"status"`
	Result string   `json:"result,omitempty"`
	Error  *itemErr `json:"error,omitempty"`
}

type itemErr struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

type action struct {
	op, index, id string
	doc           []byte
	bad           string // why the action is refused by the fake itself
}

func readBody(r *http.Request) ([]byte, bool, error) {
	var rd io.Reader = r.Body
	gz := r.Header.Get("Content-Encoding") == "gzip"
	if gz {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, true, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, gz, fmt.Errorf("reading body: %w", err)
	}
	return b, gz, nil
}

// parseBulk splits an NDJSON bulk body into actions. A malformed action
// line fails the request, as in Elasticsearch.
func parseBulk(body []byte) ([]action, error) {
	var acts []action
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var meta map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &meta); err != nil || len(meta) != 1 {
			return nil, fmt.Errorf("line %d: malformed action/metadata line: %v", line, err)
		}
		var a action
		for op, m := range meta {
			a.op, a.index, a.id = op, m.Index, m.ID
		}
		if !sc.Scan() {
			return nil, fmt.Errorf("line %d: action without a document", line)
		}
		line++
		a.doc = bytes.Clone(sc.Bytes())
		switch {
		case a.op != "create":
			a.bad = "esfake accepts only create actions, got " + a.op
		case a.index == "" || a.id == "":
			a.bad = "create needs _index and _id"
		case !json.Valid(a.doc):
			a.bad = "document is not valid JSON"
		}
		acts = append(acts, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line, err)
	}
	if len(acts) == 0 {
		return nil, fmt.Errorf("request body is required")
	}
	return acts, nil
}

func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("esfake: response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
