package config

import (
	"regexp"
	"strings"
	"testing"
)

// namespaceReference is the rule validNamespace implements, as Elasticsearch
// states it.
var namespaceReference = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)

func TestValidNamespaceMatchesRule(t *testing.T) {
	cases := []string{"", "default", "a", "_", "0", "prod_1", "Prod", "a-b", "a.b", "a b", "é", "a\n",
		"\na", strings.Repeat("a", 100), strings.Repeat("a", 101), strings.Repeat("z9_", 33), "a\x00"}
	for _, s := range cases {
		if got, want := validNamespace(s), namespaceReference.MatchString(s); got != want {
			t.Errorf("%q: %v, the rule says %v", s, got, want)
		}
	}
}

func FuzzValidNamespace(f *testing.F) {
	f.Add("default")
	f.Add("a-b")
	f.Add(strings.Repeat("x", 100))
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validNamespace(s), namespaceReference.MatchString(s); got != want {
			t.Errorf("%q: %v, the rule says %v", s, got, want)
		}
	})
}
