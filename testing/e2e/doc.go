// Package e2e holds procbeat's end-to-end tests (issue 8): the procbeat
// binary is built once per test run and driven as a user would drive it,
// replaying Windows events into a real Elasticsearch started by
// testing/estest; the tests then check the data streams, their mappings,
// the documents and Kibana-style KQL searches over them, each also run
// through Elasticsearch's own kql query (the x-pack-kql plugin of the test
// image) with the same hits expected, or the documented difference.
//
// Run them with a container engine and an Elasticsearch image available:
//
//	eval "$(.ci/podman.sh)"
//	export PROCBEAT_ES_IMAGE=$(tools/esimage/build.sh | tail -1)
//	CI=true go test ./testing/e2e/
//
// PROCBEAT_E2E_BENCH=1 adds the end-to-end throughput measurement
// (TestThroughput, about a minute and a half; not part of CI), which needs
// ../shared/corpus; PROCBEAT_E2E_BENCH_COPIES sets how many times the
// corpus chunks are repeated in its EVTX input (default 8).
package e2e
