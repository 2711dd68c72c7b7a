package beater

import "github.com/procbeat/procbeat/module/process/source"

// namespacedSource is a source of an input with a data stream namespace of
// its own (config.Input.Namespace): the runner writes its documents into
// that namespace's data streams. The namespace is read once, when the
// source opens, and costs nothing per document.
type namespacedSource struct {
	source.Source
	ns string
}

// Namespace is the documents' data_stream.namespace.
func (s namespacedSource) Namespace() string { return s.ns }

// String names the source as the source itself does.
func (s namespacedSource) String() string { return sourceName(s.Source) }

// inNamespace gives src's documents namespace ns; "" keeps
// procbeat.namespace.
func inNamespace(src source.Source, ns string) source.Source {
	if ns == "" {
		return src
	}
	return namespacedSource{Source: src, ns: ns}
}

// namespaceOf is the namespace src's documents go to ("": the mapper's).
func namespaceOf(src source.Source) string {
	if n, ok := src.(interface{ Namespace() string }); ok {
		return n.Namespace()
	}
	return ""
}
