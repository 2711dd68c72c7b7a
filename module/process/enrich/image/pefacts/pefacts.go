// Package pefacts reads what Elastic Defend reports under process.pe from a
// PE image in memory: the version resource strings and the import hash. It
// uses github.com/saferwall/pe with every directory it does not need left
// unparsed.
package pefacts

import (
	"fmt"
	"io"

	pe "github.com/saferwall/pe"
	pelog "github.com/saferwall/pe/log"
)

// Facts are the process.pe fields.
type Facts struct {
	OriginalFileName string
	FileVersion      string
	Product          string
	Company          string
	Description      string
	Imphash          string
}

// Read parses data. A malformed image gives an error and whatever facts
// could be read before it.
func Read(data []byte) (f Facts, err error) {
	// The parser is third-party code fed with files an attacker may have
	// written: a bug in it must cost one image's facts, not the process.
	defer func() {
		if r := recover(); r != nil {
			f, err = Facts{}, fmt.Errorf("pe parser failed: %v", r)
		}
	}()
	opts := &pe.Options{
		// The default logger writes to stdout, where the documents go.
		Logger:                     pelog.NewStdLogger(io.Discard),
		MaxCOFFSymbolsCount:        1,
		MaxRelocEntriesCount:       1,
		DisableCertValidation:      true,
		DisableSignatureValidation: true,
		OmitExportDirectory:        true,
		OmitExceptionDirectory:     true,
		OmitSecurityDirectory:      true,
		OmitRelocDirectory:         true,
		OmitDebugDirectory:         true,
		OmitArchitectureDirectory:  true,
		OmitGlobalPtrDirectory:     true,
		OmitTLSDirectory:           true,
		OmitLoadConfigDirectory:    true,
		OmitBoundImportDirectory:   true,
		OmitIATDirectory:           true,
		OmitDelayImportDirectory:   true,
		OmitCLRHeaderDirectory:     true,
		OmitCLRMetadata:            true,
	}
	file, err := pe.NewBytes(data, opts)
	if err != nil {
		return f, err
	}
	if err := file.Parse(); err != nil {
		return f, err
	}
	if len(file.Imports) > 0 {
		f.Imphash, _ = file.ImpHash()
	}
	v, err := file.ParseVersionResources()
	f.OriginalFileName = v["OriginalFilename"]
	f.FileVersion = v["FileVersion"]
	f.Product = v["ProductName"]
	f.Company = v["CompanyName"]
	f.Description = v["FileDescription"]
	return f, err
}
