package redact

import "testing"

func TestURLs(t *testing.T) {
	for in, want := range map[string]string{
		"http://user:pass@host:9200":                        "http://user:xxxxx@host:9200",
		`hosts[0]: "https://elastic:s3cr3t@es.corp:9200/x"`: `hosts[0]: "https://elastic:xxxxx@es.corp:9200/x"`,
		"a http://u:p/q:r@h b https://v:w@i c":              "a http://u:xxxxx@h b https://v:xxxxx@i c",
		"parse \"http://u:p%zz@h\": invalid URL escape":     "parse \"http://u:xxxxx@h\": invalid URL escape",
		"http://host:9200/path":                             "http://host:9200/path",
		"http://token@host":                                 "http://token@host",
		"no url: user:pass@host":                            "no url: user:pass@host",
	} {
		if got := URLs(in); got != want {
			t.Errorf("URLs(%q) = %q, want %q", in, got, want)
		}
	}
}
