// Command esfront sits in front of Elasticsearch inside procbeat's test image.
//
// The integ-test-zip distribution the image is built from lacks the module
// that serves "GET /" (cluster name and version), while test tooling
// (testcontainers-go's readiness check, clients reading the version) relies
// on it. esfront answers "GET /" and "HEAD /" itself from _nodes/_local and
// the cluster state, and passes every other request through unchanged.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", ":9200", "address to listen on")
	upstream := flag.String("upstream", "http://127.0.0.1:9201", "Elasticsearch HTTP address")
	flag.Parse()

	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatalf("esfront: upstream %q: %v", *upstream, err)
	}
	srv := &http.Server{
		Addr:              *listen,
		Handler:           newHandler(target, http.DefaultTransport),
		ReadHeaderTimeout: 30 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("esfront: %v", err)
	}
}

func newHandler(target *url.URL, rt http.RoundTripper) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = rt
	proxy.FlushInterval = -1
	root := &rootHandler{upstream: target, client: &http.Client{Transport: rt, Timeout: 30 * time.Second}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			root.ServeHTTP(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	})
}

// rootHandler builds the "GET /" document from two upstream requests made
// with the caller's credentials, so authentication behaves as upstream does.
type rootHandler struct {
	upstream *url.URL
	client   *http.Client
}

type nodesLocal struct {
	ClusterName string `json:"cluster_name"`
	Nodes       map[string]struct {
		Name        string `json:"name"`
		Version     string `json:"version"`
		BuildFlavor string `json:"build_flavor"`
		BuildType   string `json:"build_type"`
		BuildHash   string `json:"build_hash"`
	} `json:"nodes"`
}

type clusterState struct {
	Metadata struct {
		ClusterUUID string `json:"cluster_uuid"`
	} `json:"metadata"`
}

type rootVersion struct {
	Number      string `json:"number"`
	BuildFlavor string `json:"build_flavor"`
	BuildType   string `json:"build_type"`
	BuildHash   string `json:"build_hash"`
	Snapshot    bool   `json:"build_snapshot"`
}

type rootDoc struct {
	Name        string      `json:"name"`
	ClusterName string      `json:"cluster_name"`
	ClusterUUID string      `json:"cluster_uuid"`
	Version     rootVersion `json:"version"`
	Tagline     string      `json:"tagline"`
}

// upstreamError carries a non-2xx upstream answer back to the caller as is.
type upstreamError struct {
	status int
	header http.Header
	body   []byte
}

func (e *upstreamError) Error() string { return fmt.Sprintf("upstream status %d", e.status) }

func (h *rootHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var nodes nodesLocal
	err := h.get(r, "/_nodes/_local?filter_path=cluster_name,nodes.*.name,nodes.*.version,nodes.*.build_flavor,nodes.*.build_type,nodes.*.build_hash", &nodes)
	var state clusterState
	if err == nil {
		err = h.get(r, "/_cluster/state/metadata?filter_path=metadata.cluster_uuid", &state)
	}
	var ue *upstreamError
	switch {
	case errors.As(err, &ue):
		for _, k := range []string{"Content-Type", "Www-Authenticate", "X-Elastic-Product"} {
			if v := ue.header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(ue.status)
		_, _ = w.Write(ue.body)
		return
	case err != nil:
		http.Error(w, "esfront: "+err.Error(), http.StatusBadGateway)
		return
	}
	doc := rootDoc{ClusterName: nodes.ClusterName, ClusterUUID: state.Metadata.ClusterUUID, Tagline: "You Know, for Search"}
	for _, n := range nodes.Nodes {
		doc.Name = n.Name
		doc.Version = rootVersion{Number: n.Version, BuildFlavor: n.BuildFlavor, BuildType: n.BuildType, BuildHash: n.BuildHash}
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		http.Error(w, "esfront: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(append(body, '\n'))
}

func (h *rootHandler) get(r *http.Request, pathAndQuery string, into any) error {
	u := h.upstream.String() + pathAndQuery
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	for _, k := range []string{"Authorization", "Es-Security-Runas-User"} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", pathAndQuery, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: read body: %w", pathAndQuery, err)
	}
	if resp.StatusCode/100 != 2 {
		return &upstreamError{status: resp.StatusCode, header: resp.Header, body: body}
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: decode: %w", pathAndQuery, err)
	}
	return nil
}
