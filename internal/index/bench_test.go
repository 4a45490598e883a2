package index

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// BenchmarkCaptureInserts: captures through Observe, the decoders and the
// batching writer (fsync on), with 64 hosts crawled at a time (as a crawl
// does) or round-robin over 5,000 hosts (worst case: every commit touches
// pages all over the tree). Reports captures/s.
func BenchmarkCaptureInserts(b *testing.B) {
	for _, hosts := range []int{64, 5000} {
		for _, batch := range []int{1000, 5000} {
			b.Run(fmt.Sprintf("hosts=%d/batch=%d", hosts, batch), func(b *testing.B) {
				benchInserts(b, hosts, Options{BatchSize: batch, NoSync: os.Getenv("NOSYNC") != ""})
			})
		}
	}
}

func benchInserts(b *testing.B, hosts int, opts Options) {
	layout := archive.Layout{Root: b.TempDir()}
	ix, err := Open(layout, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	recs := make([]warc.Record, 10000)
	for i := range recs {
		recs[i] = captureRecord(fmt.Sprintf("http://h%d.bench.test/img/%d.png", i%hosts, i), t0.Add(time.Duration(i)*time.Second), 200, "image/png", "PNG")
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		r := recs[i%len(recs)]
		// A distinct record each time (URL and ID), as in a crawl.
		r.Header = slices.Clone(r.Header)
		r.Header[1].Value = fmt.Sprintf("<urn:x:%d>", i)
		r.Header[3].Value += "?" + strconv.Itoa(i)
		r.Block.Seek(0, 0)
		ix.Observe(warc.Location{File: "bench.warc.gz", Offset: int64(i) * 300, Length: 300}, r)
	}
	if err := ix.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "captures/s")
	// The machine is shared: captures per CPU-second of this process says
	// what the code costs whatever else runs.
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "captures/cpu-s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListCaptures: one host's 1,000 captures through a Reader (open
// index.db read-only, range scan, decode, close), and the scan alone.
func BenchmarkListCaptures(b *testing.B) {
	layout := archive.Layout{Root: b.TempDir()}
	ix, err := Open(layout, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for h := range 100 {
		for i := range 1000 {
			ix.Observe(warc.Location{File: "bench.warc.gz", Offset: int64(i) * 300, Length: 300},
				captureRecord(fmt.Sprintf("http://h%d.bench.test/page/%d", h, i), t0.Add(time.Duration(i)*time.Second), 200, "image/png", "x"))
		}
	}
	if err := ix.Close(); err != nil {
		b.Fatal(err)
	}
	r, err := OpenReader(layout)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	b.Run("reader", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := r.Captures(ctx, "h42.bench.test")
			if err != nil || len(rows) != 1000 {
				b.Fatal(len(rows), err)
			}
		}
	})
	// The same with index.db held open (as the writer's own process
	// queries it): the range scan and decoding alone.
	b.Run("open-db", func(b *testing.B) {
		s := &store{path: layout.IndexPath(), lockTimeout: time.Second}
		db, err := s.open(true)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		s.db = db
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rows, err := captures(ctx, s, "h42.bench.test")
			if err != nil || len(rows) != 1000 {
				b.Fatal(len(rows), err)
			}
		}
	})
}

// The generated pages draw words from a Zipf distribution over a
// vocabulary of 40,000 made-up words (as real text has, rather than a few
// dozen words that every page repeats): English-like words from Latin
// syllables and Korean stems of 2-4 Hangul syllables that take particles,
// as Korean text does. A handful of real words are planted at known ranks so
// the probes mean something.
const benchVocab = 40000

var (
	benchLatin     = strings.Fields("ka lo mi ne ru sa to vi pe da ri mo lu ba se ti no gra ster ing tion er al")
	benchHangul    = []rune("서울부산인천대구광주정부학교도서관시장병원축제회의날씨경제문화체육여행음식건강과학역사음악극장정원다리기차역박물관항구산강마을")
	benchParticles = []string{"", "", "", "에서", "의", "은", "는", "이", "가", "을", "를", "에", "으로", "와"}
	benchPlanted   = map[int]string{5: "서울", 40: "library", 90: "도서관", 300: "council", 301: "city",
		1000: "부산광역시", 2000: "박물관", 3000: "harbour", 5000: "running", 8000: "budget", 12000: "정부"}
)

type benchWords struct {
	words  []string
	korean []bool
}

func newBenchWords(rng *rand.Rand) *benchWords {
	w := &benchWords{words: make([]string, benchVocab), korean: make([]bool, benchVocab)}
	for i := range w.words {
		var b strings.Builder
		if i%3 == 0 {
			w.korean[i] = true
			for range 2 + rng.IntN(3) {
				b.WriteRune(benchHangul[rng.IntN(len(benchHangul))])
			}
		} else {
			for range 2 + rng.IntN(3) {
				b.WriteString(benchLatin[rng.IntN(len(benchLatin))])
			}
		}
		w.words[i] = b.String()
	}
	for rank, word := range benchPlanted {
		w.words[rank] = word
		w.korean[rank] = word[0] >= 0x80
	}
	return w
}

func benchPage(rng *rand.Rand, zipf *rand.Zipf, w *benchWords, i int) string {
	var b strings.Builder
	word := func() string {
		n := int(zipf.Uint64())
		if w.korean[n] {
			return w.words[n] + benchParticles[rng.IntN(len(benchParticles))]
		}
		return w.words[n]
	}
	fmt.Fprintf(&b, "<html><head><title>%s %s %d</title></head><body><h1>%s %s</h1>", word(), word(), i, word(), word())
	for p := 0; p < 6; p++ {
		b.WriteString("<p>")
		for range 50 {
			b.WriteString(word())
			b.WriteByte(' ')
		}
		b.WriteString("</p>")
	}
	fmt.Fprintf(&b, `<a href="/p%d">next</a></body></html>`, i+1)
	return b.String()
}

// BenchmarkSearch: CRAWL_BENCH_PAGES (default 100,000) generated pages of
// mixed Korean and English (about 2 KB of text each) through Observe, then
// queries. Reports pages/s and index size, then query p50/p95 in ms.
// Heavy: run it alone, e.g.
//
//	go test -run '^$' -bench BenchmarkSearch -benchtime 1x ./internal/index/
func BenchmarkSearch(b *testing.B) {
	pages := 100000
	if v, err := strconv.Atoi(os.Getenv("CRAWL_BENCH_PAGES")); err == nil && v > 0 {
		pages = v
	}
	// CRAWL_BENCH_DIR keeps the built index for later runs (which then
	// only query).
	layout := archive.Layout{Root: os.Getenv("CRAWL_BENCH_DIR")}
	if layout.Root == "" {
		layout.Root = b.TempDir()
	}
	if _, err := os.Stat(layout.IndexPath()); err == nil {
		benchQueries(b, layout, 0, 0, 0)
		return
	}
	ix, err := Open(layout, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Through a real WARC writer, as a crawl does: the search index reads
	// back from the files whatever its queue could not take.
	if err := layout.Create(); err != nil {
		b.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: layout.WARCDir(), Observer: ix})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.07, 2, benchVocab-1)
	words := newBenchWords(rng)
	start := time.Now()
	var textBytes int64
	for i := range pages {
		body := benchPage(rng, zipf, words, i)
		textBytes += int64(len(body))
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		u := fmt.Sprintf("http://h%d.bench.test/p%d", i%1000, i)
		req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		if _, err := w.WriteExchange(warc.Exchange{TargetURI: u, IP: "127.0.0.1", Date: t0.Add(time.Duration(i) * time.Second),
			Request:  io.NewSectionReader(strings.NewReader(req), 0, int64(len(req))),
			Response: io.NewSectionReader(strings.NewReader(resp), 0, int64(len(resp)))}); err != nil {
			b.Fatal(err)
		}
	}
	crawled := time.Since(start)
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := ix.FinishSearch(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("records written (the crawl's side) in %s; the search index took %s more to catch up",
		crawled.Round(time.Millisecond), (time.Since(start) - crawled).Round(time.Millisecond))
	elapsed := time.Since(start)
	size := dirSize(layout.SearchDir())
	dbSize := dirSize(layout.IndexPath())
	b.Logf("indexed %d pages (%.1f MB of HTML) in %s: %.0f pages/s; search index %.1f MB (%.0f bytes/page, %.2fx the HTML), index.db %.1f MB",
		pages, float64(textBytes)/1e6, elapsed.Round(time.Millisecond), float64(pages)/elapsed.Seconds(), float64(size)/1e6,
		float64(size)/float64(pages), float64(size)/float64(textBytes), float64(dbSize)/1e6)

	benchQueries(b, layout, pages, elapsed, size)
}

func benchQueries(b *testing.B, layout archive.Layout, pages int, elapsed time.Duration, size int64) {
	r, err := OpenReader(layout)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	// Probes from the head of the distribution (서울 is on about one page
	// in two) to the tail, Korean inside longer words, phrases, filters.
	queries := []string{"서울", "부산광역시", "도서관에서", "library", "running", "city council", `"city council"`,
		"+budget -library", "title:서울", "박물관 harbour", "host:h7.bench.test", "박물관", "harbour~1", "정부의 budget",
		"+서울 +library", "광역시", "도서관", "running budget council"}
	if hits, err := r.Search(context.Background(), SearchRequest{Query: "부산광역시"}); err != nil || len(hits) == 0 {
		b.Fatalf("the planted 부산광역시 is not found: %v", err)
	}
	ctx := context.Background()
	if _, err := r.Search(ctx, SearchRequest{Query: "warm up"}); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < max(b.N, 200); i++ {
		q := queries[i%len(queries)]
		t := time.Now()
		hits, err := r.Search(ctx, SearchRequest{Query: q, Limit: 20})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
		if testing.Verbose() && i < len(queries) {
			b.Logf("%-20s %6.1f ms  %d hits", q, float64(time.Since(t).Microseconds())/1000, len(hits))
		}
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if pages > 0 {
		b.ReportMetric(float64(pages)/elapsed.Seconds(), "pages/s")
		b.ReportMetric(float64(size)/1e6, "index-MB")
	}
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "p95-ms")
}

func dirSize(path string) int64 {
	var n int64
	filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkSearchParts splits a query's time on an index built by
// BenchmarkSearch (CRAWL_BENCH_DIR): opening the search index read-only,
// and the query on an open index.
func BenchmarkSearchParts(b *testing.B) {
	dir := os.Getenv("CRAWL_BENCH_DIR")
	if dir == "" {
		b.Skip("set CRAWL_BENCH_DIR to an index built by BenchmarkSearch")
	}
	layout := archive.Layout{Root: dir}
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			si, err := openSearch(layout.SearchDir(), false, true, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			si.Close()
		}
	})
	si, err := openSearch(layout.SearchDir(), false, true, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer si.Close()
	for _, q := range []string{"서울", "도서관", "library", "부산광역시"} {
		b.Run("query="+q, func(b *testing.B) {
			for b.Loop() {
				if _, err := search(context.Background(), si, SearchRequest{Query: q}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRebuild rebuilds the index of the archive in CRAWL_BENCH_DIR
// (built by BenchmarkSearch) into a copy, and reports pages/s and the
// CPU-seconds it took.
func BenchmarkRebuild(b *testing.B) {
	dir := os.Getenv("CRAWL_BENCH_DIR")
	if dir == "" {
		b.Skip("set CRAWL_BENCH_DIR to an archive built by BenchmarkSearch")
	}
	for b.Loop() {
		b.StopTimer()
		tmp := archive.Layout{Root: b.TempDir()}
		if err := os.Symlink(archive.Layout{Root: dir}.WARCDir(), tmp.WARCDir()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		st, err := Rebuild(context.Background(), tmp, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Pages)/time.Since(start).Seconds(), "pages/s")
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s")
		b.ReportMetric(float64(dirSize(tmp.SearchDir()))/float64(st.Pages), "search-bytes/page")
	}
}
