package config

import (
	"strings"

	"github.com/procbeat/procbeat/internal/redact"
)

// secretKeys are the settings whose values are never printed, wherever
// they appear (output.elasticsearch.password, api_key, and the same names
// anywhere else; cloud.auth holds a password too).
var secretKeys = []string{"password", "api_key", "apikey", "token", "secret", "passphrase", "auth"}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretKeys {
		if k == s || strings.HasSuffix(k, "_"+s) || strings.HasSuffix(k, "."+s) {
			return true
		}
	}
	return false
}

// MaskSecrets replaces, in a configuration tree as unpacked from the
// settings (maps, lists, scalars), every non-empty secret value by
// redact.Mask and the password of every URL in a string. It changes tree
// in place and returns it.
func MaskSecrets(tree map[string]any) map[string]any {
	for k, v := range tree {
		if isSecretKey(k) {
			if s, ok := v.(string); !ok || s != "" {
				tree[k] = redact.Mask
			}
			continue
		}
		tree[k] = maskValue(v)
	}
	return tree
}

func maskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return MaskSecrets(x)
	case []any:
		for i := range x {
			x[i] = maskValue(x[i])
		}
		return x
	case string:
		return redact.URLs(x)
	}
	return v
}
