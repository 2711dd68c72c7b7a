package beater

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/internal/durable"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/monitoring"
)

// The checkpoints in path.data say what was delivered, but only to the
// destination that acknowledged it. A replay to a file and then, with the
// same path.data, to Elasticsearch resumed from the file's checkpoints and
// shipped nothing (exit 0). So the destination is recorded beside the
// checkpoints, and a replay to another destination reads its files again
// from the start: documents carry a deterministic _id, so Elasticsearch
// drops what it already holds, and nothing the new destination lacks is
// skipped.

// destinationFile records, in path.data, the destination the checkpoints
// there were written for.
const destinationFile = "destination.json"

// destination is what makes two runs' deliveries comparable: the output,
// where it writes, the data streams' namespace and the documents' codec.
type destination struct {
	Output string `json:"output"`
	// Hosts are output.elasticsearch's base URLs (protocol, port and path
	// filled in, credentials left out), sorted.
	Hosts []string `json:"hosts,omitempty"`
	// File is output.file's path and file name.
	File      string `json:"file,omitempty"`
	Namespace string `json:"namespace"`
	Codec     string `json:"codec"`
}

// destinationOf is where cfg sends documents encoded with codec.
func destinationOf(cfg config.Config, codec string) destination {
	d := destination{Output: "console", Namespace: cfg.Procbeat.Namespace, Codec: codec}
	switch out := cfg.Output; {
	case out.Elasticsearch != nil && out.Elasticsearch.Enabled:
		d.Output = "elasticsearch"
		d.Hosts = hostURLs(out.Elasticsearch.Config.Config)
	case out.File != nil && out.File.Enabled:
		d.Output = "file"
		d.File = filepath.Join(out.File.Path, out.File.Filename)
		if abs, err := filepath.Abs(d.File); err == nil {
			d.File = abs
		}
	}
	return d
}

// hostURLs are the hosts of c as sorted base URLs without user
// information: "es" and "http://es:9200" are one destination, and no
// password is written to path.data.
func hostURLs(c esclient.Config) []string {
	urls, err := c.URLs()
	if err != nil {
		urls = slices.Clone(c.Hosts) // refused by the checks before this
	}
	for i, raw := range urls {
		if u, err := url.Parse(raw); err == nil {
			u.User = nil
			urls[i] = u.String()
		}
	}
	slices.Sort(urls)
	return slices.Compact(urls)
}

func (d destination) equal(o destination) bool {
	return d.Output == o.Output && slices.Equal(d.Hosts, o.Hosts) && d.File == o.File &&
		d.Namespace == o.Namespace && d.Codec == o.Codec
}

// String names the destination for a person.
func (d destination) String() string {
	var where string
	switch d.Output {
	case "elasticsearch":
		where = "output.elasticsearch " + strings.Join(d.Hosts, ",")
	case "file":
		where = "output.file " + d.File
	default:
		where = "output.console"
	}
	return fmt.Sprintf("%s, namespace %s, codec %s", where, d.Namespace, d.Codec)
}

// matchDestination makes the checkpoints in dataDir those of d. When they
// were written for another destination and readAgain is set (a replay),
// they are removed with the process table kept with them, so every file is
// read again from the start, and the log says why; without readAgain (run,
// which keeps Beats' registry semantics), the record only follows the
// output. Checkpoints written before destinations were recorded are taken
// as d's. d is then recorded.
func matchDestination(dataDir, registryPath string, d destination, readAgain bool, log monitoring.Logger) error {
	path := filepath.Join(dataDir, destinationFile)
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("path.data: %w", err)
	default:
		var old destination
		if err := json.Unmarshal(raw, &old); err != nil {
			// Unreadable, it cannot vouch for the checkpoints.
			old = destination{Output: "unknown (" + path + " unreadable)"}
		}
		if !old.equal(d) && readAgain {
			if err := os.Remove(registryPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("path.data: %w", err)
			}
			if err := tracker.RemoveJournal(dataDir); err != nil {
				return fmt.Errorf("path.data: %w", err)
			}
			log.Warnf("the checkpoints in %s were written for another destination (%s); this replay goes to %s: every file is read again from the start, and the checkpoints are this destination's from now on", dataDir, old, d)
		}
		if old.equal(d) {
			return nil
		}
	}
	raw, err = json.Marshal(d)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(path, raw, 0o600); err != nil {
		return fmt.Errorf("path.data: %w", err)
	}
	return nil
}
