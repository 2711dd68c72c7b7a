// Package image enriches process documents from the executable files the
// processes ran from: hashes, PE version facts and import hash, Authenticode
// signatures (embedded or through the system's catalogs) and the file's
// creation time relative to the process start.
//
// Files come from a winpath.Opener: the live file system on a Windows host,
// or a mounted disk image or triage collection for replays. Each file is
// read once however many processes start from it; results are cached by
// file identity, size and modification time, so a file that changes is read
// again. A document waits at most Options.Budget for a file being read; a
// file that takes longer, is too large or cannot be read leaves the fields
// absent and is counted in Stats.
package image

import (
	"bytes"
	"container/list"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/lower"
	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
	"github.com/procbeat/procbeat/module/process/enrich/image/catalog"
	"github.com/procbeat/procbeat/module/process/enrich/image/filetimes"
	"github.com/procbeat/procbeat/module/process/enrich/image/pefacts"
	"github.com/procbeat/procbeat/module/process/enrich/image/winpath"
)

// Options configure an Enricher.
type Options struct {
	// Files opens executables; nil reads none (file times from Times only).
	Files winpath.Opener
	// Roots are the certificate roots signatures must chain to.
	Roots *x509.CertPool
	// Hosts, when set, are the host names (case-insensitive, short or
	// fully qualified) the files belong to; events of other hosts are left
	// alone. An image of one machine says nothing about another's files.
	Hosts []string
	// MaxFileSize is the largest file read (default 64 MiB).
	MaxFileSize int64
	// Budget is the longest a document waits for its file (default 2s).
	Budget time.Duration
	// CacheSize bounds the files remembered (default 4096).
	CacheSize int
	// MaxCatalogBytes bounds the catalogs read (default 512 MiB).
	MaxCatalogBytes int64
	// Readers is how many files are read at once (default 2).
	Readers int
	// Platform, when set, gives the operating system's verdict on embedded
	// signatures (PlatformVerifier: WinVerifyTrust on a live Windows host).
	Platform Verifier
	// Revalidate is how long a file checked is trusted not to have changed
	// before it is looked at again (default 2s; negative: every time).
	Revalidate time.Duration
	// Times, when set, is a timeline of the image's NTFS file times: the
	// source of creation and name-change times where the file system
	// cannot give them (files copied out of an image).
	Times *filetimes.Index
}

// Stats count what the enricher did; all fields may be read concurrently.
type Stats struct {
	Lookups       atomic.Uint64 // executables looked up
	Reads         atomic.Uint64 // files read (cache misses)
	Missing       atomic.Uint64 // executables not found
	Unmapped      atomic.Uint64 // paths on no mapped drive, or not absolute
	Refused       atomic.Uint64 // paths leaving the image root
	Unreadable    atomic.Uint64 // files that could not be opened or read
	TooLarge      atomic.Uint64 // files over MaxFileSize
	NotPE         atomic.Uint64 // files that are not PE images
	Timeouts      atomic.Uint64 // documents sent before their file was read
	CatalogFiles  atomic.Uint64 // catalog files loaded
	CatalogErrors atomic.Uint64 // catalog files that could not be used
}

// Info is what one file says. It is immutable once published.
type Info struct {
	MD5, SHA1, SHA256 string
	PE                pefacts.Facts
	IsPE              bool
	// Signatures are the embedded signatures, or the catalog signer when
	// there are none; empty when the image is unsigned.
	Signatures []authenticode.Signature
	Created    time.Time // zero when the source does not say

	ext       []document.ProcessExtCodeSignature
	parentExt []document.ProcessParentExtCodeSignature
}

type fileKey struct {
	id1, id2 uint64
	size     int64
	mtime    int64
}

// pathMemo spares documents the open and stat of a file checked less than
// revalidate ago: the per-document cost is then one map lookup.
type pathMemo struct {
	key     fileKey
	checked int64 // unix nanoseconds
}

type entry struct {
	key  fileKey
	done chan struct{}
	info *Info // nil when the file could not be used
	elem *list.Element
}

// Enricher fills process documents from image files. It is safe for
// concurrent use.
type Enricher struct {
	opts  Options
	stats Stats
	sem   chan struct{}
	hosts map[string]bool

	mu    sync.Mutex
	cache map[fileKey]*entry
	lru   *list.List
	paths map[string]pathMemo // executable path → its file, as last checked

	catOnce sync.Once
	catalog *catalog.Index

	seen observed
}

// New returns an Enricher.
func New(opts Options) *Enricher {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 64 << 20
	}
	if opts.Budget <= 0 {
		opts.Budget = 2 * time.Second
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 4096
	}
	if opts.MaxCatalogBytes <= 0 {
		opts.MaxCatalogBytes = 512 << 20
	}
	if opts.Readers <= 0 {
		opts.Readers = 2
	}
	if opts.Revalidate == 0 {
		opts.Revalidate = 2 * time.Second
	}
	e := &Enricher{opts: opts, sem: make(chan struct{}, opts.Readers), cache: make(map[fileKey]*entry), lru: list.New(),
		paths: make(map[string]pathMemo)}
	e.seen.max = opts.CacheSize * 4
	if len(opts.Hosts) > 0 {
		e.hosts = make(map[string]bool)
		for _, h := range opts.Hosts {
			e.hosts[strings.ToLower(h)] = true
		}
	}
	return e
}

// Stats returns the enricher's counters.
func (e *Enricher) Stats() *Stats { return &e.stats }

func (e *Enricher) forHost(host string) bool {
	if e.hosts == nil {
		return true
	}
	// Lower-cased on the stack: a document asks up to three times, and
	// Computer names are mostly upper case.
	var buf [64]byte
	h := lower.Append(buf[:0], host)
	short, _, _ := bytes.Cut(h, []byte{'.'})
	return e.hosts[string(h)] || e.hosts[string(short)]
}

// Lookup returns what the file at the Windows path exe says, reading it if
// needed within the budget; nil when it cannot be had in time.
func (e *Enricher) Lookup(host, exe string) *Info {
	if exe == "" || e.opts.Files == nil || !e.forHost(host) {
		return nil
	}
	e.stats.Lookups.Add(1)
	now := time.Now().UnixNano()
	e.mu.Lock()
	if pm, ok := e.paths[exe]; ok && now-pm.checked < int64(e.opts.Revalidate) {
		if en, ok := e.cache[pm.key]; ok {
			select {
			case <-en.done:
				e.mu.Unlock()
				return en.info
			default:
			}
		}
	}
	e.mu.Unlock()
	f, err := e.opts.Files.Open(exe)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			e.stats.Missing.Add(1)
		case errors.Is(err, winpath.ErrNotAbsolute), errors.Is(err, winpath.ErrNoDrive):
			e.stats.Unmapped.Add(1)
		case errors.Is(err, winpath.ErrEscapes):
			e.stats.Refused.Add(1)
		default:
			e.stats.Unreadable.Add(1)
		}
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		e.stats.Unreadable.Add(1)
		return nil
	}
	id1, id2 := fileID(f, fi)
	key := fileKey{id1: id1, id2: id2, size: fi.Size(), mtime: fi.ModTime().UnixNano()}

	e.mu.Lock()
	if len(e.paths) >= 4*e.opts.CacheSize {
		clear(e.paths) // a bound: memos come back at the next check
	}
	e.paths[exe] = pathMemo{key: key, checked: now}
	en, ok := e.cache[key]
	if ok {
		e.lru.MoveToFront(en.elem)
		e.mu.Unlock()
		f.Close()
	} else {
		en = &entry{key: key, done: make(chan struct{})}
		en.elem = e.lru.PushFront(en)
		e.cache[key] = en
		for e.lru.Len() > e.opts.CacheSize {
			old := e.lru.Remove(e.lru.Back()).(*entry)
			delete(e.cache, old.key)
		}
		e.mu.Unlock()
		e.stats.Reads.Add(1)
		go e.read(en, f, fi)
	}
	select {
	case <-en.done:
		return en.info
	default:
	}
	t := time.NewTimer(e.opts.Budget)
	defer t.Stop()
	select {
	case <-en.done:
		return en.info
	case <-t.C:
		e.stats.Timeouts.Add(1)
		return nil
	}
}

// read fills en from f and publishes it.
func (e *Enricher) read(en *entry, f *os.File, fi os.FileInfo) {
	defer close(en.done)
	defer f.Close()
	e.sem <- struct{}{}
	defer func() { <-e.sem }()
	if fi.Size() > e.opts.MaxFileSize {
		e.stats.TooLarge.Add(1)
		return
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		e.stats.Unreadable.Add(1)
		return
	}
	info := &Info{}
	m, s1, s256 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
	info.MD5, info.SHA1, info.SHA256 = hex.EncodeToString(m[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(s256[:])
	info.Created, _ = creationTime(f, fi)
	layout, err := authenticode.ParseLayout(data)
	if err != nil {
		e.stats.NotPE.Add(1)
		en.info = info
		return
	}
	info.IsPE = true
	info.PE, _ = pefacts.Read(data)
	digests := authenticode.ImageDigests(data, layout)
	info.Signatures, _ = authenticode.VerifyEmbedded(data, layout, digests, e.opts.Roots)
	applyPlatform(e.opts.Platform, f, info.Signatures)
	if len(info.Signatures) == 0 {
		if s, ok := e.catalogs().Lookup(digests); ok {
			info.Signatures = []authenticode.Signature{s}
		}
	}
	for _, s := range info.Signatures {
		info.ext = append(info.ext, document.ProcessExtCodeSignature{
			Exists: document.BoolOf(true), Trusted: document.BoolOf(s.Trusted), Status: s.Status,
			SubjectName: s.SubjectName, ThumbprintSHA256: s.ThumbprintSHA256,
		})
		info.parentExt = append(info.parentExt, document.ProcessParentExtCodeSignature(info.ext[len(info.ext)-1]))
	}
	en.info = info
}

// catalogs loads the system's catalogs once.
func (e *Enricher) catalogs() *catalog.Index {
	e.catOnce.Do(func() {
		if e.opts.Files == nil {
			return
		}
		fsys, err := e.opts.Files.Dir(catalog.Dir)
		if err != nil {
			return
		}
		ix, err := catalog.Load(fsys, ".", e.opts.Roots, e.opts.MaxCatalogBytes)
		if err != nil {
			e.stats.CatalogErrors.Add(1)
		}
		e.stats.CatalogFiles.Add(uint64(ix.Files))
		e.stats.CatalogErrors.Add(uint64(ix.Errors))
		e.catalog = ix
	})
	return e.catalog
}

// FillProcess completes p (a process that started at start) from its
// executable: what the event already carries is kept.
func (e *Enricher) FillProcess(host string, start time.Time, p *document.Process) {
	if !p.CodeSignature.Exists.Valid {
		cs := &p.CodeSignature
		e.fillObserved(host, p.Executable, &cs.Exists, &cs.Trusted, &cs.SubjectName, &cs.Status)
	}
	info := e.Lookup(host, p.Executable)
	e.fillTimes(host, start, info, p)
	if info == nil {
		return
	}
	h := &p.Hash
	fill(&h.MD5, info.MD5)
	fill(&h.SHA1, info.SHA1)
	fill(&h.SHA256, info.SHA256)
	if !info.IsPE {
		return
	}
	pe := &p.PE
	fill(&pe.OriginalFileName, info.PE.OriginalFileName)
	fill(&pe.FileVersion, info.PE.FileVersion)
	fill(&pe.Product, info.PE.Product)
	fill(&pe.Company, info.PE.Company)
	fill(&pe.Description, info.PE.Description)
	fill(&pe.Imphash, info.PE.Imphash)
	if !p.CodeSignature.Exists.Valid {
		cs := &p.CodeSignature
		cs.Exists = document.BoolOf(len(info.Signatures) > 0)
		if len(info.Signatures) > 0 {
			s := info.Signatures[0]
			cs.Trusted, cs.Status, cs.SubjectName, cs.ThumbprintSHA256 = document.BoolOf(s.Trusted), s.Status, s.SubjectName, s.ThumbprintSHA256
			p.Ext.CodeSignature = info.ext
		}
	}
}

// fillTimes sets the file's times relative to the process start: creation
// from the file system when it has it, else from the timeline; the name's
// last change from the timeline only (no file API reports it).
func (e *Enricher) fillTimes(host string, start time.Time, info *Info, p *document.Process) {
	if start.IsZero() {
		return
	}
	var created, named time.Time
	if info != nil {
		created = info.Created
	}
	if e.opts.Times != nil && e.forHost(host) {
		if t, ok := e.opts.Times.Lookup(p.Executable); ok {
			if created.IsZero() {
				created = t.Created
			}
			named = t.NameModified
		}
	}
	if !created.IsZero() && !p.Ext.RelativeFileCreationTime.Valid {
		p.Ext.RelativeFileCreationTime = document.DoubleOf(start.Sub(created).Seconds())
	}
	if !named.IsZero() && !p.Ext.RelativeFileNameModifyTime.Valid {
		p.Ext.RelativeFileNameModifyTime = document.DoubleOf(start.Sub(named).Seconds())
	}
}

// FillParent completes the parent's signature from its executable.
func (e *Enricher) FillParent(host string, p *document.ProcessParent) {
	cs := &p.CodeSignature
	if cs.Exists.Valid || e.fillObserved(host, p.Executable, &cs.Exists, &cs.Trusted, &cs.SubjectName, &cs.Status) {
		return
	}
	info := e.Lookup(host, p.Executable)
	if info == nil || !info.IsPE {
		return
	}
	cs.Exists = document.BoolOf(len(info.Signatures) > 0)
	if len(info.Signatures) > 0 {
		s := info.Signatures[0]
		cs.Trusted, cs.Status, cs.SubjectName, cs.ThumbprintSHA256 = document.BoolOf(s.Trusted), s.Status, s.SubjectName, s.ThumbprintSHA256
		p.Ext.CodeSignature = info.parentExt
	}
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
