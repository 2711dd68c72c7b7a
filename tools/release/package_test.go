package release

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/version"
)

// TestLinuxArchive builds the Linux archives of this machine's
// architecture with `mage package` (the default and the agent build),
// checks their checksum files and contents, unpacks them and runs `procbeat
// version` and `procbeat test config` from each.
func TestLinuxArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release archive")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the archive's binary runs on Linux")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	const commit = "0123456789abcdef0123456789abcdef01234567"
	mage := exec.Command("go", "run", "github.com/magefile/mage", "package")
	mage.Dir = root
	mage.Env = append(os.Environ(), "PLATFORMS=linux/"+runtime.GOARCH, "COMMIT="+commit, "SOURCE_DATE_EPOCH=1700000000")
	if out, err := mage.CombinedOutput(); err != nil {
		t.Fatalf("mage package: %v\n%s", err, out)
	}
	arch := runtime.GOARCH
	if arch == "amd64" {
		arch = "x86_64"
	}
	common := []string{"procbeat", "procbeat.yml", "procbeat.reference.yml", "README.md", "LICENSE", "NOTICE.txt"}
	t.Run("default", func(t *testing.T) {
		name := "procbeat-" + version.Version + "-linux-" + arch
		home, files := unpack(t, root, name)
		for _, f := range common {
			if !files[name+"/"+f] {
				t.Errorf("archive lacks %s/%s (has %v)", name, f, files)
			}
		}
		// The default binary cannot run under Elastic Agent: no spec.
		if files[name+"/procbeat.spec.yml"] {
			t.Errorf("the default archive holds procbeat.spec.yml")
		}
		notice := readFile(t, filepath.Join(home, "NOTICE.txt"))
		if strings.Contains(notice, "elastic-agent-client") {
			t.Errorf("the default archive's NOTICE.txt lists elastic-agent-client")
		}
		v := runIn(t, home, "version")
		for _, want := range []string{"procbeat version " + version.Version, "commit " + commit, "built 2023-11-14T22:13:20Z"} {
			if !strings.Contains(v, want) {
				t.Errorf("procbeat version = %q, lacks %q", v, want)
			}
		}
		if strings.Contains(v, "Elastic Agent build") {
			t.Errorf("procbeat version = %q: the default build says it is the agent build", v)
		}
		if out := runIn(t, home, "test", "config"); !strings.Contains(out, "Config OK") {
			t.Errorf("procbeat test config = %q", out)
		}
	})
	t.Run("agent", func(t *testing.T) {
		name := "procbeat-agent-" + version.Version + "-linux-" + arch
		home, files := unpack(t, root, name)
		for _, f := range append(common, "procbeat.spec.yml") {
			if !files[name+"/"+f] {
				t.Errorf("archive lacks %s/%s (has %v)", name, f, files)
			}
		}
		// Its NOTICE.txt is the agent build's: it names the
		// Elastic-licensed client at its top, with the licence text.
		notice := readFile(t, filepath.Join(home, "NOTICE.txt"))
		head, _, _ := strings.Cut(notice, "Summary:")
		if !strings.Contains(head, "github.com/elastic/elastic-agent-client/v7") || !strings.Contains(head, "Elastic License") ||
			!strings.Contains(notice, "ELASTIC LICENSE AGREEMENT") {
			t.Errorf("the agent archive's NOTICE.txt does not state the Elastic License of elastic-agent-client:\n%s", head)
		}
		if spec := readFile(t, filepath.Join(home, "procbeat.spec.yml")); !strings.Contains(spec, "procbeat/wineventlog") {
			t.Errorf("procbeat.spec.yml lacks the wineventlog input")
		}
		v := runIn(t, home, "version")
		for _, want := range []string{"procbeat version " + version.Version, "commit " + commit, "Elastic Agent build", "Elastic License"} {
			if !strings.Contains(v, want) {
				t.Errorf("procbeat version = %q, lacks %q", v, want)
			}
		}
		if out := runIn(t, home, "test", "config"); !strings.Contains(out, "Config OK") {
			t.Errorf("procbeat test config = %q", out)
		}
	})
}

// unpack checks the checksum file of build/distributions/name.tar.gz and
// unpacks it; it returns the package's directory and the names it held.
func unpack(t *testing.T, root, name string) (home string, files map[string]bool) {
	t.Helper()
	archive := filepath.Join(root, "build", "distributions", name+".tar.gz")
	sum := readFile(t, archive+".sha512")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	h := sha512.Sum512(data)
	if want := hex.EncodeToString(h[:]) + "  " + name + ".tar.gz\n"; sum != want {
		t.Fatalf("%s.sha512 = %q, want %q", name, sum, want)
	}
	dir := t.TempDir()
	return filepath.Join(dir, name), untar(t, archive, dir)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runIn runs the unpacked procbeat in its home directory.
func runIn(t *testing.T, home string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(home, "procbeat"), args...)
	cmd.Dir = home
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("procbeat %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// untar unpacks a .tar.gz into dir and returns the names it held.
func untar(t *testing.T, archive, dir string) map[string]bool {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	names := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[hdr.Name] = true
		dst := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			t.Fatalf("archive entry %q escapes the archive", hdr.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(hdr.Mode))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
}
