package fielderr_test

import (
	"errors"
	"io"
	"testing"

	"github.com/procbeat/procbeat/internal/fielderr"
)

func TestUnderPrefixesEveryKey(t *testing.T) {
	inner := errors.Join(fielderr.New("hosts.0", "bad port"), fielderr.New("ssl.verification_mode", "%q?", "x"))
	err := fielderr.Under("output.elasticsearch", errors.Join(inner, fielderr.New("worker", "0"), io.EOF))
	want := "output.elasticsearch.hosts.0: bad port\n" +
		`output.elasticsearch.ssl.verification_mode: "x"?` + "\n" +
		"output.elasticsearch.worker: 0\n" +
		"EOF"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	if !errors.Is(err, io.EOF) {
		t.Error("an error without a key is no longer in the chain")
	}
	var fe *fielderr.Error
	if !errors.As(err, &fe) || fe.Key != "output.elasticsearch.hosts.0" {
		t.Errorf("first key error: %+v", fe)
	}
	if fielderr.Under("x", nil) != nil {
		t.Error("nil became an error")
	}
}
