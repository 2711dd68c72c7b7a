package esclient

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Ids shaped like Elastic Cloud's: an optional "label:" and the base64 of
// "domain[:port]$es-id[:port]$kibana-id[:port]" (made-up deployments).
func cloudID(label, decoded string) string {
	id := base64.StdEncoding.EncodeToString([]byte(decoded))
	if label != "" {
		return label + ":" + id
	}
	return id
}

func TestCloudResolve(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cloud      Cloud
		want       CloudTarget
		wantErrKey string
	}{
		{"labelled id, default port 443", Cloud{ID: cloudID("case-4711", "us-central1.gcp.cloud.es.io$0a1b2c3d4e5f$9f8e7d6c5b4a")},
			CloudTarget{Host: "https://0a1b2c3d4e5f.us-central1.gcp.cloud.es.io:443"}, ""},
		{"unlabelled id with auth", Cloud{ID: cloudID("", "westeurope.azure.elastic-cloud.com$abc123$def456"), Auth: "elastic:pa:ss"},
			CloudTarget{Host: "https://abc123.westeurope.azure.elastic-cloud.com:443", Username: "elastic", Password: "pa:ss"}, ""},
		{"domain port", Cloud{ID: cloudID("x", "eu-west-1.aws.found.io:9243$es1$kb1")},
			CloudTarget{Host: "https://es1.eu-west-1.aws.found.io:9243"}, ""},
		{"es port wins over domain port", Cloud{ID: cloudID("x", "eu-west-1.aws.found.io:9243$es1:9244$kb1")},
			CloudTarget{Host: "https://es1.eu-west-1.aws.found.io:9244"}, ""},
		{"not base64", Cloud{ID: "case:!!notbase64"}, CloudTarget{}, "cloud.id"},
		{"too few parts", Cloud{ID: cloudID("x", "only-a-domain$es1")}, CloudTarget{}, "cloud.id"},
		{"auth without colon", Cloud{ID: cloudID("x", "d.example$es1$kb1"), Auth: "elastic"}, CloudTarget{}, "cloud.auth"},
		{"auth without user", Cloud{ID: cloudID("x", "d.example$es1$kb1"), Auth: ":s3cr3t"}, CloudTarget{}, "cloud.auth"},
		{"auth without id", Cloud{Auth: "elastic:s3cr3t"}, CloudTarget{}, "cloud.auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cloud.Resolve()
			if tc.wantErrKey != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErrKey+":") {
					t.Fatalf("err = %v, want one starting with %s:", err, tc.wantErrKey)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			// The host is usable as it stands.
			c := DefaultConfig()
			c.Hosts = []string{got.Host}
			if urls, err := c.URLs(); err != nil || urls[0] != tc.want.Host {
				t.Errorf("URLs() = %v, %v", urls, err)
			}
		})
	}
}
