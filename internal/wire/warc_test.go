package wire

import (
	"bytes"
	"crypto/sha1"
	"encoding/base32"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crawl/internal/warc"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixedStart replaces the exchange's start time so WARC-Date is stable.
var fixedStart = time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC)

// warcExchange is the crawler's conversion of an Exchange for
// warc.Writer.WriteExchange (wire does not import warc).
func warcExchange(e *Exchange) warc.Exchange {
	return warc.Exchange{
		TargetURI: e.URL, IP: e.IP, Date: e.Start, Truncated: e.Truncated,
		Request:  io.NewSectionReader(e.Request, 0, e.Request.Size()),
		Response: io.NewSectionReader(e.Response, 0, e.Response.Size()),
	}
}

func sha1Digest(b []byte) string {
	sum := sha1.Sum(b)
	return "sha1:" + base32.StdEncoding.EncodeToString(sum[:])
}

// checkWARCGolden writes the exchange through warc.Writer, reads the file back
// and checks every digest against one computed here from independent data
// (the block from the record, the payload from what the caller read), then
// compares the request and response records with a golden file. Record IDs
// are random, so they are replaced by their order of appearance.
func checkWARCGolden(t *testing.T, name string, e *Exchange, payload []byte) {
	t.Helper()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: warc.Info{Software: "wire-test", Hostname: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	e.Start = fixedStart
	res, err := w.WriteExchange(warcExchange(e))
	if err != nil {
		t.Fatalf("WriteExchange: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, res.Response.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := warc.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()

	ids := map[string]string{}
	idOf := func(v string) string {
		if _, ok := ids[v]; !ok {
			ids[v] = fmt.Sprintf("<urn:uuid:id-%d>", len(ids)+1)
		}
		return ids[v]
	}
	var dump bytes.Buffer
	var types []string
	for {
		rec, _, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		block, err := io.ReadAll(rec.Block)
		if err != nil {
			t.Fatal(err)
		}
		typ := rec.Header.Get("WARC-Type")
		types = append(types, typ)
		if got, want := rec.Header.Get("WARC-Block-Digest"), sha1Digest(block); got != want {
			t.Errorf("%s block digest %s, want %s", typ, got, want)
		}
		switch typ {
		case "warcinfo":
			idOf(rec.Header.Get("WARC-Record-ID")) // id-1; its content names the machine and version
			continue
		case "request":
			if !bytes.Equal(block, readAll(t, e.Request)) {
				t.Errorf("request block differs from the recorded request")
			}
		case "response":
			if !bytes.Equal(block, readAll(t, e.Response)) {
				t.Errorf("response block differs from the recorded response")
			}
			if got, want := rec.Header.Get("WARC-Payload-Digest"), sha1Digest(payload); got != want {
				t.Errorf("payload digest %s, want %s (sha1 of the de-chunked, still encoded body)", got, want)
			}
			if got := rec.Header.Get("WARC-Truncated"); got != e.Truncated {
				t.Errorf("WARC-Truncated %q, want %q", got, e.Truncated)
			}
		}
		for _, fl := range rec.Header {
			v := fl.Value
			switch strings.ToLower(fl.Name) {
			case "warc-record-id", "warc-concurrent-to", "warc-warcinfo-id":
				v = idOf(v)
			}
			fmt.Fprintf(&dump, "%s: %s\r\n", fl.Name, v)
		}
		dump.WriteString("\r\n")
		dump.Write(block)
		dump.WriteString("\r\n\r\n")
	}
	if strings.Join(types, ",") != "warcinfo,request,response" {
		t.Errorf("record types %v", types)
	}
	golden := filepath.Join("testdata", "warc", name+".warc")
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, dump.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(dump.Bytes(), want) {
		t.Errorf("WARC records differ from %s (run with -update after checking):\n%s", golden, dump.Bytes())
	}
}

// The same body sent with a Content-Length and chunked must get the same
// payload digest: framing is not payload.
func TestPayloadDigestIgnoresFraming(t *testing.T) {
	scripts := map[string]string{
		"fixed":   fixedHead + "hello, wire",
		"chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("hel") + chunk("lo, wire") + "0\r\n\r\n",
		"close":   "HTTP/1.0 200 OK\r\n\r\nhello, wire",
	}
	digests := map[string]string{}
	for name, script := range scripts {
		srv := startRawServer(t, nil, writeAll(script))
		var got *Exchange
		tr := NewTransport(Options{
			ConnectTo:  map[string]string{"site.test:80": srv.addr()},
			OnExchange: func(e *Exchange) { got = e },
		})
		req, _ := http.NewRequest("GET", "http://site.test/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		w, err := warc.NewWriter(warc.WriterOptions{Dir: t.TempDir(), Info: warc.Info{Hostname: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.WriteExchange(warcExchange(got))
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		got.Close()
		digests[name] = res.PayloadDigest
	}
	want := sha1Digest([]byte("hello, wire"))
	for name, d := range digests {
		if d != want {
			t.Errorf("%s: payload digest %s, want %s", name, d, want)
		}
	}
}
