package estest

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tces "github.com/testcontainers/testcontainers-go/modules/elasticsearch"
	"github.com/testcontainers/testcontainers-go/wait"
)

// TLS configures HTTPS on a cluster started with Options.Security.
type TLS struct {
	// Certificate is the server's PEM certificate chain (leaf first; add
	// the CA for clients that pin it with ca_trusted_fingerprint), Key its
	// PEM (PKCS#8) private key.
	Certificate, Key []byte
	// ClientCA is the PEM CA whose client certificates are accepted.
	ClientCA []byte
	// ClientAuth is xpack.security.http.ssl.client_authentication: none,
	// optional or required.
	ClientAuth string
	// Client is how the harness itself connects (to wait for the node and
	// for Cluster.Client): trusting the server, with a client certificate
	// when one is required.
	Client *tls.Config
}

// Files the server's TLS material is written to, in the config directory
// (Elasticsearch reads certificates only from there).
const (
	tlsPort     = "9201"
	tlsCertFile = "procbeat-http.crt"
	tlsKeyFile  = "procbeat-http.key"
	tlsCAFile   = "procbeat-http-ca.crt"
)

// runTLS starts the container with HTTPS. testcontainers' elasticsearch
// module cannot wait for it: its readiness probe speaks plain HTTP unless
// the image generated its own CA, and never presents a client
// certificate. So this sets up what the module would (single-node
// discovery, the elastic password) on a generic container that waits with
// the harness's TLS client. Elasticsearch's own HTTP port is published
// (tlsPort, on every interface): the local image's esfront on 9200 only
// forwards plain HTTP.
func runTLS(ctx context.Context, image string, t *TLS, env map[string]string, custom []testcontainers.ContainerCustomizer) (*tces.ElasticsearchContainer, error) {
	full := map[string]string{
		"discovery.type": "single-node",
		"cluster.routing.allocation.disk.threshold_enabled": "false",
		"ELASTIC_PASSWORD":                                DefaultPassword,
		"xpack.security.http.ssl.enabled":                 "true",
		"xpack.security.http.ssl.certificate":             tlsCertFile,
		"xpack.security.http.ssl.key":                     tlsKeyFile,
		"xpack.security.http.ssl.certificate_authorities": tlsCAFile,
		"xpack.security.http.ssl.client_authentication":   t.ClientAuth,
		"xpack.security.http.ssl.verification_mode":       "certificate",
		"http.host": "0.0.0.0",
		"http.port": tlsPort,
	}
	for k, v := range env {
		if _, set := full[k]; !set {
			full[k] = v
		}
	}
	opts := append([]testcontainers.ContainerCustomizer{}, custom...)
	for name, content := range map[string][]byte{tlsCertFile: t.Certificate, tlsKeyFile: t.Key, tlsCAFile: t.ClientCA} {
		opts = append(opts, testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader:            bytes.NewReader(content),
			ContainerFilePath: "/usr/share/elasticsearch/config/" + name,
			FileMode:          0o644,
		}))
	}
	opts = append(opts,
		testcontainers.WithExposedPorts(tlsPort+"/tcp"),
		testcontainers.WithEnv(full),
		// A busy machine needs more than testcontainers' default minute;
		// ctx still bounds the whole start.
		testcontainers.WithWaitStrategyAndDeadline(10*time.Minute, wait.ForHTTP("/_cluster/health").WithPort(tlsPort+"/tcp").
			WithTLS(true, t.Client).WithBasicAuth("elastic", DefaultPassword).
			WithStartupTimeout(10*time.Minute)),
	)
	ctr, err := testcontainers.Run(ctx, image, opts...)
	if ctr == nil {
		return nil, err
	}
	es := &tces.ElasticsearchContainer{Container: ctr, Settings: tces.Options{Username: "elastic", Password: DefaultPassword}}
	if err != nil {
		return es, err
	}
	addr, err := ctr.PortEndpoint(ctx, tlsPort+"/tcp", "https")
	if err != nil {
		return es, fmt.Errorf("elasticsearch address: %w", err)
	}
	es.Settings.Address = addr
	return es, nil
}
