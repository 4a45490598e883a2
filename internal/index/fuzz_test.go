package index

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"crawl/internal/archive"
	"crawl/internal/page"
	"crawl/internal/warc"
)

// FuzzDecodeRecord: any block, as a response, revisit or metadata record,
// decodes without panicking, and a capture always keeps its location.
func FuzzDecodeRecord(f *testing.F) {
	for _, fx := range fixtures(f) {
		f.Add("response", fx.url, fx.resp)
	}
	f.Add("revisit", "http://a.test/", []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"))
	f.Add("metadata", archive.HostURI("a.test"), []byte(`{"name":"a.test","addrs":["127.0.0.1"]}`))
	f.Add("metadata", archive.HostsURI("test"), []byte("{\"name\":\"a.test\"}\n{\"site\":\"b.test\"}\n"))
	f.Add("metadata", archive.HostStatusURI("a.test"), []byte(`{"host":"a.test","status":"done"}`))
	f.Add("metadata", "http://a.test/x", []byte(`{"url":"http://a.test/x","error":"refused"}`))
	f.Add("response", "http://a.test/", []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\nzz\r\n"))
	opts := Options{Parse: page.Limits{MaxBody: 1 << 16, Config: page.Config{MaxText: 1 << 12}}}.withDefaults()
	f.Fuzz(func(t *testing.T, typ, uri string, block []byte) {
		h := warc.Header{{Name: "WARC-Type", Value: typ}, {Name: "WARC-Target-URI", Value: uri},
			{Name: "WARC-Date", Value: "2026-08-23T12:00:00Z"}, {Name: "Content-Type", Value: archive.ContentType}}
		loc := warc.Location{File: "f.warc.gz", Offset: 7, Length: 9}
		e, err := decodeRecord(recordInput{loc: loc, header: h, block: block}, &opts, nil)
		if err != nil || e == nil {
			return
		}
		if c := e.capture; c != nil {
			if c.WARC != loc.File || c.Offset != loc.Offset || c.Length != loc.Length || c.URL != uri {
				t.Fatalf("capture %+v lost its location or URL", c)
			}
			var back captureValue
			want := *c
			want.URL, want.RecordID = "", "" // kept in the key
			if err := back.unmarshal(c.marshal()); err != nil || back != want {
				t.Fatalf("capture value does not round-trip: %+v vs %+v (%v)", back, *c, err)
			}
		}
		if e.page != nil && e.page.doc != nil && len(e.page.doc.Text) > opts.Parse.Config.MaxText {
			t.Fatalf("text of %d bytes over MaxText", len(e.page.doc.Text))
		}
	})
}

// FuzzCaptureValue: stored bytes of any shape never panic the reader.
func FuzzCaptureValue(f *testing.F) {
	c := captureValue{Time: time.Unix(1, 2).UTC(), Status: 200, MIME: "text/html", WARC: "x.warc.gz", Offset: 10, Length: 20}
	f.Add(c.marshal())
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var v captureValue
		_ = v.unmarshal(b)
	})
}

// FuzzRewriteHangul: the rewrite only ever adds quotes around Korean terms.
func FuzzRewriteHangul(f *testing.F) {
	for _, s := range []string{`서울 "서울특별시" +title:부산 -광역시*`, `a b:c "x`, `+-:서울`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out := rewriteHangul(q)
		if strings.ReplaceAll(out, `"`, "") != strings.ReplaceAll(q, `"`, "") {
			t.Fatalf("rewrite changed more than quotes: %q -> %q", q, out)
		}
		if utf8.ValidString(q) && !utf8.ValidString(out) {
			t.Fatalf("rewrite broke UTF-8: %q", out)
		}
	})
}

func TestRewriteHangul(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"서울", "서울"},
		{"서울특별시", `"서울특별시"`},
		{"서울시 시장", `"서울시" 시장`},
		{`"서울 시장" 부산광역시`, `"서울 시장" "부산광역시"`},
		{"+title:서울시 -부산항", `+title:"서울시" -"부산항"`},
		{"서울* seoul 서울~1", `서울* seoul 서울~1`},
		{"host:a.test", "host:a.test"},
	} {
		if got := rewriteHangul(tt.in); got != tt.want {
			t.Errorf("rewriteHangul(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
