package esclient

import (
	"testing"
)

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := decodeJSON([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestTemplatesEqual(t *testing.T) {
	for _, tc := range []struct {
		name       string
		want, have string
		equal      bool
	}{
		{
			name:  "settings as the server reports them",
			want:  `{"template":{"settings":{"number_of_shards":1,"index.codec":"best_compression","index":{"refresh_interval":"5s"}}}}`,
			have:  `{"template":{"settings":{"index":{"number_of_shards":"1","codec":"best_compression","refresh_interval":"5s"}}}}`,
			equal: true,
		},
		{
			name:  "changed setting",
			want:  `{"template":{"settings":{"number_of_shards":2}}}`,
			have:  `{"template":{"settings":{"index":{"number_of_shards":"1"}}}}`,
			equal: false,
		},
		{
			name:  "data stream defaults added by the server",
			want:  `{"index_patterns":["logs-x-*"],"data_stream":{},"priority":200}`,
			have:  `{"index_patterns":["logs-x-*"],"data_stream":{"hidden":false,"allow_custom_routing":false},"priority":200}`,
			equal: true,
		},
		{
			name:  "hidden data stream is a difference",
			want:  `{"index_patterns":["logs-x-*"],"data_stream":{}}`,
			have:  `{"index_patterns":["logs-x-*"],"data_stream":{"hidden":true}}`,
			equal: false,
		},
		{
			name:  "key order and scalar types",
			want:  `{"template":{"mappings":{"properties":{"a":{"type":"keyword","ignore_above":1024}}}},"version":3}`,
			have:  `{"version":"3","template":{"mappings":{"properties":{"a":{"ignore_above":1024,"type":"keyword"}}}}}`,
			equal: true,
		},
		{
			name:  "field removed from wanted mapping",
			want:  `{"template":{"mappings":{"properties":{"a":{"type":"keyword"}}}}}`,
			have:  `{"template":{"mappings":{"properties":{"a":{"type":"keyword"},"b":{"type":"long"}}}}}`,
			equal: false,
		},
		{
			name:  "false inside mappings is not a server default",
			want:  `{"template":{"mappings":{"properties":{"a":{"type":"keyword"}}}}}`,
			have:  `{"template":{"mappings":{"properties":{"a":{"type":"keyword","index":false}}}}}`,
			equal: false,
		},
		{
			name:  "_meta change",
			want:  `{"_meta":{"managed_by":"procbeat","v":2}}`,
			have:  `{"_meta":{"managed_by":"procbeat","v":1}}`,
			equal: false,
		},
		{
			name:  "empty settings object",
			want:  `{"template":{"settings":{},"mappings":{"dynamic":false}}}`,
			have:  `{"template":{"mappings":{"dynamic":false}}}`,
			equal: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := templatesEqual(mustDecode(t, tc.want), mustDecode(t, tc.have)); got != tc.equal {
				t.Errorf("templatesEqual = %v, want %v", got, tc.equal)
			}
		})
	}
}

func TestUnknownMapperType(t *testing.T) {
	es8 := `{"error":{"type":"illegal_argument_exception","reason":"x","caused_by":{"type":"mapper_parsing_exception","reason":"Failed to parse mapping: The mapper type [wildcard] declared on field [probe] does not exist."}},"status":400}`
	es7 := `{"error":{"type":"mapper_parsing_exception","reason":"No handler for type [wildcard] declared on field [probe]"},"status":400}`
	other := `{"error":{"type":"illegal_argument_exception","reason":"index_patterns must not be empty"},"status":400}`
	if !unknownMapperType([]byte(es8), "wildcard") || !unknownMapperType([]byte(es7), "wildcard") {
		t.Error("unknown type not recognised")
	}
	if unknownMapperType([]byte(es8), "constant_keyword") || unknownMapperType([]byte(other), "wildcard") {
		t.Error("unrelated error taken for an unknown type")
	}
}
