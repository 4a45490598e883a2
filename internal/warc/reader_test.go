package warc

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSample writes n exchanges and returns the closed file's path and the
// locations of all records (warcinfo first).
func writeSample(t *testing.T, n int) (string, []Location) {
	t.Helper()
	w := newTestWriter(t, WriterOptions{})
	for i := 0; i < n; i++ {
		body := strings.Repeat(fmt.Sprintf("page %d ", i), 50)
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		if _, err := w.WriteExchange(Exchange{TargetURI: fmt.Sprintf("http://example.org/%d", i), IP: "127.0.0.1",
			Request: section(getReq), Response: section(resp)}); err != nil {
			t.Fatal(err)
		}
	}
	name := w.FileName()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.opts.Dir, name)
	var locs []Location
	if err := ReadFile(path, func(_ Record, loc Location) error { locs = append(locs, loc); return nil }); err != nil {
		t.Fatal(err)
	}
	return path, locs
}

func TestReaderDamagedFiles(t *testing.T) {
	path, locs := writeSample(t, 3)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := locs[len(locs)-1]
	cases := []struct {
		name    string
		data    []byte
		good    int   // records yielded before the error
		badAt   int64 // offset named in the error; -1 = no error
		wantErr string
	}{
		{"intact", orig, len(locs), -1, ""},
		{"cut inside last member", orig[:last.Offset+last.Length/2], len(locs) - 1, last.Offset, "unexpected EOF"},
		{"cut inside gzip header", orig[:last.Offset+5], len(locs) - 1, last.Offset, "gzip header"},
		{"garbage appended", append(append([]byte{}, orig...), "garbage!"...), len(locs), int64(len(orig)), "gzip header"},
		{"flipped byte in last member", flip(orig, last.Offset+last.Length-12), len(locs) - 1, last.Offset, ""},
		{"truncated to one byte", orig[:1], 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "damaged.warc.gz")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			got := 0
			err := ReadFile(p, func(_ Record, loc Location) error {
				if loc != (Location{File: "damaged.warc.gz", Offset: locs[got].Offset, Length: locs[got].Length}) {
					t.Errorf("record %d at %+v, want %+v", got, loc, locs[got])
				}
				got++
				return nil
			})
			if got != c.good {
				t.Errorf("yielded %d good records, want %d", got, c.good)
			}
			if c.badAt < 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v (%T), want a FormatError wrapping ErrFormat", err, err)
			}
			if fe.File != p || fe.Offset != c.badAt {
				t.Errorf("error names %s at %d, want %s at %d", fe.File, fe.Offset, p, c.badAt)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), fmt.Sprint(c.badAt)) {
				t.Errorf("message %q does not name the file and offset", err)
			}
			if c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("message %q lacks %q", err, c.wantErr)
			}
		})
	}
}

func flip(b []byte, at int64) []byte {
	c := append([]byte{}, b...)
	c[at] ^= 0xff
	return c
}

func TestReaderPlainAndMultiRecordMember(t *testing.T) {
	path, locs := writeSample(t, 2)
	// Decompress each member and concatenate: an uncompressed WARC.
	var plain bytes.Buffer
	var ids []string
	if err := ReadFile(path, func(r Record, _ Location) error {
		ids = append(ids, r.Header.Get("WARC-Record-ID"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	zr, _ := gzip.NewReader(f) // multistream: all members in a row
	io.Copy(&plain, zr)
	f.Close()

	check := func(name string, data []byte, wantLen func(i int, loc Location) bool) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			rec, loc, err := r.Next()
			if err == io.EOF {
				if i != len(ids) {
					t.Errorf("%s: %d records, want %d", name, i, len(ids))
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if rec.Header.Get("WARC-Record-ID") != ids[i] {
				t.Errorf("%s: record %d is %s", name, i, rec.Header.Get("WARC-Record-ID"))
			}
			if !wantLen(i, loc) {
				t.Errorf("%s: record %d at %+v", name, i, loc)
			}
		}
	}
	// Plain: each record's bytes, from its offset, start with WARC/ and the
	// lengths tile the file.
	var next int64
	check("plain", plain.Bytes(), func(i int, loc Location) bool {
		ok := loc.Offset == next && bytes.HasPrefix(plain.Bytes()[loc.Offset:], []byte("WARC/1.1\r\n"))
		next = loc.Offset + loc.Length
		return ok
	})
	if next != int64(plain.Len()) {
		t.Errorf("plain records end at %d of %d", next, plain.Len())
	}

	// One gzip member around the whole file (as some tools write).
	var whole bytes.Buffer
	zw := gzip.NewWriter(&whole)
	zw.Write(plain.Bytes())
	zw.Close()
	check("one member", whole.Bytes(), func(i int, loc Location) bool {
		if i == len(ids)-1 {
			return loc.Offset == 0 && loc.Length == int64(whole.Len())
		}
		return loc.Offset == 0 && loc.Length == 0
	})
	_ = locs
}

func TestReaderRejects(t *testing.T) {
	cases := map[string]string{
		"no version":         "HTTP/1.1 200 OK\r\n\r\n",
		"no content-length":  "WARC/1.1\r\nWARC-Type: metadata\r\n\r\n\r\n\r\n",
		"bad content-length": "WARC/1.1\r\nContent-Length: -4\r\n\r\n",
		"short block":        "WARC/1.1\r\nContent-Length: 40\r\n\r\nabc",
		"header line":        "WARC/1.1\r\nno colon here\r\n\r\n",
		"unterminated":       "WARC/1.1\r\nContent-Length: 0",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = r.Next()
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err %v, want ErrFormat", err)
			}
			if _, _, err2 := r.Next(); err2 != err {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
		})
	}
}

func TestReaderLargeBlockSpills(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	big := bytes.Repeat([]byte("0123456789abcdef"), (maxMemBlock+100)/16)
	loc, err := w.WriteResource("http://example.org/big", "", w.opts.now(), "application/octet-stream", io.NewSectionReader(bytes.NewReader(big), 0, int64(len(big))))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	seen := false
	err = ReadFile(filepath.Join(w.opts.Dir, loc.File), func(r Record, l Location) error {
		if r.Header.Get("WARC-Type") != TypeResource {
			return nil
		}
		seen = true
		b, err := io.ReadAll(r.Block)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, big) || l != loc {
			t.Errorf("large block differs (%d bytes) or location %+v != %+v", len(b), l, loc)
		}
		return nil
	})
	if err != nil || !seen {
		t.Fatalf("err %v, seen %v", err, seen)
	}
}

func TestMend(t *testing.T) {
	dir := t.TempDir()
	opts := WriterOptions{Dir: dir, Info: Info{Hostname: "h", Software: "crawl/test"}}
	fixedHooks(&opts)
	w, err := NewWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	var last ExchangeResult
	for i := 0; i < 3; i++ {
		last, err = w.WriteExchange(Exchange{TargetURI: fmt.Sprintf("http://example.org/%d", i), Request: section(getReq), Response: section(resp200)})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Crash: the writer is abandoned, and a torn half of one more member
	// and some garbage sit at the end of the .open file.
	openPath := filepath.Join(dir, w.FileName()+".open")
	data, _ := os.ReadFile(openPath)
	good := int64(len(data))
	torn := append(data, data[last.Response.Offset:last.Response.Offset+last.Response.Length/2]...)
	if err := os.WriteFile(openPath, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	// A second .open file holding only a torn warcinfo.
	emptyOpen := filepath.Join(dir, "crawl-20260101000000000-00009-h.warc.gz.open")
	os.WriteFile(emptyOpen, data[:10], 0o644)

	reps, err := Mend(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 {
		t.Fatalf("reports %+v", reps)
	}
	var main, empty MendReport
	for _, r := range reps {
		if r.File == openPath {
			main = r
		} else {
			empty = r
		}
	}
	if main.Records != 7 || main.Kept != good || main.Cut != int64(len(torn))-good || main.Renamed != filepath.Join(dir, w.FileName()) || main.Problem == "" {
		t.Errorf("main report %+v", main)
	}
	if !empty.Removed || empty.Records != 0 {
		t.Errorf("empty report %+v", empty)
	}
	n := 0
	if err := ReadFile(main.Renamed, func(Record, Location) error { n++; return nil }); err != nil || n != 7 {
		t.Fatalf("mended file: %d records, %v", n, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.open")); len(m) != 0 {
		t.Errorf("still open: %v", m)
	}
	// Mend is a no-op on a clean folder.
	if reps, err := Mend(dir); err != nil || len(reps) != 0 {
		t.Errorf("second Mend: %v %v", reps, err)
	}
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

// FuzzReader: any bytes give records then io.EOF or a FormatError, never a
// panic; locations stay inside the input and increase.
func FuzzReader(f *testing.F) {
	var plain bytes.Buffer
	plain.WriteString("WARC/1.1\r\nWARC-Type: metadata\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n")
	f.Add(plain.Bytes())
	f.Add([]byte(gzipped(plain.String())))
	f.Add([]byte(gzipped(plain.String() + plain.String())))
	f.Add([]byte("WARC/1.0\r\nContent-Length: 99999999999\r\n\r\n"))
	f.Add([]byte("WARC/1.1\r\n X: folded\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		last := int64(-1)
		for i := 0; i < 10000; i++ {
			rec, loc, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %T %v is not a FormatError", err, err)
				}
				if fe.Offset < 0 || fe.Offset > int64(len(data)) {
					t.Fatalf("error offset %d outside %d bytes", fe.Offset, len(data))
				}
				return
			}
			if loc.Offset < last || loc.Offset+loc.Length > int64(len(data)) {
				t.Fatalf("location %+v after %d in %d bytes", loc, last, len(data))
			}
			last = loc.Offset
			if _, err := io.Copy(io.Discard, rec.Block); err != nil {
				t.Fatal(err)
			}
		}
	})
}
