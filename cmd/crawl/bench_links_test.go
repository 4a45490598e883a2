package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Pages of the huge-link benchmark: every page links to hugeLinks distinct
// URLs, each of them another such page, and the crawl stops after
// hugePages captures (--max-pages).
const (
	hugeLinks = 100_000
	hugePages = 4
)

// hugeLinkSite serves an endless site whose every page holds hugeLinks
// links to pages below it (/p/ID-0 ... /p/ID-99999), ~4 MB of HTML each.
func hugeLinkSite(served *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/p/")
		if r.URL.Path == "/" {
			id, ok = "0", true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		served.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		bw := bufio.NewWriterSize(w, 64<<10)
		fmt.Fprintf(bw, "<!doctype html><html><head><title>Page %s</title></head><body><h1>Page %s</h1>\n", id, id)
		for j := 0; j < hugeLinks; j++ {
			fmt.Fprintf(bw, "<a href=\"/p/%s-%d\">link %d</a>\n", id, j, j)
		}
		bw.WriteString("</body></html>\n")
		bw.Flush()
	})
}

// BenchmarkHugeLinkPage runs the crawl binary, index on, on pages of
// 100,000 links each (issue 9: memory must stay under 300 MB whatever one
// page holds) and reports the child's peak RSS and wall time.
//
//	go test -run '^$' -bench BenchmarkHugeLinkPage -benchtime 1x ./cmd/crawl
//	scripts/bench links
func BenchmarkHugeLinkPage(b *testing.B) {
	bin := buildCrawl(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var served atomic.Int64
	srv := &http.Server{Handler: hugeLinkSite(&served)}
	go srv.Serve(ln)
	defer srv.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for i := 0; i < b.N; i++ {
		served.Store(0)
		dir := b.TempDir()
		// --live-search on: the search index is written during the
		// crawl too (a crawl with --delay 0 would otherwise leave it for
		// later), the case that holds most.
		args := append([]string{"crawl", "--archive", dir, "--delay", "0", "--host-parallel", "4", "--live-search", "on",
			"--max-pages", strconv.Itoa(hugePages), "--connect-to", "huge.test:" + port + "=127.0.0.1:" + port},
			crawlTestFlags()...)
		cmd := exec.Command(bin, append(args, "http://huge.test:"+port+"/")...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("crawl: %v\n%s", err, outputTail(out, 2000))
		}
		ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if ru == nil {
			b.Fatal("no resource usage of the child")
		}
		rssMB := float64(ru.Maxrss) / 1024 // Linux: KiB
		b.ReportMetric(rssMB, "peak-RSS-MB")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(served.Load()), "pages")
		b.Logf("%d pages of %d links: peak RSS %.0f MB, wall %v, CPU %v (goal: under 300 MB)",
			served.Load(), hugeLinks, rssMB, wall.Round(time.Millisecond), cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
}
