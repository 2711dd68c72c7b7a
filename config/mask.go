package config

import (
	"slices"
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

// headerSections are the settings that map HTTP header names to values
// (output.elasticsearch.proxy_headers, and headers as Beats name them).
var headerSections = []string{"headers", "proxy_headers"}

// isSecretHeader is whether an HTTP header carries a credential: the
// authorization headers, cookies, and any header named like a secret
// setting (X-Api-Key, X-Auth-Token).
func isSecretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	n = strings.NewReplacer("-", "_", " ", "_").Replace(n)
	return isSecretKey(n) || strings.HasSuffix(n, "_key") || strings.HasSuffix(n, "authorization")
}

// MaskSecrets replaces, in a configuration tree as unpacked from the
// settings (maps, lists, scalars), every non-empty secret value by
// redact.Mask, every header value that carries a credential, and the
// password of every URL in a string. It changes tree
// in place and returns it.
func MaskSecrets(tree map[string]any) map[string]any {
	for k, v := range tree {
		if isSecretKey(k) {
			if s, ok := v.(string); !ok || s != "" {
				tree[k] = redact.Mask
			}
			continue
		}
		if h, ok := v.(map[string]any); ok && slices.Contains(headerSections, strings.ToLower(k)) {
			for name, hv := range h {
				if isSecretHeader(name) {
					h[name] = redact.Mask
				} else {
					h[name] = maskValue(hv)
				}
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
