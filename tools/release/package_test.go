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

// TestLinuxArchive builds the Linux archive of this machine's architecture
// with `mage package`, checks its checksum file and contents, unpacks it and
// runs `procbeat version` and `procbeat test config` from it.
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
	name := "procbeat-" + version.Version + "-linux-" + arch
	archive := filepath.Join(root, "build", "distributions", name+".tar.gz")

	sum, err := os.ReadFile(archive + ".sha512")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	h := sha512.Sum512(data)
	if want := hex.EncodeToString(h[:]) + "  " + name + ".tar.gz\n"; string(sum) != want {
		t.Fatalf("%s.sha512 = %q, want %q", name, sum, want)
	}

	dir := t.TempDir()
	files := untar(t, archive, dir)
	for _, f := range []string{"procbeat", "procbeat.yml", "procbeat.reference.yml", "README.md", "LICENSE", "NOTICE.txt"} {
		if !files[name+"/"+f] {
			t.Errorf("archive lacks %s/%s (has %v)", name, f, files)
		}
	}
	home := filepath.Join(dir, name)
	run := func(args ...string) string {
		cmd := exec.Command(filepath.Join(home, "procbeat"), args...)
		cmd.Dir = home
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("procbeat %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	v := run("version")
	for _, want := range []string{"procbeat version " + version.Version, "commit " + commit, "built 2023-11-14T22:13:20Z"} {
		if !strings.Contains(v, want) {
			t.Errorf("procbeat version = %q, lacks %q", v, want)
		}
	}
	if out := run("test", "config"); !strings.Contains(out, "Config OK") {
		t.Errorf("procbeat test config = %q", out)
	}
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
