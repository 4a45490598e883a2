package discover

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"crawl/internal/zonegen"
)

// peakHeap samples the heap in use until stop is closed.
func peakHeap(stop <-chan struct{}) *atomic.Uint64 {
	var peak atomic.Uint64
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return &peak
}

// BenchmarkZoneFile turns a generated zone of 1,000,000 delegations with
// glue into hosts, offline. Run it on one core:
//
//	go test -run '^$' -bench ZoneFile -benchmem -cpu 1 ./internal/discover
func BenchmarkZoneFile(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "big.zone")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriterSize(f, 1<<20)
			if err := zonegen.Write(w, "test", n); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			runtime.GC()
			stop := make(chan struct{})
			peak := peakHeap(stop)
			var before, after syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			b.ResetTimer()
			for b.Loop() {
				hosts := 0
				cfg := Config{Offline: true, OnHost: func(Host) { hosts++ }}
				if _, err := ReadZoneFiles(context.Background(), cfg, path); err != nil {
					b.Fatal(err)
				}
				if hosts != n+4 {
					b.Fatalf("%d hosts, want %d", hosts, n+4)
				}
			}
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			close(stop)
			// The machine may be shared: CPU time says more than wall time.
			cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
			b.ReportMetric(cpu.Seconds(), "cpu-s/op")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(after.Maxrss)/1024, "maxrss-MB")
		})
	}
}

var benchSizes = func() []int {
	if s := os.Getenv("DISCOVER_BENCH_N"); s != "" {
		var n int
		fmt.Sscan(s, &n)
		return []int{n}
	}
	return []int{1_000_000}
}()

// BenchmarkLiveTree discovers a tree of 1 + 8 + 32 zones whose servers take
// 20 ms per answer; the leaves refuse transfers and are probed. With
// concurrency the time is that of the slowest chain (about a dozen round
// trips), not the sum over all zones (about 250):
//
//	go test -run '^$' -bench LiveTree ./internal/discover
func BenchmarkLiveTree(b *testing.B) {
	const delay = 20 * time.Millisecond
	port := freePort(b)
	parent := fmt.Sprintf("$ORIGIN t.\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 127.0.20.1\n")
	for i := range 8 {
		mid := fmt.Sprintf("c%d.t", i)
		ip := fmt.Sprintf("127.0.20.%d", 10+i)
		parent += fmt.Sprintf("c%d NS ns.c%d\nns.c%d A %s\n", i, i, i, ip)
		text := fmt.Sprintf("$ORIGIN %s.\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A %s\n", mid, ip)
		for j := range 4 {
			leaf := fmt.Sprintf("l%d.%s", j, mid)
			lip := fmt.Sprintf("127.0.21.%d", i*4+j+1)
			text += fmt.Sprintf("l%d NS ns.l%d\nns.l%d A %s\n", j, j, j, lip)
			s := startServer(b, lip, port, &testZone{apex: leaf, axfr: axfrRefuse,
				rrs: parseZoneText(b, leaf, childZoneText(leaf, lip, j+1, ""))})
			s.delay = delay
		}
		s := startServer(b, ip, port, &testZone{apex: mid, rrs: parseZoneText(b, mid, text)})
		s.delay = delay
	}
	s := startServer(b, "127.0.20.1", port, &testZone{apex: "t", rrs: parseZoneText(b, "t", parent)})
	s.delay = delay
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			for b.Loop() {
				hosts := 0
				cfg := Config{Nameservers: []string{fmt.Sprintf("127.0.20.1:%d", port)}, Port: port,
					Concurrency: conc, OnHost: func(h Host) {
						if h.Role == RoleWeb {
							hosts++
						}
					}}
				if _, err := Discover(context.Background(), cfg, "t"); err != nil {
					b.Fatal(err)
				}
				if hosts != 32 {
					b.Fatalf("%d web hosts, want 32", hosts)
				}
			}
		})
	}
}

// BenchmarkTransfer streams a 175,000-record zone (50,000 delegations) by AXFR from the
// in-process server into hosts and a saved master file.
//
//	go test -run '^$' -bench Transfer -benchmem ./internal/discover
func BenchmarkTransfer(b *testing.B) {
	const n = 50_000
	var text strings.Builder
	if err := zonegen.Write(&text, "big", n); err != nil {
		b.Fatal(err)
	}
	rrs := parseZoneText(b, "big", text.String())
	port := freePort(b)
	startServer(b, "127.0.22.1", port, &testZone{apex: "big", rrs: rrs, chunk: 200})
	dir := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		hosts := 0
		cfg := Config{Nameservers: []string{fmt.Sprintf("127.0.22.1:%d", port)}, Depth: -1, ZoneDir: dir,
			OnHost: func(Host) { hosts++ }}
		if _, err := Discover(context.Background(), cfg, "big"); err != nil {
			b.Fatal(err)
		}
		if hosts != n+4 {
			b.Fatalf("%d hosts", hosts)
		}
	}
	b.ReportMetric(float64(len(rrs)), "records/op")
}
