package elasticsearch

import "net/http"

// Transport performs one request against the cluster: an *esclient.Client
// (connection pool, retries, authentication, compression), the test
// harness's go-elasticsearch client, or a function (TransportFunc). The
// output builds its requests itself, so this is all it needs of a client.
type Transport interface {
	Perform(req *http.Request) (*http.Response, error)
}
