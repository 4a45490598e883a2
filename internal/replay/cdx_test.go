package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"crawl/internal/warc"
)

func cdxQuery(t *testing.T, a *Archive, params string) []CDXRow {
	t.Helper()
	v, err := url.ParseQuery(params)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseCDXQuery(v, 100000)
	if err != nil {
		t.Fatalf("%s: %v", params, err)
	}
	rows, err := a.CDX(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", params, err)
	}
	return rows
}

func keys(rows []CDXRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.URLKey+" "+r.Timestamp)
	}
	return out
}

// The CDX server's lines are those of `crawl cdx` (warc.CDXJ over the
// files), in the same order.
func TestCDXMatchesCDXJ(t *testing.T) {
	a, layout := fixture(t)
	files, _ := filepath.Glob(filepath.Join(layout.WARCDir(), "*.warc.gz"))
	var b bytes.Buffer
	if err := warc.CDXJ(context.Background(), files, &b); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if strings.HasPrefix(l, "kp,") {
			want = append(want, l)
		}
	}
	var got []string
	for _, r := range cdxQuery(t, a, "url=*.kp") {
		got = append(got, r.CDXJ())
	}
	if !slices.Equal(got, want) || len(got) != 10 {
		t.Errorf("CDX server:\n%s\ncrawl cdx:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCDXQueries(t *testing.T) {
	a, _ := fixture(t)
	for _, tc := range []struct {
		params string
		want   []string
	}{
		// exact: by SURT, so www and https are the same page.
		{"url=a.kp/", []string{"kp,a)/ 20160920100000", "kp,a)/ 20160921100000", "kp,a)/ 20160921100001", "kp,a)/ 20160922100000"}},
		{"url=http://www.a.kp/&limit=2", []string{"kp,a)/ 20160920100000", "kp,a)/ 20160921100000"}},
		{"url=a.kp/&sort=reverse&limit=2", []string{"kp,a)/ 20160922100000", "kp,a)/ 20160921100001"}},
		{"url=a.kp/&reverse=true&limit=1", []string{"kp,a)/ 20160922100000"}},
		{"url=a.kp/&sort=closest&closest=20160921090000&limit=2", []string{"kp,a)/ 20160921100000", "kp,a)/ 20160921100001"}},
		{"url=a.kp/&from=20160921&to=2016092110", []string{"kp,a)/ 20160921100000", "kp,a)/ 20160921100001"}},
		{"url=a.kp/&from=2017", nil},
		// prefix, host, domain.
		{"url=a.kp/path*", []string{"kp,a)/path/upper 20160920100004"}},
		{"url=a.kp/s&matchType=prefix", []string{"kp,a)/secure 20160920100006", "kp,a)/style.css 20160920100001"}},
		{"url=a.kp/anything&matchType=host&filter=!mime:warc/revisit&filter=~status:2..", []string{
			"kp,a)/ 20160920100000", "kp,a)/ 20160922100000", "kp,a)/euc.html 20160920100003",
			"kp,a)/path/upper 20160920100004", "kp,a)/secure 20160920100006", "kp,a)/style.css 20160920100001"}},
		{"url=b.kp&matchType=domain", []string{"kp,b)/x.png 20160920100005"}},
		{"url=*.kp&filter==mime:image/png", []string{"kp,b)/x.png 20160920100005"}},
		{"url=*.kp&filter=status:301", []string{"kp,a)/old.html 20160920100002"}},
		{"url=nothing.kp/", nil},
	} {
		if got := keys(cdxQuery(t, a, tc.params)); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.params, got, tc.want)
		}
	}
}

func TestCDXOutput(t *testing.T) {
	a, _ := fixture(t)
	write := func(params string) string {
		v, _ := url.ParseQuery(params)
		q, err := ParseCDXQuery(v, 1000)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := a.CDX(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteCDX(&b, q, rows, Memento{Root: "http://h", Prefix: "/web/"}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	got := write("url=b.kp/x.png&output=json")
	var m map[string]string
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("json line %q: %v", got, err)
	}
	if m["urlkey"] != "kp,b)/x.png" || m["timestamp"] != "20160920100005" || m["url"] != "http://b.kp/x.png" || m["mime"] != "image/png" ||
		m["status"] != "200" || m["filename"] == "" || m["offset"] == "" || m["length"] == "" || len(m["digest"]) != 32 {
		t.Errorf("json: %v", m)
	}
	if !strings.HasPrefix(got, `{"urlkey":"kp,b)/x.png","timestamp":"20160920100005","url":`) {
		t.Errorf("json field order: %s", got)
	}
	if got := write("url=b.kp/x.png&output=json&fl=urlkey,status,s"); got != `{"urlkey":"kp,b)/x.png","status":"200","status":"200"}`+"\n" {
		t.Errorf("json with fl: %s", got)
	}
	if got := write("url=b.kp/x.png&fl=timestamp,mime,truncated"); got != "20160920100005 image/png -\n" {
		t.Errorf("text with fl: %q", got)
	}
	if got := write("url=b.kp/x.png&output=link"); got != `<http://h/web/20160920100005/http://b.kp/x.png>; rel="memento"; datetime="Tue, 20 Sep 2016 10:00:05 GMT"`+"\n" {
		t.Errorf("link: %q", got)
	}
	for _, ct := range [][2]string{{"json", "text/x-ndjson"}, {"cdxj", "text/x-cdxj"}, {"link", "application/link-format"}} {
		if got := CDXContentType(ct[0]); got != ct[1] {
			t.Errorf("content type of %s: %s", ct[0], got)
		}
	}
}

func TestCDXBadQueries(t *testing.T) {
	for _, params := range []string{"", "url=a.kp&matchType=fuzzy", "url=a.kp&limit=0", "url=a.kp&limit=x", "url=a.kp&from=2016-01",
		"url=a.kp&fl=nosuchfield", "url=a.kp&output=xml", "url=a.kp&sort=closest", "url=a.kp&sort=random", "url=a.kp&filter=~url:(",
		"url=a.kp&closest=x"} {
		v, _ := url.ParseQuery(params)
		if _, err := ParseCDXQuery(v, 100); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%q: %v", params, err)
		}
	}
	v, _ := url.ParseQuery("url=a.kp&limit=1000000")
	if q, err := ParseCDXQuery(v, 100); err != nil || q.Limit != 100 {
		t.Errorf("limit above the maximum: %d %v", q.Limit, err)
	}
}
