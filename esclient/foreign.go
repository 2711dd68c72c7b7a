package esclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
)

// ForeignTemplate is an index template someone else installed whose index
// patterns meet one of procbeat's.
type ForeignTemplate struct {
	Name      string
	Patterns  []string
	Priority  int
	ManagedBy string // _meta.managed_by ("fleet" for Elastic Defend's), may be empty
}

// ForeignIndexTemplates lists the installed index templates, other than
// those named in ours, that apply to an index one of patterns names: in a
// cluster that runs Elastic Defend too, Fleet's templates for the same
// data streams, whose place procbeat's would take (by priority) at their
// next rollover, Defend's own documents included.
func ForeignIndexTemplates(ctx context.Context, client Transport, patterns, ours []string) ([]ForeignTemplate, error) {
	status, body, err := do(ctx, client, http.MethodGet, "/_index_template", nil)
	if err != nil {
		return nil, fmt.Errorf("listing index templates: %w", err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("listing index templates: %w", responseError(status, body))
	}
	var list struct {
		IndexTemplates []struct {
			Name          string `json:"name"`
			IndexTemplate struct {
				IndexPatterns []string `json:"index_patterns"`
				Priority      int      `json:"priority"`
				Meta          struct {
					ManagedBy string `json:"managed_by"`
				} `json:"_meta"`
			} `json:"index_template"`
		} `json:"index_templates"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("listing index templates: %w", err)
	}
	var found []ForeignTemplate
	for _, t := range list.IndexTemplates {
		if slices.Contains(ours, t.Name) || !overlaps(t.IndexTemplate.IndexPatterns, patterns) {
			continue
		}
		found = append(found, ForeignTemplate{Name: t.Name, Patterns: t.IndexTemplate.IndexPatterns,
			Priority: t.IndexTemplate.Priority, ManagedBy: t.IndexTemplate.Meta.ManagedBy})
	}
	return found, nil
}

// overlaps reports whether a pattern of theirs and one of ours can name the
// same index: equal, or one matches the other taken as an index name
// (logs-endpoint.events.process-* and logs-endpoint.events.process-default).
func overlaps(theirs, ours []string) bool {
	for _, a := range theirs {
		for _, b := range ours {
			if a == b || globMatch(a, b) || globMatch(b, a) {
				return true
			}
		}
	}
	return false
}

// globMatch matches name against an index pattern, whose only wildcard is
// '*' (path.Match also knows '?' and '[', which index names do not use
// as wildcards, and '/', which they cannot hold).
func globMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}
