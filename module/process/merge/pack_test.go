package merge

import (
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/procbeat/procbeat/fields/document"
)

// heapDoc returns a start document whose values live on the heap only, so
// that a garbage collection frees them unless the packed form keeps them.
func heapDoc(i int) *document.Document {
	n := strconv.Itoa(i)
	d := &document.Document{}
	d.Timestamp = time.Date(2024, 3, 5, 10, 0, i, 7, time.FixedZone("x", 3600))
	d.Event.Provider = strings.Repeat("p", 3) + n
	d.Event.Code = "1"
	d.Event.Category = []string{"process" + n}
	d.Event.Sequence = document.LongOf(int64(i))
	d.Host.Name = "host-" + n
	d.Message = strings.Repeat("m", 100) + n
	d.Process.PID = document.LongOf(-1)
	d.Process.Executable = `C:\x\` + n + `.exe`
	d.Process.CommandLine = d.Process.Executable + " /q"
	d.Process.Args = []string{d.Process.Executable, "/q" + n}
	d.Process.Parent.PID = document.LongOf(0) // valid zero: a word that is not zero
	d.Process.Ext.Ancestry = []string{"{a" + n + "}"}
	d.User.Name = "u" + n
	return d
}

func TestPackRoundTrip(t *testing.T) {
	l := documentLayout()
	if l.n*int(wordSize) != int(unsafe.Sizeof(document.Document{})) {
		t.Fatalf("layout has %d words for a %d-byte document", l.n, unsafe.Sizeof(document.Document{}))
	}
	var want []document.Document
	ps := make([]packed, 64)
	for i := range ps {
		d := heapDoc(i)
		want = append(want, *heapDoc(i))
		l.pack(&ps[i], d)
	}
	// The originals are garbage now: what the packed documents point to
	// must survive collections.
	runtime.GC()
	runtime.GC()
	var got document.Document
	got.Message = "left over from an earlier document"
	for i := range ps {
		l.unpack(&got, &ps[i])
		if !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("document %d: unpacked %+v, held %+v", i, got, want[i])
		}
		size := (len(ps[i].diff) + len(ps[i].ptrs) + len(ps[i].vals)) * int(wordSize)
		if size*4 > l.n*int(wordSize) {
			t.Errorf("document %d packs into %d bytes of %d", i, size, l.n*int(wordSize))
		}
	}
	// A slot reused for a sparser document keeps nothing of the last one.
	var sparse document.Document
	sparse.Host.Name = "h"
	l.pack(&ps[0], &sparse)
	l.unpack(&got, &ps[0])
	if !reflect.DeepEqual(got, sparse) {
		t.Fatalf("unpacked %+v, held %+v", got, sparse)
	}
	ps[0].release()
	if len(ps[0].ptrs) != 0 || cap(ps[0].ptrs) == 0 {
		t.Errorf("release: %d pointers left, capacity %d", len(ps[0].ptrs), cap(ps[0].ptrs))
	}
}

func BenchmarkPackUnpack(b *testing.B) {
	l := documentLayout()
	var p packed
	l.pack(&p, heapDoc(0)) // the base
	d := heapDoc(1)
	var got document.Document
	b.ReportAllocs()
	for b.Loop() {
		l.pack(&p, d)
		l.unpack(&got, &p)
	}
}

// FuzzPackRoundTrip packs documents whose strings, numbers and times are
// set from the input, against a base set likewise, and requires every
// word of the unpacked document to be the packed one's: the bitmaps and
// the runs of four words skipped whole must lose and misplace nothing,
// wherever the differing words fall.
func FuzzPackRoundTrip(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{5, 200, 7, 9, 1})
	f.Add([]byte{}, []byte{255, 254, 253, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(func(t *testing.T, base, doc []byte) {
		l := documentLayout()
		var b, d document.Document
		setFields(&b, base)
		setFields(&d, doc)
		var p packed
		l.pack(&p, &b)
		l.pack(&p, &d)
		var got document.Document
		got.Message = "left over"
		l.unpack(&got, &p)
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("unpacked %+v, packed %+v", got, d)
		}
		gw := unsafe.Slice((*uintptr)(unsafe.Pointer(&got)), l.n)
		dw := unsafe.Slice((*uintptr)(unsafe.Pointer(&d)), l.n)
		for i := range gw {
			if gw[i] != dw[i] {
				t.Fatalf("word %d: unpacked %#x, packed %#x", i, gw[i], dw[i])
			}
		}
	})
}

// setFields sets fields of d chosen by in: each pair of bytes names a
// settable string, integer, bool or time field (by index among them) and
// a value.
func setFields(d *document.Document, in []byte) {
	var fields []reflect.Value
	var collect func(v reflect.Value)
	collect = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String, reflect.Int64, reflect.Bool:
			fields = append(fields, v)
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				fields = append(fields, v)
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					collect(v.Field(i))
				}
			}
		}
	}
	collect(reflect.ValueOf(d).Elem())
	for ; len(in) >= 2; in = in[2:] {
		f, x := fields[int(in[0])*len(fields)/256], in[1]
		switch f.Kind() {
		case reflect.String:
			f.SetString(strings.Repeat("v", int(x%7)) + strconv.Itoa(int(x)))
		case reflect.Int64:
			f.SetInt(int64(x) - 100)
		case reflect.Bool:
			f.SetBool(x%2 == 1)
		default:
			f.Set(reflect.ValueOf(time.Unix(int64(x)*1000, int64(x))))
		}
	}
}
