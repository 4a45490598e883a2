package index

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// readerOf closes the live index of the fixture archive and opens it for
// reading, as crawl serve does from its own process.
func readerOf(t *testing.T) *Reader {
	t.Helper()
	layout, ix := liveArchive(t)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReaderOptions(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestURLCaptures(t *testing.T) {
	r := readerOf(t)
	ctx := context.Background()
	rows, err := r.URLCaptures(ctx, "http://www.a.test/")
	if err != nil {
		t.Fatal(err)
	}
	// The home page was fetched twice: a response, then a revisit.
	if len(rows) != 2 || rows[0].Revisit || !rows[1].Revisit || !rows[0].Time.Before(rows[1].Time) {
		t.Fatalf("captures of the home page: %+v", rows)
	}
	for _, c := range rows {
		if c.URL != "http://www.a.test/" || c.WARC == "" || c.Length == 0 || c.Status != 200 {
			t.Errorf("capture %+v", c)
		}
	}
	// Another URL that is a prefix of others is only itself.
	if rows, err := r.URLCaptures(ctx, "http://www.a.test/about"); err != nil || len(rows) != 1 || rows[0].MIME != "text/html" {
		t.Errorf("about: %+v %v", rows, err)
	}
	for _, u := range []string{"http://www.a.test/nothing", "http://unknown.test/", "not a url", "http://www.a.test"} {
		if rows, err := r.URLCaptures(ctx, u); err != nil || len(rows) != 0 {
			t.Errorf("%q: %+v %v", u, rows, err)
		}
	}
}

func TestScanCaptures(t *testing.T) {
	layout := archive.Layout{Root: t.TempDir()}
	ix, err := Open(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Hosts whose keys sort around each other: a.test, its subdomains, and
	// names that only start like it.
	urls := []string{"http://a.test/1", "http://www.a.test/2", "http://x.y.a.test/3", "http://aa.test/4",
		"http://a-b.test/5", "http://b.test/6", "http://a.test/0"}
	for i, u := range urls {
		ix.Observe(warc.Location{File: "f.warc.gz", Offset: int64(i) * 100, Length: 100},
			captureRecord(u, t0.Add(time.Duration(i)*time.Second), 200, "text/plain", "x"))
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReaderOptions(layout, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	scan := func(host string, sub bool) []string {
		var got []string
		if err := r.ScanCaptures(context.Background(), host, sub, func(c CaptureRow) error {
			got = append(got, c.URL)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, tc := range []struct {
		host string
		sub  bool
		want []string
	}{
		{"a.test", false, []string{"http://a.test/0", "http://a.test/1"}},
		{"A.Test.", false, []string{"http://a.test/0", "http://a.test/1"}},
		{"a.test", true, []string{"http://a.test/0", "http://a.test/1", "http://www.a.test/2", "http://x.y.a.test/3"}},
		{"y.a.test", true, []string{"http://x.y.a.test/3"}},
		// Key order: test,a 0; test,a,www; test,a,y,x; test,a-b; test,aa; test,b.
		{"test", true, []string{"http://a.test/0", "http://a.test/1", "http://www.a.test/2", "http://x.y.a.test/3",
			"http://a-b.test/5", "http://aa.test/4", "http://b.test/6"}},
		{"nothing.test", true, nil},
	} {
		if got := scan(tc.host, tc.sub); !slices.Equal(got, tc.want) {
			t.Errorf("ScanCaptures(%q, %v) = %q, want %q", tc.host, tc.sub, got, tc.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err = r.ScanCaptures(context.Background(), "test", true, func(CaptureRow) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: %v after %d rows", err, n)
	}
}

func TestPages(t *testing.T) {
	r := readerOf(t)
	var got []string
	if err := r.Pages(context.Background(), func(p PageRow) error {
		got = append(got, fmt.Sprintf("%s %s %d %s %q %v", p.Host, p.URL, p.Status, p.MIME, p.Title, p.WARC != ""))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Key order: test,a,www before test,b.
	want := []string{
		`www.a.test http://www.a.test/ 200 text/html "서울 소식" true`,
		`www.a.test http://www.a.test/about 200 text/html "About the runners" true`,
		`www.a.test http://www.a.test/euc 200 text/html "부산 안내" true`,
		`www.a.test http://www.a.test/gz 200 text/html "Compressed news" true`,
		`www.a.test http://www.a.test/old 301 text/html "" true`,
		`b.test http://b.test/x 200 text/plain "" true`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages:\n%s\nwant:\n%s", got, want)
	}
}
