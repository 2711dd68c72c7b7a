package beater

// MaxWarningsPerFile bounds the per-record warnings (records that cannot be
// decoded or mapped) logged for one file: a file of garbage must not bury
// the log. The rest are counted, named once at the end of the file and in
// the summary.
const MaxWarningsPerFile = 100

// fileWarner logs one source's per-record warnings up to
// MaxWarningsPerFile. It is used from the goroutine reading the source
// (decoders report their errors from Next).
type fileWarner struct {
	r          *Runner
	path       string
	n          int64
	suppressed int64
}

// newWarner starts the cap of the source named path (a file path, or an
// archive:member), and registers it so that the decoders' errors, which
// name their source the same way, count against it.
func (r *Runner) newWarner(path string) *fileWarner {
	w := &fileWarner{r: r, path: path}
	r.mu.Lock()
	r.warners[path] = w
	r.mu.Unlock()
	return w
}

// warnDecode logs a decode error of the source named file through its cap;
// an error of no running source (none is expected) is logged as it is.
func (r *Runner) warnDecode(file string, err error) {
	r.mu.Lock()
	w := r.warners[file]
	r.mu.Unlock()
	if w == nil {
		r.log.Warnf("%v", err)
		return
	}
	w.Warnf("%v", err)
}

// Warnf logs a warning about one record, or counts it past the cap.
func (w *fileWarner) Warnf(format string, args ...any) {
	w.n++
	if w.n <= MaxWarningsPerFile {
		w.r.log.Warnf(format, args...)
		return
	}
	w.suppressed++
}

// finish says how many warnings were not shown and adds them to the
// summary.
func (w *fileWarner) finish() {
	w.r.mu.Lock()
	if w.r.warners[w.path] == w {
		delete(w.r.warners, w.path)
	}
	w.r.mu.Unlock()
	if w.suppressed == 0 {
		return
	}
	w.r.log.Warnf("%s: %d more record warnings not shown (at most %d per file)", w.path, w.suppressed, MaxWarningsPerFile)
	n := w.suppressed
	w.r.count(func(s *Summary) { s.WarningsNotShown += n })
}
