package argv

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", ``, nil},
		{"only whitespace", "  \t", []string{""}},
		{"simple", `cmd.exe /c dir`, []string{"cmd.exe", "/c", "dir"}},
		{"quoted program with spaces", `"C:\Program Files\App\app.exe" -x`, []string{`C:\Program Files\App\app.exe`, "-x"}},
		{"argv0 backslash-quote is not an escape", `"C:\dir\" arg`, []string{`C:\dir\`, "arg"}},
		{"argv0 text right after closing quote starts next arg", `"a b"c d`, []string{"a b", "c", "d"}},
		{"argv0 unquoted keeps quotes literally", `C:\a"b c`, []string{`C:\a"b`, "c"}},
		{"argv0 unterminated quote", `"C:\Program Files\x.exe`, []string{`C:\Program Files\x.exe`}},
		{"leading whitespace gives empty argv0", `  foo bar`, []string{"", "foo", "bar"}},
		{"tabs separate", "a\tb\t\tc", []string{"a", "b", "c"}},
		{"other whitespace does not separate", "a\nb\vc", []string{"a\nb\vc"}},
		{"quoted arg with spaces", `x "a b" c`, []string{"x", "a b", "c"}},
		{"quote in the middle", `x a"b c"d`, []string{"x", "ab cd"}},
		{"escaped quote", `x \"a\"`, []string{"x", `"a"`}},
		{"2n backslashes + quote", `x a\\"b c"`, []string{"x", `a\b c`}},
		{"2n+1 backslashes + quote", `x a\\\"b`, []string{"x", `a\"b`}},
		{"4 backslashes + quote", `x a\\\\"b c"`, []string{"x", `a\\b c`}},
		{"backslashes not before quote are literal", `x C:\dir\\file a\\b`, []string{"x", `C:\dir\\file`, `a\\b`}},
		{"trailing backslash", `x C:\dir\`, []string{"x", `C:\dir\`}},
		{"trailing backslashes in quotes", `x "C:\dir\\" y`, []string{"x", `C:\dir\`, "y"}},
		{"escaped quote closes nothing", `x "C:\dir\" y`, []string{"x", `C:\dir" y`}},
		{"empty arg", `x "" y`, []string{"x", "", "y"}},
		{"empty arg at end", `x ""`, []string{"x", ""}},
		{"two empty args", `x "" ""`, []string{"x", "", ""}},
		{"double quote inside quotes is literal and stays quoted", `x "a""b c" d`, []string{"x", `a"b c`, "d"}},
		{"triple quote", `x """a b"""`, []string{"x", `"a b"`}},
		{"doubled quote outside quotes", `x a""b`, []string{"x", "ab"}},
		{"unterminated quote", `x "a b`, []string{"x", "a b"}},
		{"unterminated quote keeps trailing spaces", `x "a b  `, []string{"x", "a b  "}},
		{"many spaces", "x    y   ", []string{"x", "y"}},
		{"powershell encoded", `powershell.exe -noP -sta -w 1 -enc  SQBm`, []string{"powershell.exe", "-noP", "-sta", "-w", "1", "-enc", "SQBm"}},
		{"cmd /c quoted", `"C:\Windows\system32\cmd.exe" /c "echo \"hi\" & exit"`, []string{`C:\Windows\system32\cmd.exe`, "/c", `echo "hi" & exit`}},
		{"unicode", `"C:\Temp\é x\a.exe" ü`, []string{`C:\Temp\é x\a.exe`, "ü"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAppendSplitReusesDst(t *testing.T) {
	dst := make([]string, 0, 16)
	got := AppendSplit(dst[:0], `a "b c" d`)
	if &got[0] != &dst[:1][0] || len(got) != 3 {
		t.Errorf("dst not reused: %q", got)
	}
	got = AppendSplit(got, `e f`)
	if !reflect.DeepEqual(got, []string{"a", "b c", "d", "e", "f"}) {
		t.Errorf("append: %q", got)
	}
}

// Processed arguments must not alias one another even when many are
// rewritten (the shared buffer must never reallocate under them).
func TestManyRewrittenArgs(t *testing.T) {
	var b strings.Builder
	b.WriteString("p")
	var want []string
	want = append(want, "p")
	for i := 0; i < 200; i++ {
		b.WriteString(` "a\"b`)
		b.WriteByte(byte('a' + i%26))
		b.WriteString(`"`)
		want = append(want, `a"b`+string(rune('a'+i%26)))
	}
	got := Split(b.String())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got[:5])
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{`a "b c" d`, `"x\" y`, `\\"a"" b`, ` ""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := Split(s)
		total := 0
		for _, a := range args[min(1, len(args)):] {
			total += len(a)
		}
		if total > len(s) {
			t.Fatalf("output longer than input: %q -> %q", s, args)
		}
	})
}

var sink []string

func BenchmarkSplitPlain(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink = Split(`C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`)
	}
}

func BenchmarkSplitQuoted(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink = Split(`"C:\Program Files\App\app.exe" /c "echo \"hi\" & exit" --path="C:\a b\\" x`)
	}
}

func BenchmarkAppendSplitReuse(b *testing.B) {
	b.ReportAllocs()
	dst := make([]string, 0, 16)
	for b.Loop() {
		dst = AppendSplit(dst[:0], `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`)
	}
	sink = dst
}

// TestAppendSplitAllocIsAppendSplit: the arena variant splits alike, and
// takes its buffer from alloc (only when an argument differs from its text).
func TestAppendSplitAllocIsAppendSplit(t *testing.T) {
	for _, line := range []string{`a b c`, `"C:\Program Files\App\app.exe" /c "echo \"hi\" & exit" --path="C:\a b\\" x`, `x a\\\"b "c""d"`, ``, ` `} {
		var took []int
		alloc := func(n int) []byte {
			took = append(took, n)
			return make([]byte, n)
		}
		got, want := AppendSplitAlloc(nil, line, alloc), Split(line)
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
		if quoted := strings.ContainsAny(line, `"`); quoted != (len(took) == 1) || len(took) > 1 || (quoted && took[0] != len(line)) {
			t.Errorf("%q: alloc calls %v", line, took)
		}
	}
}
