package imagetest

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tc-hib/winres"
	"github.com/tc-hib/winres/version"

	"github.com/procbeat/procbeat/module/process/enrich/image/winpath"
)

// Stamp returns a copy of image with v as its version resource (resources
// rewritten in pure Go: much faster than building again).
func Stamp(t testing.TB, image []byte, v Version) []byte {
	t.Helper()
	rs := versionResources(t, v)
	var out bytes.Buffer
	if err := rs.WriteToEXE(&out, bytes.NewReader(image)); err != nil {
		t.Fatalf("stamping a version resource: %v", err)
	}
	return out.Bytes()
}

// CatalogGUID is the catalog database Windows keeps system catalogs in.
const CatalogGUID = "{F750E6C3-38EE-11D1-85E5-00C04FC295EE}"

// LayOut writes a synthetic image at each Windows path under root (drive
// C: only; other paths are skipped and returned): its version resource
// names the file (original file name = the path's base name, company
// "Procbeat Test Image"); images under C:\Windows are listed in a catalog
// signed by system, the others signed by vendor, except those under
// C:\Users, left unsigned. Every image differs, so each is read once.
func LayOut(t testing.TB, root string, paths []string, base []byte, vendor, system *CA) (skipped []string) {
	t.Helper()
	var catMembers [][]byte
	done := map[string]bool{}
	for _, p := range paths {
		drive, parts, err := winpath.Split(p)
		key := strings.ToLower(p)
		if err != nil || drive != 'C' || done[key] {
			if err != nil || drive != 'C' {
				skipped = append(skipped, p)
			}
			continue
		}
		done[key] = true
		name := parts[len(parts)-1]
		img := Stamp(t, base, Version{OriginalFilename: name, FileDescription: "synthetic test image for " + p,
			CompanyName: "Procbeat Test Image", ProductName: "procbeat tests", FileVersion: "0.0.0.1"})
		switch strings.ToLower(parts[0]) {
		case "windows":
			catMembers = append(catMembers, img)
		case "users":
		default:
			img = vendor.Sign(t, img)
		}
		Write(t, filepath.Join(append([]string{root}, parts...)...), img)
	}
	if len(catMembers) > 0 {
		Write(t, filepath.Join(root, "Windows", "System32", "CatRoot", CatalogGUID, "procbeat-test.cat"), system.Catalog(t, catMembers, nil))
	}
	return skipped
}

// Timeline returns a body file (The Sleuth Kit's format) of the files under
// root as the drive C: an image of it would hold: each file's
// $STANDARD_INFORMATION and $FILE_NAME times are its modification time on
// this file system (when the test wrote it).
func Timeline(t testing.TB, root string) []byte {
	t.Helper()
	var b bytes.Buffer
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		name := "C:/" + filepath.ToSlash(rel)
		ts := fi.ModTime().Unix()
		for _, suffix := range []string{"", " ($FILE_NAME)"} {
			fmt.Fprintf(&b, "0|%s%s|0-128-1|r/rrwxrwxrwx|0|0|%d|%d|%d|%d|%d\n", name, suffix, fi.Size(), ts, ts, ts, ts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// versionResources is a resource set holding v as the version resource.
func versionResources(t testing.TB, v Version) *winres.ResourceSet {
	t.Helper()
	var rs winres.ResourceSet
	var vi version.Info
	for k, val := range map[string]string{
		version.OriginalFilename: v.OriginalFilename, version.FileVersion: v.FileVersion,
		version.ProductName: v.ProductName, version.CompanyName: v.CompanyName, version.FileDescription: v.FileDescription,
	} {
		if val != "" {
			if err := vi.Set(0x409, k, val); err != nil {
				t.Fatal(err)
			}
		}
	}
	rs.SetVersionInfo(vi)
	return &rs
}
