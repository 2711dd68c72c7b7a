package beater

// MaxWarningsPerFile bounds the per-record warnings (records that cannot be
// decoded or mapped) logged for one file: a file of garbage must not bury
// the log. The rest are counted, named once at the end of the file and in
// the summary.
const MaxWarningsPerFile = 100

// fileWarner logs one file's per-record warnings up to MaxWarningsPerFile.
// It is used from the goroutine reading the file.
type fileWarner struct {
	r          *Runner
	path       string
	n          int64
	suppressed int64
}

func (r *Runner) newWarner(path string) *fileWarner { return &fileWarner{r: r, path: path} }

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
	if w.suppressed == 0 {
		return
	}
	w.r.log.Warnf("%s: %d more record warnings not shown (at most %d per file)", w.path, w.suppressed, MaxWarningsPerFile)
	n := w.suppressed
	w.r.count(func(s *Summary) { s.WarningsNotShown += n })
}
