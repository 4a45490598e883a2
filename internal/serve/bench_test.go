package serve

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/warc"
)

// BenchmarkReplay: replay of pages and images from an archive of about
// 1 GB (CRAWL_BENCH_REPLAY_MB, default 1000) of WARC files, through a real
// HTTP server on loopback: nearest capture from the index, record read
// from its WARC file, HTML rewritten with the banner. Reports p50/p95/p99
// in ms, client to last byte (no browser). The archive is built once into
// CRAWL_BENCH_REPLAY (a folder kept for later runs), or a temporary one:
//
//	CRAWL_BENCH_REPLAY=/tmp/replay-1g go test -run '^$' -bench BenchmarkReplay -benchtime 2000x -timeout 0 ./internal/serve/
func BenchmarkReplay(b *testing.B) {
	dir := os.Getenv("CRAWL_BENCH_REPLAY")
	if dir == "" {
		dir = b.TempDir()
	}
	mb := 1000
	fmt.Sscan(os.Getenv("CRAWL_BENCH_REPLAY_MB"), &mb)
	layout := archive.Layout{Root: dir}
	pages, images := benchArchive(b, layout, int64(mb)<<20)
	s, err := New(Config{Layout: layout})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	client := srv.Client()
	fetch := func(path string) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n == 0 {
			b.Fatalf("%s: %d (%d bytes)", path, resp.StatusCode, n)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kind := range []struct {
		name string
		urls []string
		mod  string
	}{{"page", pages, ""}, {"image", images, "im_"}} {
		b.Run(kind.name, func(b *testing.B) {
			var lat []time.Duration
			for i := 0; i < max(b.N, 200); i++ {
				u := kind.urls[rng.IntN(len(kind.urls))]
				ts, target, _ := strings.Cut(u, " ")
				start := time.Now()
				fetch("/web/" + ts + kind.mod + "/" + target)
				lat = append(lat, time.Since(start))
			}
			reportLatency(b, lat)
		})
	}
	var total int64
	files, _ := filepath.Glob(filepath.Join(layout.WARCDir(), "*.warc.gz"))
	for _, f := range files {
		fi, _ := os.Stat(f)
		total += fi.Size()
	}
	b.Logf("archive: %d WARC files, %.0f MB, %d pages, %d images", len(files), float64(total)/1e6, len(pages), len(images))
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "p95-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
}

// benchArchive builds (or finds, in a folder built before) an archive of
// about size bytes of WARC files: HTML pages of generated text, each with a
// style sheet and images, and incompressible images, as a crawl writes
// them (warc.Writer observed by the index). It returns "TIMESTAMP URL" of
// the pages and of the images.
func benchArchive(b *testing.B, layout archive.Layout, size int64) (pages, images []string) {
	list := filepath.Join(layout.Root, "bench-urls.txt")
	if data, err := os.ReadFile(list); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if strings.Contains(l, "/img/") {
				images = append(images, l)
			} else {
				pages = append(pages, l)
			}
		}
		return pages, images
	}
	start := time.Now()
	if err := layout.Create(); err != nil {
		b.Fatal(err)
	}
	ix, err := index.Open(layout, index.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: layout.WARCDir(), Observer: ix, Info: warc.Info{Hostname: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("pyongyang harbour council library station budget seoul river museum city " +
		"평양 도서관 박물관 정부 시민 회의 날씨 역사 음악 과학 기술 학교 병원 축제 공원 시장")
	t0 := time.Date(2016, 9, 20, 0, 0, 0, 0, time.UTC)
	var written int64
	var lines []string
	write := func(u string, date time.Time, resp []byte) {
		req := "GET " + u + " HTTP/1.1\r\nHost: x\r\n\r\n"
		if _, err := w.WriteExchange(warc.Exchange{TargetURI: u, IP: "127.0.0.1", Date: date,
			Request:  io.NewSectionReader(strings.NewReader(req), 0, int64(len(req))),
			Response: io.NewSectionReader(bytes.NewReader(resp), 0, int64(len(resp)))}); err != nil {
			b.Fatal(err)
		}
		written += int64(len(resp))
		lines = append(lines, date.UTC().Format("20060102150405")+" "+u)
	}
	// Images carry most of the bytes, as on real sites: a page and a
	// 96 KB image per step.
	img := make([]byte, 96<<10)
	for i := 0; written < size; i++ {
		host := fmt.Sprintf("site%d.bench.kp", i%500)
		date := t0.Add(time.Duration(i) * time.Second)
		var body strings.Builder
		fmt.Fprintf(&body, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Page %d of %s</title><link rel="stylesheet" href="/css/style.css"></head><body><h1>Page %d</h1>`, i, host, i)
		for p := 0; p < 20; p++ {
			body.WriteString("<p>")
			for range 40 {
				body.WriteString(words[rng.IntN(len(words))])
				body.WriteByte(' ')
			}
			fmt.Fprintf(&body, `<a href="/p/%d.html">more</a> <img src="/img/%d.jpg" srcset="/img/%d.jpg 2x" alt=""></p>`, rng.IntN(100000), i, i)
		}
		body.WriteString("</body></html>")
		write(fmt.Sprintf("http://%s/p/%d.html", host, i), date,
			[]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", body.Len(), body.String())))
		for k := range img {
			img[k] = byte(rng.Uint32())
		}
		write(fmt.Sprintf("http://%s/img/%d.jpg", host, i), date,
			append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(img))), img...))
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("built the archive in %s", time.Since(start).Round(time.Second))
	return benchArchive(b, layout, size)
}

// BenchmarkSearchPage: the search page (query, highlighted snippets,
// template) over the 100,000-page index that internal/index's
// BenchmarkSearch builds, through a real HTTP server on loopback; p50/p95
// in ms. Build the index first, once:
//
//	CRAWL_BENCH_DIR=/tmp/search-100k go test -run '^$' -bench 'BenchmarkSearch$' -benchtime 1x -timeout 0 ./internal/index/
//	CRAWL_BENCH_DIR=/tmp/search-100k go test -run '^$' -bench BenchmarkSearchPage -benchtime 400x -timeout 0 ./internal/serve/
func BenchmarkSearchPage(b *testing.B) {
	dir := os.Getenv("CRAWL_BENCH_DIR")
	if dir == "" {
		b.Skip("set CRAWL_BENCH_DIR to the folder of internal/index's BenchmarkSearch (see the comment)")
	}
	s, err := New(Config{Layout: archive.Layout{Root: dir}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	queries := []string{"서울", "부산광역시", "도서관에서", "library", "running", "city council", `"city council"`,
		"+budget -library", "title:서울", "박물관 harbour", "host:h7.bench.test", "박물관", "harbour~1", "정부의 budget",
		"+서울 +library", "광역시", "도서관", "running budget council"}
	get := func(q string, page int) {
		resp, err := srv.Client().Get(srv.URL + "/search?n=20&page=" + fmt.Sprint(page) + "&q=" + url.QueryEscape(q))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || page == 1 && !bytes.Contains(body, []byte(`<ol class="hits"`)) {
			b.Fatalf("%s: %d", q, resp.StatusCode)
		}
	}
	get("서울", 1) // warm up
	for _, page := range []int{1, 5} {
		b.Run(fmt.Sprintf("page=%d", page), func(b *testing.B) {
			var lat []time.Duration
			for i := 0; i < max(b.N, 100); i++ {
				start := time.Now()
				get(queries[i%len(queries)], page)
				lat = append(lat, time.Since(start))
			}
			reportLatency(b, lat)
		})
	}
}
