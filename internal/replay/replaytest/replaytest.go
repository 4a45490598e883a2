// Package replaytest builds small archives for the tests of replay, serve
// and wacz: real WARC files written by warc.Writer (so repeated payloads
// become revisit records, as in a crawl) and the index built by observing
// them, as a crawl builds it.
package replaytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/warc"
)

// Exchange is one fetch to archive: the raw response bytes as they came
// off the wire, at a time.
type Exchange struct {
	URL      string
	Time     time.Time
	Response []byte
}

// Response builds raw HTTP/1.1 response bytes. A header value "chunked"
// for Transfer-Encoding chunks the body in two; Content-Length is added
// otherwise (unless given).
func Response(status int, headers map[string]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, statusText(status))
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, headers[k])
	}
	chunked := strings.EqualFold(headers["Transfer-Encoding"], "chunked")
	if _, ok := headers["Content-Length"]; !ok && !chunked {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	if chunked {
		half := len(body) / 2
		for _, part := range [][]byte{body[:half], body[half:]} {
			if len(part) > 0 {
				fmt.Fprintf(&b, "%x\r\n%s\r\n", len(part), part)
			}
		}
		b.WriteString("0\r\n\r\n")
	} else {
		b.Write(body)
	}
	return b.Bytes()
}

func statusText(s int) string {
	switch s {
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 404:
		return "Not Found"
	}
	return "Status"
}

// Gzip compresses b (for Content-Encoding: gzip bodies).
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// Build writes the exchanges, in order, into a new archive under dir and
// indexes them; it returns the archive's layout. A host list record names
// every host, as discovery would.
func Build(t testing.TB, dir string, exchanges []Exchange) archive.Layout {
	t.Helper()
	layout := archive.Layout{Root: dir}
	if err := layout.Create(); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(layout, index.Options{BatchDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: layout.WARCDir(), Observer: ix, Info: warc.Info{Hostname: "test"}, GzipLevel: gzip.BestSpeed})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var hosts []byte
	for _, ex := range exchanges {
		host := strings.SplitN(strings.SplitN(ex.URL, "//", 2)[1], "/", 2)[0]
		if !seen[host] {
			seen[host] = true
			hosts = append(hosts, archive.Encode(archive.HostEntry{Name: host, Site: host, Role: "web", Addrs: []string{"127.0.0.1"}, Zone: "test", Source: "A"})...)
			hosts = append(hosts, '\n')
		}
	}
	if len(exchanges) > 0 {
		if _, err := w.WriteMetadata(archive.HostsURI("test"), exchanges[0].Time, archive.ContentTypeLines, hosts); err != nil {
			t.Fatal(err)
		}
	}
	for _, ex := range exchanges {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", ex.URL)
		if _, err := w.WriteExchange(warc.Exchange{
			TargetURI: ex.URL, IP: "127.0.0.1", Date: ex.Time,
			Request:  io.NewSectionReader(strings.NewReader(req), 0, int64(len(req))),
			Response: io.NewSectionReader(bytes.NewReader(ex.Response), 0, int64(len(ex.Response))),
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A finished archive, as after crawl run: everything searchable.
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	return layout
}
