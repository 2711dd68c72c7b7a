package beater

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/enrich/image"
	"github.com/procbeat/procbeat/module/process/enrich/image/filetimes"
	"github.com/procbeat/procbeat/module/process/enrich/image/winpath"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/monitoring"
)

// images is the executable-file enricher and what it holds open.
type images struct {
	enricher *image.Enricher
	root     *winpath.Image
	log      monitoring.Logger
}

// newImages builds the enricher the configuration asks for; nil when
// disabled. Without an image root and off Windows it reads no file: it
// still applies Sysmon's image-load signatures and the timelines.
func newImages(cfg config.Enrich, log monitoring.Logger) (*images, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	// Signatures are only verified in files read (an image root, or the
	// live file system on Windows). Loading the system's roots parses every
	// certificate of the system store (about half of a small replay's
	// start-up CPU), so a replay that reads no file does not load them; the
	// configured files are still read, so a bad one is still an error.
	readsFiles := cfg.ImageRoot != "" || runtime.GOOS == "windows"
	roots, err := trustedRoots(cfg, cfg.SystemRoots && readsFiles)
	if err != nil {
		return nil, err
	}
	im := &images{log: log}
	opts := image.Options{Roots: roots, Hosts: cfg.Hosts, MaxFileSize: cfg.MaxFileSize, Budget: cfg.Budget,
		CacheSize: cfg.CacheSize, MaxCatalogBytes: cfg.MaxCatalogBytes, Readers: cfg.Readers}
	if len(cfg.Timelines) > 0 {
		if opts.Times, err = readTimelines(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.ImageRoot != "" {
		im.root, err = winpath.NewImage(cfg.ImageRoot, cfg.Drives)
		if err != nil {
			return nil, fmt.Errorf("enrich.image_root: %w", err)
		}
		opts.Files = im.root
	} else if runtime.GOOS == "windows" {
		// The live file system describes this host only: events replayed
		// from other machines must not get its files' facts.
		opts.Files = winpath.Live{}
		opts.Platform = image.PlatformVerifier()
		if len(opts.Hosts) == 0 {
			name, err := os.Hostname()
			if err != nil {
				return nil, fmt.Errorf("enrich: host name: %w", err)
			}
			opts.Hosts = []string{name}
		}
	}
	im.enricher = image.New(opts)
	return im, nil
}

// readTimelines reads the body files into one index.
func readTimelines(cfg config.Enrich) (*filetimes.Index, error) {
	var rs []io.Reader
	for _, name := range cfg.Timelines {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("enrich.timelines: %w", err)
		}
		defer f.Close()
		// A file without a final newline must not glue its last line to
		// the next file's first.
		rs = append(rs, f, strings.NewReader("\n"))
	}
	ix, err := filetimes.Read(io.MultiReader(rs...), cfg.MaxTimelineFiles)
	if err != nil {
		return nil, fmt.Errorf("enrich.timelines: %w", err)
	}
	return ix, nil
}

// trustedRoots is the pool signatures must chain to: the configured files,
// and the system's roots when system is set.
func trustedRoots(cfg config.Enrich, system bool) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if system {
		if sys, err := x509.SystemCertPool(); err == nil {
			pool = sys
		}
	}
	for _, f := range cfg.TrustedRoots {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("enrich.trusted_roots: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("enrich.trusted_roots: %s: no PEM certificate", f)
		}
	}
	return pool, nil
}

// mapping is the hook the mapper calls; nil when there is no enricher.
func (im *images) mapping() mapping.Images {
	if im == nil {
		return nil
	}
	return im.enricher
}

// close releases the image root and logs what was read.
func (im *images) close() {
	if im == nil {
		return
	}
	s := im.enricher.Stats()
	im.log.Infof("enrich: %d lookups, %d files read, %d missing, %d not on a mapped drive, %d refused (leaving the root), %d unreadable, %d too large, %d not PE, %d over budget, %d catalogs (%d unusable)",
		s.Lookups.Load(), s.Reads.Load(), s.Missing.Load(), s.Unmapped.Load(), s.Refused.Load(), s.Unreadable.Load(), s.TooLarge.Load(), s.NotPE.Load(),
		s.Timeouts.Load(), s.CatalogFiles.Load(), s.CatalogErrors.Load())
	if im.root != nil {
		im.root.Close()
	}
}
