package crawler_test

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/crawler"
	"crawl/internal/page"
	"crawl/internal/warc"
	"crawl/internal/warc/payloads"
)

// BenchmarkSite measures the engine alone: the crawler writing WARC files
// with no index behind the writer, on a site served by someone else (the
// PostgreSQL docs under nginx, started by scripts/bench). It is wired as
// `crawl crawl URL` wires it (state, payload dedupe, warcinfo), with the
// settings of the benchmark: --delay 0 --host-parallel 8 (so, as there,
// the parse skips the page text and the process collects garbage at
// GOGC=400 under a 192 MiB memory limit). The time covers
// Run and closing the writer and the state, as a process's run would.
//
//	CRAWL_BENCH_URL=http://pgdocs.test:8077/ \
//	CRAWL_BENCH_CONNECT_TO=pgdocs.test:8077=127.0.77.1:8077 \
//	go test -run '^$' -bench BenchmarkSite -benchtime 1x ./internal/crawler
//
// CRAWL_BENCH_CONNECT_TO is a comma-separated list of --connect-to
// overrides; CRAWL_BENCH_ARCHIVE, when set, is a folder that keeps each
// run's archive (run-1, run-2, ...) for the caller to inspect. Pages are
// the distinct URLs whose response (or revisit) record has status 200 and
// Content-Type text/html, the count scripts/bench uses for every crawler.
func BenchmarkSite(b *testing.B) {
	seed := os.Getenv("CRAWL_BENCH_URL")
	if seed == "" {
		b.Skip("CRAWL_BENCH_URL not set (scripts/bench sets it)")
	}
	norm, err := page.Normalize(seed, nil)
	if err != nil {
		b.Fatalf("CRAWL_BENCH_URL %q: %v", seed, err)
	}
	u, _ := url.Parse(norm)
	var connectTo []string
	if v := os.Getenv("CRAWL_BENCH_CONNECT_TO"); v != "" {
		connectTo = strings.Split(v, ",")
	}
	keep := os.Getenv("CRAWL_BENCH_ARCHIVE")
	// The process settings of crawl crawl (cmd/crawl limitMemory): a soft
	// memory limit of 192 MiB and GOGC=400, unless the environment says.
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(192 << 20))
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if keep != "" {
			dir = filepath.Join(keep, fmt.Sprintf("run-%d", i+1))
		}
		layout := archive.Layout{Root: dir}
		if err := layout.Create(); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		st, err := crawler.OpenState(layout.StateDir())
		if err != nil {
			b.Fatal(err)
		}
		dedupe, err := payloads.Open(layout.PayloadsPath())
		if err != nil {
			b.Fatal(err)
		}
		w, err := warc.NewWriter(warc.WriterOptions{
			Dir:    layout.WARCDir(),
			Prefix: "crawl",
			Dedupe: dedupe,
			Info:   warc.Info{Software: "crawl/" + crawler.Version + " (BenchmarkSite)", Robots: "classic"},
		})
		if err != nil {
			b.Fatal(err)
		}
		cfg := crawler.DefaultConfig()
		cfg.State, cfg.Writer = st, w
		cfg.Delay = 0
		cfg.HostParallel = 8
		cfg.ConnectTo = connectTo
		cfg.AllowAddresses = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} // the benchmark's server is on loopback
		cfg.Parse.Config.SkipText = true                                          // no index reads the text, as crawl crawl without a live full-text index
		c, err := crawler.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		sum, err := c.Run(context.Background(), []crawler.Site{{
			Name:  u.Hostname(),
			Hosts: []crawler.Host{{Name: u.Hostname()}},
			Seeds: []string{norm},
		}})
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if cerr := dedupe.Close(); err == nil {
			err = cerr
		}
		elapsed := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		pages := htmlPages(b, layout.WARCDir())
		if pages == 0 {
			b.Fatalf("no HTML page fetched with status 200 (%d responses, %d errors)", sum.Pages, sum.Errors)
		}
		b.ReportMetric(float64(pages), "pages")
		b.ReportMetric(elapsed.Seconds(), "s/crawl")
		b.ReportMetric(float64(pages)/elapsed.Seconds(), "pages/s")
		b.Logf("engine alone: %d HTML pages (%d responses, %d errors) in %v = %.0f pages/s",
			pages, sum.Pages, sum.Errors, elapsed.Round(time.Millisecond), float64(pages)/elapsed.Seconds())
	}
}

// htmlPages counts the distinct URLs of dir's WARC files whose response or
// revisit record holds an HTTP 200 with Content-Type text/html.
func htmlPages(b *testing.B, dir string) int {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	seen := map[string]bool{}
	for _, f := range files {
		err := warc.ReadFile(f, func(rec warc.Record, _ warc.Location) error {
			if t := rec.Header.Get("WARC-Type"); t != "response" && t != "revisit" {
				return nil
			}
			resp, err := http.ReadResponse(bufio.NewReader(rec.Block), nil)
			if err != nil {
				return nil // not HTTP (or headers cut): not a page
			}
			resp.Body.Close()
			mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if resp.StatusCode == http.StatusOK && mt == "text/html" {
				seen[rec.Header.Get("WARC-Target-URI")] = true
			}
			return nil
		})
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
	}
	return len(seen)
}
