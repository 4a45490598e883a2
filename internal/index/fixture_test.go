package index

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/korean"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// fixture is one exchange of the test archive.
type fixture struct {
	url  string
	resp []byte // raw HTTP response as it crossed the wire
}

var t0 = time.Date(2026, 8, 23, 12, 0, 0, 0, time.UTC)

func httpResp(status int, headers map[string]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, statusText(status))
	keys := []string{"Content-Type", "Content-Encoding", "Transfer-Encoding", "Location", "Content-Language"}
	chunked := headers["Transfer-Encoding"] == "chunked"
	for _, k := range keys {
		if v, ok := headers[k]; ok {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if !chunked {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	if chunked {
		for len(body) > 0 {
			n := min(len(body), 37)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
			body = body[n:]
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
	case 404:
		return "Not Found"
	}
	return "Status"
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func eucKR(t testing.TB, s string) []byte {
	b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const htmlType = "text/html; charset=utf-8"

// fixtures is the test archive: a Korean home page, an English page, an
// EUC-KR page, a gzip+chunked page, a 404, a redirect, robots.txt, a plain
// text page on another host, and a repeat of the home page (a revisit).
func fixtures(t testing.TB) []fixture {
	home := []byte(`<!doctype html><html lang="ko"><head><title>서울 소식</title></head><body>
<h1>서울특별시에서 열린 회의</h1><p>시민들이 광화문 광장에 모였습니다.</p>
<h2>날씨</h2><p>맑음</p>
<a href="/about">소개</a> <a href="http://b.test/x">B</a> <a href="https://outside.example/page#frag">밖</a>
<img src="http://cdn.test/logo.png"> <a href="mailto:a@a.test">mail</a>
</body></html>`)
	about := []byte(`<html lang="en"><head><title>About the runners</title></head><body>
<h1>Running club</h1><p>The runners were running through the parks of the city.</p>
<h3>Contact</h3><p>Write to the <b>club</b> secretary.</p><a href="/">home</a></body></html>`)
	euc := append([]byte(`<html><head><meta charset="euc-kr"><title>`), eucKR(t, "부산 안내")...)
	euc = append(euc, []byte(`</title></head><body><h1>`)...)
	euc = append(euc, eucKR(t, "부산광역시에서 드립니다")...)
	euc = append(euc, []byte(`</h1><p>`)...)
	euc = append(euc, eucKR(t, "해운대 해수욕장은 여름에 붐빕니다.")...)
	euc = append(euc, []byte(`</p><a href="http://b.test/">b</a></body></html>`)...)
	zipped := gz([]byte(`<html><head><title>Compressed news</title></head><body><h1>Budget approved</h1>
<p>The council approved the budget for libraries.</p></body></html>`))
	return []fixture{
		{"http://www.a.test/", httpResp(200, map[string]string{"Content-Type": htmlType}, home)},
		{"http://www.a.test/about", httpResp(200, map[string]string{"Content-Type": htmlType}, about)},
		{"http://www.a.test/euc", httpResp(200, map[string]string{"Content-Type": "text/html"}, euc)},
		{"http://www.a.test/gz", httpResp(200, map[string]string{"Content-Type": htmlType, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"}, zipped)},
		{"http://www.a.test/missing", httpResp(404, map[string]string{"Content-Type": htmlType}, []byte(`<html><title>Not found seoul</title><h1>Gone</h1></html>`))},
		{"http://www.a.test/old", httpResp(301, map[string]string{"Location": "http://b.test/new", "Content-Type": htmlType}, []byte(`moved`))},
		{"http://www.a.test/robots.txt", httpResp(200, map[string]string{"Content-Type": "text/plain"}, []byte("User-agent: *\nDisallow: /private seoul\n"))},
		{"http://b.test/x", httpResp(200, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, []byte("Plain notes from the harbour of 인천항에서."))},
		{"http://www.a.test/", httpResp(200, map[string]string{"Content-Type": htmlType}, home)},
	}
}

// writeArchive writes the fixtures, and discovery/crawl metadata, through a
// real warc.Writer whose Observer is obs (nil: none).
func writeArchive(t testing.TB, layout archive.Layout, obs warc.Observer) {
	t.Helper()
	if err := layout.Create(); err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: layout.WARCDir(), Observer: obs, Info: warc.Info{Hostname: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	meta := func(uri string, date time.Time, v any) {
		if _, err := w.WriteMetadata(uri, date, archive.ContentType, archive.Encode(v)); err != nil {
			t.Fatal(err)
		}
	}
	var hosts []byte
	for _, h := range []archive.HostEntry{
		{Name: "www.a.test", Site: "a.test", Role: "web", Addrs: []string{"127.0.0.2"}, Zone: "test", Source: "probe"},
		{Name: "b.test", Site: "b.test", Role: "web", Addrs: []string{"127.0.0.3"}, Zone: "test", Source: "A"},
		{Name: "c.test", Site: "c.test", Role: "web", Addrs: []string{"127.0.0.4"}, Zone: "test", Source: "A"},
		{Name: "d.test", Site: "d.test", Role: "web", Addrs: []string{"127.0.0.5"}, Zone: "test", Source: "A"},
	} {
		// One batched record, as crawl discover writes them.
		h.Found = t0
		hosts = append(hosts, archive.Encode(h)...)
		hosts = append(hosts, '\n')
	}
	if _, err := w.WriteMetadata(archive.HostsURI("test"), t0, archive.ContentTypeLines, hosts); err != nil {
		t.Fatal(err)
	}
	// Discovery ran again later (a single-host record) and found b.test at a new address.
	meta(archive.HostURI("b.test"), t0.Add(time.Minute), archive.HostEntry{Name: "b.test", Site: "b.test", Role: "web", Addrs: []string{"127.0.0.33"}, Zone: "test", Source: "A"})
	meta(archive.AttemptURI("test"), t0, archive.Attempt{Zone: "test", Server: "127.0.0.1:53", Outcome: "transferred", Time: t0})

	for i, f := range fixtures(t) {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", f.url)
		_, err := w.WriteExchange(warc.Exchange{
			TargetURI: f.url, IP: "127.0.0.2", Date: t0.Add(time.Duration(i+1) * time.Hour),
			Request:  io.NewSectionReader(strings.NewReader(req), 0, int64(len(req))),
			Response: io.NewSectionReader(bytes.NewReader(f.resp), 0, int64(len(f.resp))),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fe := archive.FetchError{URL: "http://c.test/", Host: "c.test", Error: "connection refused", Time: t0.Add(2 * time.Hour)}
	meta(fe.URL, fe.Time, fe)
	meta(archive.HostStatusURI("www.a.test"), t0.Add(20*time.Hour), archive.HostStatus{Host: "www.a.test", Status: "done", Pages: 7})
	meta(archive.HostStatusURI("c.test"), t0.Add(20*time.Hour), archive.HostStatus{Host: "c.test", Status: "failed", Error: "connection refused"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
