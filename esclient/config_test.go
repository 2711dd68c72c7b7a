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
		{"verification mode", func(c *Config) { c.SSL.VerificationMode = "certificate" }, "ssl.verification_mode"},
		{"fingerprint not hex", func(c *Config) { c.SSL.CATrustedFingerprint = "zz" }, "ssl.ca_trusted_fingerprint"},
		{"fingerprint short", func(c *Config) { c.SSL.CATrustedFingerprint = "abcd" }, "ssl.ca_trusted_fingerprint"},
		{"fingerprint with colons", func(c *Config) {
			c.SSL.CATrustedFingerprint = strings.Repeat("ab:", 31) + "ab"
		}, ""},
		{"empty CA file", func(c *Config) { c.SSL.CertificateAuthorities = []string{" "} }, "ssl.certificate_authorities.0"},
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

func TestUnpackWithUcfg(t *testing.T) {
	raw, err := ucfg.NewFrom(map[string]any{
		"hosts":    []string{"es:9200"},
		"username": "u",
		"password": "p",
		"timeout":  "5s",
		"ssl":      map[string]any{"verification_mode": "none"},
	}, ucfg.PathSep("."))
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if err := raw.Unpack(&c); err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 5*time.Second || c.Username != "u" || c.SSL.VerificationMode != VerifyNone ||
		c.CompressionLevel != DefaultCompressionLevel || len(c.Hosts) != 1 {
		t.Errorf("unpacked %+v", c)
	}

	bad, err := ucfg.NewFrom(map[string]any{"compression_level": 12}, ucfg.PathSep("."))
	if err != nil {
		t.Fatal(err)
	}
	c = DefaultConfig()
	if err := bad.Unpack(&c); err == nil || !strings.Contains(err.Error(), "compression_level") {
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
