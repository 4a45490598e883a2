package warc

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Run side by side:
//
//	go test -run XXX -bench 'WriteExchange|GzipOnly' -benchmem ./internal/warc
//
// BenchmarkWriteExchange writes request+response pairs through the Writer
// (two digest passes, one gzip member per record, a real file);
// BenchmarkGzipOnly gzips the same bytes at the same level into a file, one
// member per message. Their MB/s ratio is the writer's overhead.

// noDedupe makes every exchange a full response, so repeated bodies are not
// turned into revisits during the benchmark.
type noDedupe struct{}

func (noDedupe) Seen(string) (string, time.Time, bool) { return "", time.Time{}, false }
func (noDedupe) Remember(string, string, time.Time)    {}

var benchSizes = []struct {
	name string
	size int
	kind string
}{
	{"html-30KB", 30 << 10, "html"},
	{"image-200KB", 200 << 10, "image"},
	{"body-20MB", 20 << 20, "html"},
}

// benchExchange builds a realistic request and response: HTML is varied
// compressible markup, an image is incompressible bytes.
func benchExchange(size int, kind string) (req, resp []byte) {
	rng := rand.New(rand.NewSource(1))
	body := make([]byte, 0, size)
	if kind == "image" {
		body = body[:size]
		rng.Read(body)
	} else {
		words := strings.Fields("the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their 북한 평양 조선 소식 로동신문")
		for len(body) < size {
			body = append(body, fmt.Sprintf("<p class=\"c%d\">", rng.Intn(50))...)
			for i := 0; i < 12 && len(body) < size; i++ {
				body = append(body, words[rng.Intn(len(words))]...)
				body = append(body, ' ')
			}
			body = append(body, "</p>\n"...)
		}
		body = body[:size]
	}
	ct := "text/html; charset=utf-8"
	if kind == "image" {
		ct = "image/jpeg"
	}
	req = []byte("GET /page HTTP/1.1\r\nHost: www.example\r\nUser-Agent: crawl/1.0\r\nAccept-Encoding: gzip\r\n\r\n")
	resp = append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, len(body))), body...)
	return req, resp
}

func BenchmarkWriteExchange(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			req, resp := benchExchange(s.size, s.kind)
			w, err := NewWriter(WriterOptions{Dir: b.TempDir(), MaxFileSize: 256 << 20, Dedupe: noDedupe{}, Info: Info{Hostname: "bench"}})
			if err != nil {
				b.Fatal(err)
			}
			ex := Exchange{TargetURI: "http://www.example/page", IP: "127.0.0.2", Date: time.Now(),
				Request:  io.NewSectionReader(strings.NewReader(string(req)), 0, int64(len(req))),
				Response: io.NewSectionReader(strings.NewReader(string(resp)), 0, int64(len(resp)))}
			if _, err := w.WriteExchange(ex); err != nil { // open the file outside the timing
				b.Fatal(err)
			}
			b.SetBytes(int64(len(req) + len(resp)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := w.WriteExchange(ex); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			w.Close()
		})
	}
}

// BenchmarkWriteExchangeParallel writes from GOMAXPROCS goroutines into
// one Writer, as a crawl of many hosts does: the records are compressed
// outside the file lock, so the Writer's MB/s grows with the cores.
func BenchmarkWriteExchangeParallel(b *testing.B) {
	for _, s := range benchSizes[:2] {
		b.Run(s.name, func(b *testing.B) {
			req, resp := benchExchange(s.size, s.kind)
			w, err := NewWriter(WriterOptions{Dir: b.TempDir(), MaxFileSize: 256 << 20, Dedupe: noDedupe{}, Info: Info{Hostname: "bench"}})
			if err != nil {
				b.Fatal(err)
			}
			ex := Exchange{TargetURI: "http://www.example/page", IP: "127.0.0.2", Date: time.Now(),
				Request:  io.NewSectionReader(strings.NewReader(string(req)), 0, int64(len(req))),
				Response: io.NewSectionReader(strings.NewReader(string(resp)), 0, int64(len(resp)))}
			if _, err := w.WriteExchange(ex); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(req) + len(resp)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := w.WriteExchange(ex); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			w.Close()
		})
	}
}

func BenchmarkGzipOnly(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			req, resp := benchExchange(s.size, s.kind)
			f, err := os.Create(filepath.Join(b.TempDir(), "plain.gz"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			bw := bufio.NewWriterSize(f, 64<<10)
			zw, _ := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
			var written int64
			b.SetBytes(int64(len(req) + len(resp)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, msg := range [][]byte{req, resp} {
					zw.Reset(bw)
					zw.Write(msg)
					zw.Close()
				}
				bw.Flush()
				if written += int64(len(resp)); written > 256<<20 { // same file size bound as the writer
					f.Seek(0, io.SeekStart)
					f.Truncate(0)
					written = 0
				}
			}
		})
	}
}

// BenchmarkWriterVsGzip measures both side by side in one loop, alternating
// a WriteExchange and a plain gzip of the same bytes at the same level, so
// that load from other processes hits both alike. It reports each one's
// MB/s and warc/gzip, the writer's speed as a fraction of plain gzip's.
func BenchmarkWriterVsGzip(b *testing.B) {
	for _, s := range benchSizes[:2] {
		b.Run(s.name, func(b *testing.B) {
			req, resp := benchExchange(s.size, s.kind)
			dir := b.TempDir()
			w, err := NewWriter(WriterOptions{Dir: dir, MaxFileSize: 256 << 20, Dedupe: noDedupe{}, Info: Info{Hostname: "bench"}})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			ex := Exchange{TargetURI: "http://www.example/page", IP: "127.0.0.2", Date: time.Now(),
				Request:  io.NewSectionReader(strings.NewReader(string(req)), 0, int64(len(req))),
				Response: io.NewSectionReader(strings.NewReader(string(resp)), 0, int64(len(resp)))}
			if _, err := w.WriteExchange(ex); err != nil {
				b.Fatal(err)
			}
			f, err := os.Create(filepath.Join(dir, "plain.gz"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			bw := bufio.NewWriterSize(f, 64<<10)
			zw, _ := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
			var tWarc, tGzip time.Duration
			var written int64
			n := int64(len(req) + len(resp))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := w.WriteExchange(ex); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				for _, msg := range [][]byte{req, resp} {
					zw.Reset(bw)
					zw.Write(msg)
					zw.Close()
				}
				bw.Flush()
				t2 := time.Now()
				tWarc += t1.Sub(t0)
				tGzip += t2.Sub(t1)
				if written += n; written > 256<<20 {
					f.Seek(0, io.SeekStart)
					f.Truncate(0)
					written = 0
				}
			}
			mb := float64(n) * float64(b.N) / 1e6
			b.ReportMetric(mb/tWarc.Seconds(), "warc-MB/s")
			b.ReportMetric(mb/tGzip.Seconds(), "gzip-MB/s")
			b.ReportMetric(tGzip.Seconds()/tWarc.Seconds(), "warc/gzip")
		})
	}
}
