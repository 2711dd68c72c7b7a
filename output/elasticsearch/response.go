package elasticsearch

import (
	"encoding/json"
	"fmt"
	"io"
)

// filterPath trims the bulk response to what delivery needs.
const filterPath = "errors,items.*.status,items.*.error"

// itemError is Elasticsearch's error object for a bulk item.
type itemError struct {
	Type     string     `json:"type"`
	Reason   string     `json:"reason"`
	CausedBy *itemError `json:"caused_by,omitempty"`
}

type itemResult struct {
	Status int        `json:"status"`
	Error  *itemError `json:"error,omitempty"`
}

// bulkItem is one entry of "items": an object keyed by the action name.
// Only create actions are sent, but index is accepted so a misbehaving
// proxy's answer still lines up.
type bulkItem struct {
	Create *itemResult `json:"create"`
	Index  *itemResult `json:"index"`
}

// parseBulkResponse reads a bulk response for n items. When Elasticsearch
// reports "errors":false before the items (as it does), the items are not
// decoded at all and allOK is true.
func parseBulkResponse(r io.Reader, n int, items []itemResult) (res []itemResult, allOK bool, err error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, false, err
	}
	res = items[:0]
	sawErrors, errorsVal, sawItems := false, false, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, fmt.Errorf("bulk response: %w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "errors":
			if err := dec.Decode(&errorsVal); err != nil {
				return nil, false, fmt.Errorf("bulk response errors: %w", err)
			}
			sawErrors = true
			if !errorsVal && !sawItems {
				return nil, true, nil
			}
		case "items":
			if err := expectDelim(dec, '['); err != nil {
				return nil, false, err
			}
			for dec.More() {
				var it bulkItem
				if err := dec.Decode(&it); err != nil {
					return nil, false, fmt.Errorf("bulk response item %d: %w", len(res), err)
				}
				switch {
				case it.Create != nil:
					res = append(res, *it.Create)
				case it.Index != nil:
					res = append(res, *it.Index)
				default:
					return nil, false, fmt.Errorf("bulk response item %d: no create result", len(res))
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return nil, false, err
			}
			sawItems = true
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, false, fmt.Errorf("bulk response %q: %w", key, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, false, err
	}
	if sawErrors && !errorsVal {
		return nil, true, nil
	}
	if !sawItems {
		return nil, false, fmt.Errorf("bulk response has no items")
	}
	if len(res) != n {
		return nil, false, fmt.Errorf("bulk response has %d items for %d actions", len(res), n)
	}
	return res, false, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("bulk response: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("bulk response: expected %q, got %v", want, tok)
	}
	return nil
}
