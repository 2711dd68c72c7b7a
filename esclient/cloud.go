package esclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/elastic/elastic-agent-libs/cloudid"
)

// Cloud is the top-level cloud section of Beats: cloud.id names an
// Elastic Cloud deployment and replaces output.elasticsearch.hosts with its
// Elasticsearch URL; cloud.auth ("username:password") replaces
// output.elasticsearch.username and password.
type Cloud struct {
	ID   string `config:"id"`
	Auth string `config:"auth"`
}

// IsSet reports whether either key is set.
func (c Cloud) IsSet() bool { return c.ID != "" || c.Auth != "" }

// CloudTarget is what a Cloud resolves to.
type CloudTarget struct {
	// Host is the Elasticsearch URL, https on port 443 unless the id
	// names another port.
	Host string
	// Username and Password come from cloud.auth; both empty without it.
	Username, Password string
}

// Resolve decodes the id (elastic-agent-libs' cloudid, as Beats) and the
// auth. Errors name the key and never show the password.
func (c Cloud) Resolve() (CloudTarget, error) {
	if c.ID == "" {
		return CloudTarget{}, errors.New("cloud.auth: set, but cloud.id is empty; set both")
	}
	// Decoded without the auth, whose error would not name the key.
	cid, err := cloudid.NewCloudID(c.ID, "")
	if err != nil {
		return CloudTarget{}, fmt.Errorf("cloud.id: %w", err)
	}
	t := CloudTarget{Host: cid.ElasticsearchURL()}
	if c.Auth != "" {
		user, pass, ok := strings.Cut(c.Auth, ":")
		if !ok || user == "" {
			return CloudTarget{}, errors.New(`cloud.auth: want "username:password"`)
		}
		t.Username, t.Password = user, pass
	}
	if _, err := hostURL(t.Host, "", ""); err != nil {
		return CloudTarget{}, fmt.Errorf("cloud.id: decodes to an unusable Elasticsearch address: %w", err)
	}
	return t, nil
}
