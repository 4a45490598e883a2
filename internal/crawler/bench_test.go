package crawler

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// treeSite serves pages /p/0 … /p/(n-1); page i links to pages 10i+1 …
// 10i+10 and back home, so a crawl must discover all n pages by links.
func treeSite(n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/p/0", http.StatusFound)
			return
		}
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<!doctype html><html><head><title>Page %d</title></head><body><h1>Page %d</h1>\n<p>%s</p>\n<a href=\"/p/0\">home</a>\n",
			i, i, strings.Repeat("Lorem ipsum dolor sit amet. ", 40))
		for c := 10*i + 1; c <= 10*i+10 && c < n; c++ {
			fmt.Fprintf(&b, "<a href=\"/p/%d\">page %d</a>\n", c, c)
		}
		b.WriteString("</body></html>\n")
		html(w, b.String())
	})
}

// BenchmarkEngine crawls a 10,000-page loopback site with politeness off
// and reports pages/s; then wget --recursive --warc-file crawls the same
// site, and the ratio is reported (skipped when wget is absent).
//
//	go test -run '^$' -bench BenchmarkEngine -benchtime 1x ./internal/crawler
func BenchmarkEngine(b *testing.B) {
	const pages = 10000
	for i := 0; i < b.N; i++ {
		site, ct, log := startSite(b, "bench.test", treeSite(pages))
		a := newTestArchive(b, "")
		cfg := a.config()
		cfg.Logger = nil
		cfg.ConnectTo = []string{ct}
		cfg.Delay = 0
		cfg.HostParallel = 16
		cfg.MaxPages = 0
		cfg.MaxDepth = 0
		start := time.Now()
		sum := run(b, cfg, site)
		el := time.Since(start)
		if sum.Pages < pages {
			b.Fatalf("crawled %d pages, want %d", sum.Pages, pages)
		}
		ours := float64(sum.Pages) / el.Seconds()
		b.ReportMetric(ours, "pages/s")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
		b.Logf("crawl: %d captures in %v = %.0f pages/s (%d server requests)", sum.Pages, el, ours, len(log.paths()))

		wget, err := exec.LookPath("wget")
		if err != nil {
			b.Log("wget not installed: no comparison")
			continue
		}
		_, port, _ := strings.Cut(ct, "=127.0.0.1:")
		dir := b.TempDir()
		cmd := exec.Command(wget, "--recursive", "--level=inf", "--no-verbose", "-e", "robots=off",
			"--warc-file="+filepath.Join(dir, "wget"), "-P", filepath.Join(dir, "files"),
			"http://127.0.0.1:"+port+"/")
		cmd.Env = append(os.Environ(), "no_proxy=*")
		start = time.Now()
		out, err := cmd.CombinedOutput()
		wel := time.Since(start)
		if err != nil && !strings.Contains(string(out), "FINISHED") {
			b.Fatalf("wget: %v\n%s", err, out[max(0, len(out)-2000):])
		}
		wgetPages := strings.Count(string(out), " URL:")
		theirs := float64(wgetPages) / wel.Seconds()
		b.ReportMetric(theirs, "wget-pages/s")
		b.ReportMetric(ours/theirs, "ratio")
		b.Logf("wget: %d pages in %v = %.0f pages/s; ratio crawl/wget %.2f", wgetPages, wel, theirs, ours/theirs)
	}
}

// BenchmarkSchedule crawls 30 sites of 20 pages at Delay 200ms side by
// side and compares the total with one site crawled alone: politeness is
// per host, so the total should stay within 20% of one site's time.
//
//	go test -run '^$' -bench BenchmarkSchedule -benchtime 1x ./internal/crawler
func BenchmarkSchedule(b *testing.B) {
	const nSites, nPages = 30, 20
	for i := 0; i < b.N; i++ {
		var sites []Site
		var cts []string
		for s := 0; s < nSites; s++ {
			site, ct, _ := startSite(b, fmt.Sprintf("s%02d.test", s), treeSite(nPages))
			sites = append(sites, site)
			cts = append(cts, ct)
		}
		crawl := func(sites []Site) (time.Duration, Summary) {
			a := newTestArchive(b, "")
			cfg := a.config()
			cfg.Logger = nil
			cfg.ConnectTo = cts
			cfg.Delay = 200 * time.Millisecond
			cfg.HostsAtOnce = nSites
			cfg.IgnoreRobots = true
			start := time.Now()
			sum := run(b, cfg, sites...)
			return time.Since(start), sum
		}
		alone, _ := crawl(sites[:1])
		all, sum := crawl(sites)
		var slowest time.Duration
		for _, r := range sum.Sites {
			slowest = max(slowest, r.Elapsed)
			if r.Pages != nPages+1 { // the pages and the / redirect (robots.txt is not counted)
				b.Fatalf("%s: %d captures, want %d", r.Name, r.Pages, nPages+1)
			}
		}
		b.ReportMetric(alone.Seconds(), "one-site-s")
		b.ReportMetric(all.Seconds(), "all-sites-s")
		b.ReportMetric(all.Seconds()/alone.Seconds(), "ratio")
		b.Logf("one site alone %v; %d sites together %v (slowest site inside %v); ratio %.2f",
			alone, nSites, all, slowest, all.Seconds()/alone.Seconds())
	}
}

// BenchmarkFrontierMillion queues 1,000,000 URLs (frontier and seen set)
// the way crawling does, in commits of 1,000 discoveries, then reads the
// whole frontier back in load-sized chunks; it reports the peak Go heap
// and the process's peak RSS. The state is on disk, so neither grows with
// the number of URLs.
//
//	go test -run '^$' -bench BenchmarkFrontierMillion -benchtime 1x ./internal/crawler
func BenchmarkFrontierMillion(b *testing.B) {
	const total, perCommit = 1_000_000, 1000
	for i := 0; i < b.N; i++ {
		st, err := OpenState(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		var peakHeap uint64
		sample := func() {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		}
		start := time.Now()
		var seq [8]byte
		for n := 0; n < total; n += perCommit {
			found := make([]*entry, 0, perCommit)
			for j := n; j < n+perCommit; j++ {
				binary.BigEndian.PutUint64(seq[:], uint64(j)*2654435761)
				found = append(found, &entry{URL: fmt.Sprintf("http://host%d.example.test/section/%x/article.html?id=%d", j%5000, seq, j), Depth: 3})
			}
			if err := st.commitGroup([]*completion{{site: "big", found: found}}); err != nil {
				b.Fatal(err)
			}
			if n%(100*perCommit) == 0 {
				sample()
			}
		}
		queued := time.Since(start)
		// Read it all back, as a site worker would.
		start = time.Now()
		var cursor []byte
		read := 0
		for {
			es, err := st.load("big", cursor, 256)
			if err != nil {
				b.Fatal(err)
			}
			if len(es) == 0 {
				break
			}
			read += len(es)
			cursor = es[len(es)-1].key
			if read%100_000 < 256 {
				sample()
			}
		}
		if read != total {
			b.Fatalf("read back %d, want %d", read, total)
		}
		sample()
		rss := peakRSS()
		fi, _ := os.Stat(filepath.Join(filepath.Dir(st.db.Path()), stateFile))
		st.Close()
		b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(fi.Size())/(1<<20), "db-MB")
		b.Logf("queued %d URLs in %v, read back in %v; peak heap %.0f MB, peak RSS %.0f MB, state file %.0f MB",
			total, queued, time.Since(start), float64(peakHeap)/(1<<20), float64(rss)/(1<<20), float64(fi.Size())/(1<<20))
	}
}

// peakRSS is the process's high-water resident set (Linux VmHWM), 0 elsewhere.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
