package beater_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/enrich/image/imagetest"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/testing/corpus"
)

type enrichedDoc struct {
	Event   struct{ Type []string } `json:"event"`
	Process struct {
		Executable string `json:"executable"`
		Ext        struct {
			Created *float64 `json:"relative_file_creation_time"`
			Named   *float64 `json:"relative_file_name_modify_time"`
		} `json:"Ext"`
		Hash struct {
			SHA256 string `json:"sha256"`
		} `json:"hash"`
		PE struct {
			OriginalFileName string `json:"original_file_name"`
			Company          string `json:"company"`
		} `json:"pe"`
		CodeSignature struct {
			Exists      *bool  `json:"exists"`
			Trusted     *bool  `json:"trusted"`
			SubjectName string `json:"subject_name"`
			Status      string `json:"status"`
		} `json:"code_signature"`
		Parent struct {
			Executable    string `json:"executable"`
			CodeSignature struct {
				Exists *bool `json:"exists"`
			} `json:"code_signature"`
		} `json:"parent"`
	} `json:"process"`
}

func replayCorpus(t *testing.T, cfg config.Config, paths []string) []enrichedDoc {
	t.Helper()
	out := &captureOutput{}
	b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, beater.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Replay(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var docs []enrichedDoc
	for _, raw := range out.docs {
		var d enrichedDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Event.Type) == 1 && d.Event.Type[0] == "start" {
			docs = append(docs, d)
		}
	}
	return docs
}

// TestEnrichCorpusFromImageRoot replays the shared corpus against an image
// root holding synthetic images (built, stamped and signed by the test) at
// the paths the corpus's processes ran from: every start document whose
// executable is on drive C: gets hashes, PE facts and a signature verdict.
// PROCBEAT_KEEP_IMAGE_ROOT=DIR keeps the root (and DIR.roots.pem and the
// timeline DIR.body beside it) for the rule-field check.
func TestEnrichCorpusFromImageRoot(t *testing.T) {
	dir := corpus.Require(t)
	imagetest.NeedOsslsigncode(t)
	man, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for rel := range man {
		if ext := filepath.Ext(rel); ext != ".zip" && ext != ".gz" {
			paths = append(paths, filepath.Join(dir, rel))
		}
	}
	plain := replayCorpus(t, config.Default(), paths)
	var exes []string
	for _, d := range plain {
		exes = append(exes, d.Process.Executable, d.Process.Parent.Executable)
	}

	root := os.Getenv("PROCBEAT_KEEP_IMAGE_ROOT")
	if root == "" {
		root = t.TempDir()
	}
	vendor, system := imagetest.NewCA(t, "Procbeat Test Vendor"), imagetest.NewCA(t, "Microsoft Windows")
	base := imagetest.BuildPE(t, imagetest.Version{})
	start := time.Now()
	imagetest.LayOut(t, root, exes, base, vendor, system)
	t.Logf("laid out the image root in %s", time.Since(start))
	pem := filepath.Join(root + ".roots.pem")
	imagetest.Write(t, pem, append(append([]byte(nil), vendor.RootPEM...), system.RootPEM...))

	body := root + ".body"
	imagetest.Write(t, body, imagetest.Timeline(t, root))

	cfg := config.Default()
	cfg.Enrich.Timelines = []string{body}
	cfg.Enrich.ImageRoot = root
	cfg.Enrich.SystemRoots = false
	cfg.Enrich.TrustedRoots = []string{pem}
	cfg.Enrich.Budget = time.Minute
	docs := replayCorpus(t, cfg, paths)
	if len(docs) != len(plain) {
		t.Fatalf("%d start documents, %d without enrichment", len(docs), len(plain))
	}
	var onC, hashed, pe, signed, trusted, parents, times int
	for _, d := range docs {
		p := d.Process
		if !strings.HasPrefix(strings.ToUpper(p.Executable), `C:\`) {
			continue
		}
		onC++
		if p.Hash.SHA256 != "" {
			hashed++
		}
		if p.Ext.Created != nil && p.Ext.Named != nil {
			times++
		}
		if p.PE.OriginalFileName != "" {
			pe++
		}
		if p.CodeSignature.Exists != nil {
			signed++
			want := !strings.HasPrefix(strings.ToLower(p.Executable), `c:\users\`)
			if *p.CodeSignature.Exists != want {
				t.Errorf("%s: code_signature.exists %v", p.Executable, *p.CodeSignature.Exists)
			}
			if want && (p.CodeSignature.Trusted == nil || !*p.CodeSignature.Trusted || p.CodeSignature.Status != "trusted") {
				t.Errorf("%s: %+v", p.Executable, p.CodeSignature)
			}
			if want && *p.CodeSignature.Trusted {
				trusted++
			}
		}
		if strings.HasPrefix(strings.ToUpper(p.Parent.Executable), `C:\`) && p.Parent.CodeSignature.Exists != nil {
			parents++
		}
	}
	t.Logf("%d start documents, %d with an executable on C:: hashes %d, PE facts %d, signature verdict %d (trusted %d), parent signature %d, file times %d",
		len(docs), onC, hashed, pe, signed, trusted, parents, times)
	if onC == 0 || hashed != onC || pe != onC || signed != onC || times != onC {
		t.Errorf("enrichment missed documents: %d on C:, hashed %d, PE %d, signature %d, times %d", onC, hashed, pe, signed, times)
	}
}
