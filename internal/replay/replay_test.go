package replay

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/korean"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/replay/replaytest"
)

var t1 = time.Date(2016, 9, 20, 10, 0, 0, 0, time.UTC)

const htmlType = "text/html; charset=utf-8"

func euckr(t testing.TB, s string) []byte {
	b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture is a small archive with the cases replay must handle.
func fixture(t *testing.T) (*Archive, archive.Layout) {
	t.Helper()
	home1 := []byte(`<html><head><title>Home</title><link rel="stylesheet" href="/style.css"></head><body><h1>First</h1><a href="/news/">news</a></body></html>`)
	home3 := []byte(`<html><head><title>Home</title></head><body><h1>Third</h1></body></html>`)
	euc := append([]byte(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=euc-kr"><title>`), euckr(t, "도서관")...)
	euc = append(euc, []byte(`</title></head><body><h1>`+string(euckr(t, "과학"))+`</h1><img src="/i.png"></body></html>`)...)
	css := []byte(`body { background: url("/bg.gif") }`)
	exchanges := []replaytest.Exchange{
		{URL: "http://a.kp/", Time: t1, Response: replaytest.Response(200, map[string]string{"Content-Type": htmlType, "Set-Cookie": "s=1"}, home1)},
		{URL: "http://a.kp/style.css", Time: t1.Add(time.Second), Response: replaytest.Response(200,
			map[string]string{"Content-Type": "text/css", "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"}, replaytest.Gzip(css))},
		{URL: "http://a.kp/old.html", Time: t1.Add(2 * time.Second), Response: replaytest.Response(301, map[string]string{"Location": "/news/", "Content-Type": htmlType}, []byte("moved"))},
		{URL: "http://a.kp/euc.html", Time: t1.Add(3 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "text/html"}, euc)},
		{URL: "http://a.kp/Path/Upper", Time: t1.Add(4 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "text/plain"}, []byte("upper"))},
		{URL: "http://b.kp/x.png", Time: t1.Add(5 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "image/png"}, []byte("\x89PNG\r\n\x1a\nxxxx"))},
		{URL: "https://a.kp/secure", Time: t1.Add(6 * time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": "text/plain"}, []byte("secure"))},
		// A day later the home page is the same: a revisit. So is
		// www.a.kp's, which refers to a.kp's by URI and date.
		{URL: "http://a.kp/", Time: t1.Add(24 * time.Hour), Response: replaytest.Response(200, map[string]string{"Content-Type": htmlType, "X-Day": "2"}, home1)},
		{URL: "http://www.a.kp/", Time: t1.Add(24*time.Hour + time.Second), Response: replaytest.Response(200, map[string]string{"Content-Type": htmlType}, home1)},
		{URL: "http://a.kp/", Time: t1.Add(48 * time.Hour), Response: replaytest.Response(200, map[string]string{"Content-Type": htmlType}, home3)},
	}
	layout := replaytest.Build(t, t.TempDir(), exchanges)
	r, err := index.OpenReader(layout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &Archive{Layout: layout, Index: r}, layout
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  bool
	}{
		{in: "20160920123456/http://a.kp/x?q=1", want: Target{Timestamp: "20160920123456", URL: "http://a.kp/x?q=1"}},
		{in: "2016im_/a.kp/logo.png", want: Target{Timestamp: "2016", Mod: ModImage, URL: "http://a.kp/logo.png"}},
		{in: "20160920id_/https://A.KP", want: Target{Timestamp: "20160920", Mod: ModOrigin, URL: "https://a.kp/"}},
		{in: "20160920123456/http:/a.kp/", want: Target{Timestamp: "20160920123456", URL: "http://a.kp/"}},
		{in: "*/http://a.kp/", want: Target{List: true, URL: "http://a.kp/"}},
		{in: "2016*/a.kp/", want: Target{Timestamp: "2016", List: true, URL: "http://a.kp/"}},
		{in: "http://a.kp/path", want: Target{URL: "http://a.kp/path"}},
		{in: "a.kp:8080/x", want: Target{URL: "http://a.kp:8080/x"}},
		{in: "2016.kp/", want: Target{URL: "http://2016.kp/"}},
		{in: "20160920fw_/http://a.kp/", want: Target{Timestamp: "20160920", URL: "http://a.kp/"}},
		{in: "20160920/http://%ED%8F%89%EC%96%91.kp/", want: Target{Timestamp: "20160920", URL: "http://xn--og5b13x.kp/"}},
		{in: "20160920/ftp://a.kp/", err: true},
		{in: "20160920/", err: true},
		{in: "123456789012345/http://a.kp/", err: true},
	} {
		got, err := ParsePath(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParsePath(%q): error %v", tc.in, err)
			continue
		}
		got.Raw = ""
		if !tc.err && got != tc.want {
			t.Errorf("ParsePath(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestTime(t *testing.T) {
	for _, tc := range []struct {
		ts   string
		want time.Time
	}{
		{"2016", time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"201609", time.Date(2016, 9, 1, 0, 0, 0, 0, time.UTC)},
		{"20160920123456", time.Date(2016, 9, 20, 12, 34, 56, 0, time.UTC)},
		{"20160231", time.Date(2016, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"20169999999999", time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC)},
	} {
		got, err := Time(tc.ts)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("Time(%q) = %v, %v; want %v", tc.ts, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "2016x", "123456789012345"} {
		if _, err := Time(bad); err == nil {
			t.Errorf("Time(%q): no error", bad)
		}
	}
	if got := Timestamp(time.Date(2016, 9, 20, 1, 2, 3, 999, time.FixedZone("x", 3600))); got != "20160920000203" {
		t.Errorf("Timestamp = %s", got)
	}
}

func TestCapturesAndNearest(t *testing.T) {
	a, _ := fixture(t)
	ctx := context.Background()
	caps, err := a.Captures(ctx, "http://a.kp/")
	if err != nil || len(caps) != 3 {
		t.Fatalf("captures of the home page: %d, %v", len(caps), err)
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{t1.Add(-time.Hour), 0}, {t1.Add(11 * time.Hour), 0}, {t1.Add(13 * time.Hour), 1},
		{t1.Add(36 * time.Hour), 1}, {t1.Add(100 * time.Hour), 2},
	} {
		if got := Nearest(caps, tc.at); got != tc.want {
			t.Errorf("Nearest(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
	if Nearest(nil, t1) != -1 {
		t.Error("Nearest of no captures")
	}
	if got := ByDistance(caps, t1.Add(30*time.Hour)); !slices.Equal(got, []int{1, 2, 0}) {
		t.Errorf("ByDistance = %v", got)
	}
	// The same page by SURT: case, trailing slash, scheme, www.
	for _, u := range []string{"http://a.kp/path/upper/", "https://www.a.kp/Path/Upper", "http://a.kp:80/PATH/UPPER"} {
		caps, err := a.Captures(ctx, u)
		if err != nil || len(caps) != 1 || caps[0].URL != "http://a.kp/Path/Upper" {
			t.Errorf("Captures(%q) = %+v, %v", u, caps, err)
		}
	}
	if caps, err := a.Captures(ctx, "http://a.kp/nothing"); err != nil || len(caps) != 0 {
		t.Errorf("nothing: %+v %v", caps, err)
	}
}

func readAll(t *testing.T, r *Response) []byte {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenAndRevisits(t *testing.T) {
	a, _ := fixture(t)
	ctx := context.Background()
	caps, _ := a.Captures(ctx, "http://a.kp/")
	first, err := a.Open(ctx, caps[0])
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, first)
	if first.Status != 200 || !bytes.Contains(body, []byte("<h1>First</h1>")) || first.Header.Get("Set-Cookie") != "s=1" {
		t.Errorf("first capture: %d %q %v", first.Status, body, first.Header)
	}
	// The revisit: its own headers, the first capture's payload.
	if !caps[1].Revisit {
		t.Fatal("the second capture should be a revisit")
	}
	rev, err := a.Open(ctx, caps[1])
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, rev); !bytes.Contains(body, []byte("<h1>First</h1>")) || rev.Header.Get("X-Day") != "2" || rev.Original.Time != caps[0].Time {
		t.Errorf("revisit: %q %v, original %v", body, rev.Header, rev.Original)
	}
	// A revisit of another URL (www.a.kp/ refers to a.kp/).
	www, _ := a.Index.URLCaptures(ctx, "http://www.a.kp/")
	if len(www) != 1 || !www[0].Revisit {
		t.Fatalf("www: %+v", www)
	}
	wr, err := a.Open(ctx, www[0])
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, wr); !bytes.Contains(body, []byte("<h1>First</h1>")) || wr.Original.URL != "http://a.kp/" {
		t.Errorf("cross-URL revisit: %q from %v", body, wr.Original)
	}
	// Chunked and gzipped: the chunks are undone, the coding kept.
	css, _ := a.Index.URLCaptures(ctx, "http://a.kp/style.css")
	cr, err := a.Open(ctx, css[0])
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, cr); !bytes.Equal(body, replaytest.Gzip([]byte(`body { background: url("/bg.gif") }`))) && !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Errorf("css body %q", body)
	}
	// A WARC file that is gone.
	gone := caps[0]
	gone.WARC = "missing.warc.gz"
	if _, err := a.Open(ctx, gone); err == nil || !strings.Contains(err.Error(), "not in the archive") {
		t.Errorf("missing file: %v", err)
	}
}

// A file still being written (NAME.open) serves its records.
func TestOpenWhileWriting(t *testing.T) {
	a, layout := fixture(t)
	ctx := context.Background()
	caps, _ := a.Captures(ctx, "http://b.kp/x.png")
	files, _ := filepath.Glob(filepath.Join(layout.WARCDir(), "*.warc.gz"))
	if len(files) != 1 {
		t.Fatalf("files: %v", files)
	}
	if err := os.Rename(files[0], files[0]+".open"); err != nil {
		t.Fatal(err)
	}
	r, err := a.Open(ctx, caps[0])
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, r); !bytes.HasPrefix(body, []byte("\x89PNG")) {
		t.Errorf("image from the .open file: %q", body)
	}
}

func render(t *testing.T, a *Archive, u string, i int, mod string) (*Rendered, string) {
	t.Helper()
	ctx := context.Background()
	caps, err := a.Captures(ctx, u)
	if err != nil || len(caps) <= i {
		t.Fatalf("captures of %s: %v %v", u, caps, err)
	}
	resp, err := a.Open(ctx, caps[i])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	base, _ := url.Parse(caps[i].URL)
	rw := &Rewriter{Prefix: "/web/", Timestamp: Timestamp(caps[i].Time), Base: base, Mod: mod, Banner: []byte("<!--banner-->")}
	out, err := Render(resp, rw, mod, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, string(b)
}

func TestRender(t *testing.T) {
	a, _ := fixture(t)
	out, body := render(t, a, "http://a.kp/", 0, ModPage)
	if out.Status != 200 || !strings.Contains(body, `href="/web/20160920100000cs_/http://a.kp/style.css"`) ||
		!strings.Contains(body, "<body><!--banner--><h1>") {
		t.Errorf("page: %d\n%s", out.Status, body)
	}
	h := out.Header
	if h.Get("Set-Cookie") != "" || h.Get("X-Archive-Orig-Set-Cookie") != "s=1" || h.Get("Content-Security-Policy") != CSP ||
		h.Get("X-Archive-Orig-Content-Length") == "" || h.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("page headers: %v", h)
	}
	// An iframe gets no banner.
	if _, body := render(t, a, "http://a.kp/", 0, ModFrame); strings.Contains(body, "banner") {
		t.Errorf("frame with a banner: %s", body)
	}
	// CSS: decoded from gzip and chunks, rewritten.
	out, body = render(t, a, "http://a.kp/style.css", 0, ModCSS)
	if body != `body { background: url("/web/20160920100001im_/http://a.kp/bg.gif") }` || out.Header.Get("Content-Encoding") != "" {
		t.Errorf("css: %q %v", body, out.Header)
	}
	// The original bytes: still gzipped, headers as recorded.
	out, body = render(t, a, "http://a.kp/style.css", 0, ModOrigin)
	if !strings.HasPrefix(body, "\x1f\x8b") || out.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("id_: %q %v", body, out.Header)
	}
	// A redirect stays in the archive.
	out, _ = render(t, a, "http://a.kp/old.html", 0, ModPage)
	if out.Status != 301 || out.Header.Get("Location") != "/web/20160920100002/http://a.kp/news/" {
		t.Errorf("redirect: %d %v", out.Status, out.Header)
	}
	// EUC-KR without a charset in the header: it gets one, and the bytes
	// of the page are kept.
	out, body = render(t, a, "http://a.kp/euc.html", 0, ModPage)
	if ct := out.Header.Get("Content-Type"); ct != "text/html; charset=euc-kr" {
		t.Errorf("EUC-KR content type %q", ct)
	}
	if !strings.Contains(body, string(euckr(t, "도서관"))) || !strings.Contains(body, `src="/web/20160920100003im_/http://a.kp/i.png"`) {
		t.Errorf("EUC-KR body %q", body)
	}
	// An image is served as it is.
	out, body = render(t, a, "http://b.kp/x.png", 0, ModImage)
	if !strings.HasPrefix(body, "\x89PNG") || out.Header.Get("Content-Type") != "image/png" {
		t.Errorf("image: %q %v", body, out.Header)
	}
}

func TestMemento(t *testing.T) {
	a, _ := fixture(t)
	caps, _ := a.Captures(context.Background(), "http://a.kp/")
	m := Memento{Root: "http://127.0.0.1:8080", Prefix: "/web/", Original: "http://a.kp/"}
	got := m.Link(caps, 1)
	want := `<http://a.kp/>; rel="original", <http://127.0.0.1:8080/timegate/http://a.kp/>; rel="timegate", ` +
		`<http://127.0.0.1:8080/timemap/link/http://a.kp/>; rel="timemap"; type="application/link-format", ` +
		`<http://127.0.0.1:8080/web/20160920100000/http://a.kp/>; rel="first prev memento"; datetime="Tue, 20 Sep 2016 10:00:00 GMT", ` +
		`<http://127.0.0.1:8080/web/20160921100000/http://a.kp/>; rel="memento"; datetime="Wed, 21 Sep 2016 10:00:00 GMT", ` +
		`<http://127.0.0.1:8080/web/20160922100000/http://a.kp/>; rel="last next memento"; datetime="Thu, 22 Sep 2016 10:00:00 GMT"`
	if got != want {
		t.Errorf("Link:\n%s\nwant\n%s", got, want)
	}
	if got := m.Link(caps, -1); strings.Contains(got, `rel="timegate"`) || !strings.Contains(got, `rel="first memento"`) {
		t.Errorf("TimeGate Link: %s", got)
	}
	var b bytes.Buffer
	if err := m.WriteTimeMap(&b, caps); err != nil {
		t.Fatal(err)
	}
	wantMap := `<http://127.0.0.1:8080/timemap/link/http://a.kp/>; rel="self"; type="application/link-format"; from="Tue, 20 Sep 2016 10:00:00 GMT"; until="Thu, 22 Sep 2016 10:00:00 GMT",
<http://a.kp/>; rel="original",
<http://127.0.0.1:8080/timegate/http://a.kp/>; rel="timegate",
<http://127.0.0.1:8080/web/20160920100000/http://a.kp/>; rel="first memento"; datetime="Tue, 20 Sep 2016 10:00:00 GMT",
<http://127.0.0.1:8080/web/20160921100000/http://a.kp/>; rel="memento"; datetime="Wed, 21 Sep 2016 10:00:00 GMT",
<http://127.0.0.1:8080/web/20160922100000/http://a.kp/>; rel="last memento"; datetime="Thu, 22 Sep 2016 10:00:00 GMT"
`
	if b.String() != wantMap {
		t.Errorf("TimeMap:\n%s\nwant\n%s", b.String(), wantMap)
	}
	for _, v := range []string{"Tue, 20 Sep 2016 10:00:00 GMT", "Tuesday, 20-Sep-16 10:00:00 GMT"} {
		if got, err := ParseAcceptDatetime(v); err != nil || !got.Equal(t1) {
			t.Errorf("Accept-Datetime %q: %v %v", v, got, err)
		}
	}
	if _, err := ParseAcceptDatetime("Sun"); err == nil {
		t.Error("a bad Accept-Datetime was accepted")
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"20160920123456/http://a.kp/x?q=1", "2016im_/a.kp/", "*/http://a.kp/", "http://a.kp/", "1/", "//", "2016*/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParsePath(s)
		if err != nil {
			return
		}
		// What it accepts is a URL replay can look up, and a timestamp
		// Time reads.
		if !strings.HasPrefix(tg.URL, "http://") && !strings.HasPrefix(tg.URL, "https://") {
			t.Errorf("ParsePath(%q).URL = %q", s, tg.URL)
		}
		if tg.Timestamp != "" {
			if _, err := Time(tg.Timestamp); err != nil {
				t.Errorf("ParsePath(%q).Timestamp = %q: %v", s, tg.Timestamp, err)
			}
		}
	})
}
