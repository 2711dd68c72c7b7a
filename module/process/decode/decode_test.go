package decode

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16Bytes(s string, little, bom bool) []byte {
	var out []byte
	put := func(u uint16) {
		if little {
			out = append(out, byte(u), byte(u>>8))
		} else {
			out = append(out, byte(u>>8), byte(u))
		}
	}
	if bom {
		put(0xFEFF)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		put(u)
	}
	return out
}

func TestTextReader(t *testing.T) {
	text := `<Event>café 😀 ` + strings.Repeat("x", 40000) + `</Event>`
	for name, in := range map[string][]byte{
		"utf8":          []byte(text),
		"utf8 bom":      append([]byte{0xEF, 0xBB, 0xBF}, text...),
		"utf16le bom":   utf16Bytes(text, true, true),
		"utf16be bom":   utf16Bytes(text, false, true),
		"utf16le plain": utf16Bytes(text, true, false),
		"utf16be plain": utf16Bytes(text, false, false),
	} {
		got, err := io.ReadAll(NewTextReader(strings.NewReader(string(in))))
		if err != nil || string(got) != text {
			t.Errorf("%s: %v, %d bytes", name, err, len(got))
		}
	}
	// An unpaired surrogate becomes U+FFFD; an odd trailing byte is an error.
	in := []byte{0xFF, 0xFE, 'a', 0, 0x00, 0xD8, 'b', 0}
	got, err := io.ReadAll(NewTextReader(strings.NewReader(string(in))))
	if err != nil || string(got) != "a\uFFFDb" {
		t.Errorf("lone surrogate: %q %v", got, err)
	}
	_, err = io.ReadAll(NewTextReader(strings.NewReader("\xFF\xFEa\x00b")))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("odd length: %v", err)
	}
}

func TestErrorLog(t *testing.T) {
	var seen int
	l := NewErrorLog(Options{MaxErrors: 2, OnError: func(*RecordError) { seen++ }})
	for i := 0; i < 5; i++ {
		l.Add(&RecordError{File: "f", Index: i + 1, Err: io.EOF})
	}
	if l.Total() != 5 || len(l.Errors()) != 2 || seen != 5 || l.Errors()[1].Index != 2 {
		t.Errorf("total %d kept %d seen %d", l.Total(), len(l.Errors()), seen)
	}
	none := NewErrorLog(Options{MaxErrors: -1})
	none.Add(&RecordError{Err: io.EOF})
	if none.Total() != 1 || len(none.Errors()) != 0 {
		t.Error("negative MaxErrors should keep none")
	}
	if d := NewErrorLog(Options{}); d.max != DefaultMaxErrors {
		t.Error("default")
	}
}

func TestRecordErrorMessage(t *testing.T) {
	e := &RecordError{File: "a.json", Line: 7, Index: 3, Field: "EventID", Err: io.ErrUnexpectedEOF}
	if got := e.Error(); got != "a.json:7: record 3: field EventID: unexpected EOF" {
		t.Error(got)
	}
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Error("unwrap")
	}
	e = &RecordError{File: "a.evtx", Index: 9, Err: io.EOF}
	if got := e.Error(); got != "a.evtx: record 9: EOF" {
		t.Error(got)
	}
}
