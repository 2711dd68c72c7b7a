package esclient

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
)

// maxSearchAnswer bounds a search answer held in memory: far above what
// Elasticsearch returns for its default result window of 10,000 hits of
// procbeat documents.
const maxSearchAnswer = 256 << 20

// Search runs the search request body against index (a name, a pattern
// or a comma-separated list) and returns the answer. An answer other than
// 2xx is an error carrying its status and body.
func Search(ctx context.Context, client Transport, index string, body []byte) ([]byte, error) {
	status, raw, err := doLimit(ctx, client, http.MethodPost, "/"+index+"/_search", body, maxSearchAnswer)
	if err != nil {
		return nil, err
	}
	if status > 299 {
		return nil, fmt.Errorf("search %s: %d %s: %s", index, status, http.StatusText(status), bytes.TrimSpace(raw))
	}
	return raw, nil
}
