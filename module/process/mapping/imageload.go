package mapping

import (
	"strings"

	"github.com/procbeat/procbeat/winevent"
)

// ImageLoad is what a Sysmon image-load event (7) says of the loaded
// image's signature, in code_signature's terms.
type ImageLoad struct {
	Image       string // the loaded image's path
	Signed      bool
	Trusted     bool
	SubjectName string
	Status      string // Elastic Defend's vocabulary where Sysmon's maps to it, else Sysmon's own
}

// imageLoad hands a Sysmon 7 event's signature facts to the enricher.
func (m *Mapper) imageLoad(rec *winevent.Record) {
	if m.opts.Images == nil {
		return
	}
	f := m.fieldsOf(rec)
	l := ImageLoad{Image: f.get(fImageLoaded)}
	// Only images processes start from matter: the process's own image,
	// or a program loaded by another; libraries (most image loads by far)
	// would only churn the enricher's bounded memory.
	if !strings.EqualFold(l.Image, f.get(fImage)) && !isProgram(l.Image) {
		return
	}
	signed := strings.ToLower(f.get(fSigned))
	if l.Image == "" || (signed != "true" && signed != "false") {
		return
	}
	l.Signed = signed == "true"
	if l.Signed {
		l.SubjectName = f.get(fSignature)
		switch st := f.get(fSignatureStatus); st {
		case "Valid":
			l.Trusted, l.Status = true, "trusted"
		case "Expired":
			l.Status = "errorExpired"
		case "Revoked":
			l.Status = "errorRevoked"
		default:
			l.Status = st
		}
	}
	m.opts.Images.ImageLoaded(rec.Computer, l)
}

// isProgram reports whether path names a program rather than a library.
func isProgram(path string) bool {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return false
	}
	switch ext := path[i:]; {
	case strings.EqualFold(ext, ".exe"), strings.EqualFold(ext, ".com"), strings.EqualFold(ext, ".scr"):
		return true
	}
	return false
}
