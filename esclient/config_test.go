package esclient

import (
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-ucfg"
)

func TestValidateNamesTheBadKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		wantKey string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no hosts", func(c *Config) { c.Hosts = nil }, "hosts"},
		{"bad scheme", func(c *Config) { c.Hosts = []string{"ftp://x:9200"} }, "hosts.0"},
		{"bad port", func(c *Config) { c.Hosts = []string{"ok:9200", "x:99999"} }, "hosts.1"},
		{"credentials in URL", func(c *Config) { c.Hosts = []string{"http://u:p@x:9200"} }, "hosts.0"},
		{"protocol", func(c *Config) { c.Protocol = "tcp" }, "protocol"},
		{"api key without colon", func(c *Config) { c.APIKey = "abc" }, "api_key"},
		{"api key and user", func(c *Config) { c.APIKey, c.Username = "a:b", "u" }, "api_key"},
		{"password without user", func(c *Config) { c.Password = "p" }, "username"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"compression", func(c *Config) { c.CompressionLevel = 10 }, "compression_level"},
		{"verification mode", func(c *Config) { c.SSL.VerificationMode = "partial" }, "output.elasticsearch.ssl.verification_mode"},
		{"verification mode strict", func(c *Config) { c.SSL.VerificationMode = VerifyStrict }, ""},
		{"verification mode certificate", func(c *Config) { c.SSL.VerificationMode = VerifyCertificate }, ""},
		{"protocols", func(c *Config) { c.SSL.SupportedProtocols = []string{"TLSv1.2", "TLSv1.3"} }, ""},
		{"bad protocol", func(c *Config) { c.SSL.SupportedProtocols = []string{"TLSv1.3", "SSLv3"} }, "output.elasticsearch.ssl.supported_protocols.1"},
		{"cipher suite", func(c *Config) { c.SSL.CipherSuites = []string{"ECDHE-RSA-AES-256-GCM-SHA384"} }, ""},
		{"bad cipher suite", func(c *Config) { c.SSL.CipherSuites = []string{"RC4-FOREVER"} }, "output.elasticsearch.ssl.cipher_suites.0"},
		{"curve", func(c *Config) { c.SSL.CurveTypes = []string{"P-256", "X25519"} }, ""},
		{"bad curve", func(c *Config) { c.SSL.CurveTypes = []string{"P-1"} }, "output.elasticsearch.ssl.curve_types.0"},
		{"renegotiation", func(c *Config) { c.SSL.Renegotiation = "once" }, ""},
		{"bad renegotiation", func(c *Config) { c.SSL.Renegotiation = "always" }, "output.elasticsearch.ssl.renegotiation"},
		{"certificate without key", func(c *Config) { c.SSL.Certificate = "c.pem" }, "output.elasticsearch.ssl.key"},
		{"key without certificate", func(c *Config) { c.SSL.Key = "k.pem" }, "output.elasticsearch.ssl.certificate"},
		{"proxy", func(c *Config) { c.ProxyURL = "socks5://proxy:1080" }, ""},
		{"proxy host:port", func(c *Config) { c.ProxyURL = "proxy:3128" }, ""},
		{"bad proxy scheme", func(c *Config) { c.ProxyURL = "ftp://proxy:21" }, "output.elasticsearch.proxy_url"},
		{"bad proxy even when disabled", func(c *Config) { c.ProxyURL, c.ProxyDisable = "ftp://proxy:21", true }, "output.elasticsearch.proxy_url"},
		{"fingerprint not hex", func(c *Config) { c.SSL.CATrustedFingerprint = "zz" }, "output.elasticsearch.ssl.ca_trusted_fingerprint"},
		{"fingerprint short", func(c *Config) { c.SSL.CATrustedFingerprint = "abcd" }, "output.elasticsearch.ssl.ca_trusted_fingerprint"},
		{"fingerprint with colons", func(c *Config) {
			c.SSL.CATrustedFingerprint = strings.Repeat("ab:", 31) + "ab"
		}, ""},
		{"empty CA file", func(c *Config) { c.SSL.CertificateAuthorities = []string{" "} }, "output.elasticsearch.ssl.certificate_authorities.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.wantKey == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantKey != "" && err == nil:
				t.Fatalf("no error, want one naming %s", tc.wantKey)
			case tc.wantKey != "" && !strings.HasPrefix(err.Error(), tc.wantKey+":"):
				t.Fatalf("error %q does not start with %s", err, tc.wantKey)
			}
		})
	}
}

func TestURLs(t *testing.T) {
	c := DefaultConfig()
	c.Hosts = []string{"es1", "es2:9201", "https://es3", "http://es4:80/prefix/", "[::1]:9200"}
	c.Protocol = "https"
	c.Path = "/proxy/"
	got, err := c.URLs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://es1:9200/proxy", "https://es2:9201/proxy", "https://es3:9200/proxy", "http://es4:80/prefix", "https://[::1]:9200/proxy"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("URLs() =\n %v\nwant\n %v", got, want)
	}
}

// unpackUcfg unpacks settings over DefaultConfig with go-ucfg, as Beats'
// typed unpack does.
func unpackUcfg(t *testing.T, settings map[string]any) (Config, error) {
	t.Helper()
	raw, err := ucfg.NewFrom(settings, ucfg.PathSep("."))
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	err = raw.Unpack(&c)
	return c, err
}

func TestUnpackWithUcfg(t *testing.T) {
	c, err := unpackUcfg(t, map[string]any{
		"hosts":    []string{"es:9200"},
		"username": "u",
		"password": "p",
		"timeout":  "5s",
		"ssl":      map[string]any{"verification_mode": "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 5*time.Second || c.Username != "u" || c.SSL.VerificationMode != VerifyNone ||
		c.CompressionLevel != DefaultCompressionLevel || len(c.Hosts) != 1 {
		t.Errorf("unpacked %+v", c)
	}

	if _, err := unpackUcfg(t, map[string]any{"compression_level": 12}); err == nil || !strings.Contains(err.Error(), "compression_level") {
		t.Errorf("unpack of a bad level: err = %v, want one naming compression_level", err)
	}
}

// Credentials written into a host URL never reach an error message.
func TestHostCredentialsRedacted(t *testing.T) {
	for _, host := range []string{
		"http://elastic:s3cr3t-pw@es.example:9200",
		"https://s3cr3t-pw@es.example",
		"http://elastic:s3cr3t-pw@es.example:99999",
		"http://elastic:s3cr3t-pw@es.example:9200/%zz",
		"ftp://elastic:s3cr3t-pw@es.example",
	} {
		c := DefaultConfig()
		c.Hosts = []string{host}
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: accepted", host)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error shows the secret: %v", err)
		}
		if _, err := New(c); err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("New: %v", err)
		}
	}
}

// The new ssl and proxy keys unpack with go-ucfg too (Beats' typed
// unpack, which names the key path in errors).
func TestUnpackTLSAndProxyWithUcfg(t *testing.T) {
	c, err := unpackUcfg(t, map[string]any{
		"hosts":         []string{"https://es:9200"},
		"proxy_url":     "socks5://proxy:1080",
		"proxy_headers": map[string]any{"X-Case": "17"},
		"ssl": map[string]any{
			"enabled": true, "verification_mode": "strict", "supported_protocols": []string{"TLSv1.3"},
			"certificate": "c.pem", "key": "k.pem", "key_passphrase": "p", "cipher_suites": []string{"ECDHE-RSA-AES-128-GCM-SHA256"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.SSL.Enabled == nil || !*c.SSL.Enabled || c.SSL.VerificationMode != VerifyStrict || c.SSL.Certificate != "c.pem" ||
		c.SSL.SupportedProtocols[0] != "TLSv1.3" || c.ProxyURL != "socks5://proxy:1080" || c.ProxyHeaders["X-Case"] != "17" {
		t.Errorf("unpacked %+v", c)
	}
	if _, err := unpackUcfg(t, map[string]any{"ssl": map[string]any{"curve_types": []string{"P-1"}}}); err == nil || !strings.Contains(err.Error(), "ssl.curve_types.0") {
		t.Errorf("bad curve: err = %v, want one naming ssl.curve_types.0", err)
	}
}
