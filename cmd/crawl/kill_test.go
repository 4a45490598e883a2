package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"crawl/internal/warc"
)

// The kill -9 acceptance test (issue 9 point 1): how many times the crawl
// is killed, and the seed that draws the moments. A failure names both; the
// same seed replays the same kills.
const (
	killCount = 20
	killSeed  = 20160920
)

// The site TestKill9Resume crawls: the apex has killOwnPages pages of its
// own and killSharedPages more that www serves byte for byte as well, so
// the second capture of each shared page is a revisit.
const (
	killOwnPages    = 1000
	killSharedPages = 200
)

var (
	killEnglish = strings.Fields("archive river harbour station library museum factory theatre garden bridge market school hospital railway university orchestra festival mountain")
	killKorean  = strings.Fields("서울 평양 도서관 박물관 대학 기차역 공장 극장 공원 다리 시장 학교 병원 철도 음악 축제 산 강")
)

// killPage is the HTML of path on the kill site; host matters only for
// "/", every other page is the same on both hosts. Words are drawn from a
// generator seeded by the path, so a page never changes between runs.
func killPage(host, path string) (string, bool) {
	var links []string
	switch {
	case path == "/" && strings.HasPrefix(host, "www."):
		links = []string{"/s/0"}
	case path == "/":
		links = []string{"/a/0", "/s/0"}
	case strings.HasPrefix(path, "/a/"):
		i, err := strconv.Atoi(path[3:])
		if err != nil || i < 0 || i >= killOwnPages || path != "/a/"+strconv.Itoa(i) {
			return "", false
		}
		for c := 3*i + 1; c <= 3*i+3 && c < killOwnPages; c++ {
			links = append(links, "/a/"+strconv.Itoa(c))
		}
		links = append(links, "/s/"+strconv.Itoa(i%killSharedPages), "/")
	case strings.HasPrefix(path, "/s/"):
		i, err := strconv.Atoi(path[3:])
		if err != nil || i < 0 || i >= killSharedPages || path != "/s/"+strconv.Itoa(i) {
			return "", false
		}
		for c := 2*i + 1; c <= 2*i+2 && c < killSharedPages; c++ {
			links = append(links, "../s/"+strconv.Itoa(c)) // relative: the same bytes on both hosts
		}
	default:
		return "", false
	}
	h := fnv.New64a()
	io.WriteString(h, path)
	if path == "/" {
		name, _, _ := strings.Cut(host, ":") // the same words whatever the port
		io.WriteString(h, name)
	}
	rnd := rand.New(rand.NewSource(int64(h.Sum64())))
	words := func(n int) string {
		w := make([]string, n)
		for i := range w {
			if rnd.Intn(3) == 0 {
				w[i] = killKorean[rnd.Intn(len(killKorean))]
			} else {
				w[i] = killEnglish[rnd.Intn(len(killEnglish))]
			}
		}
		return strings.Join(w, " ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s %s</title></head><body>\n", path, words(3))
	fmt.Fprintf(&b, "<h1>%s</h1>\n<h2>%s</h2>\n<p>%s</p>\n<ul>\n", words(4), words(3), words(60))
	for _, l := range links {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", l, words(2))
	}
	fmt.Fprintf(&b, "</ul>\n<h3>%s</h3>\n<p>%s</p>\n</body></html>\n", words(2), words(40))
	return b.String(), true
}

// killer kills the crawl from inside the web server, when the request count
// reaches the armed target: on the request's arrival (a fetch in flight)
// or just after its response went out (a record being written, the index
// behind it). No timer decides when.
type killer struct {
	mu       sync.Mutex
	requests int
	target   int // 0: disarmed
	after    bool
	proc     *os.Process
}

func (k *killer) arm(target int, after bool, proc *os.Process) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.target, k.after, k.proc = target, after, proc
}

// check counts a request (when count) and kills if the target is reached
// at this moment (after: once the response is written).
func (k *killer) check(count, after bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if count {
		k.requests++
	}
	if k.target == 0 || k.requests < k.target || k.after != after {
		return
	}
	k.proc.Kill()
	k.target = 0
}

func (k *killer) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.requests
}

func (k *killer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.check(true, false)
	body, ok := killPage(r.Host, r.URL.Path)
	if !ok {
		http.NotFound(w, r)
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	k.check(false, true)
}

// TestKill9Resume kills `crawl crawl` with SIGKILL killCount times at
// moments drawn from killSeed, reruns the same command each time, lets the
// last run finish, and then requires the live index to answer exactly what
// `crawl reindex` answers on a copy of the archive: hosts, every host's
// captures, headlines and links, and search (scores included). It also
// counts the WARC records no capture of the live index points at (lost:
// must be 0) and the URLs archived more than once (logged).
func TestKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls a 1,400-capture site through 21 runs of the binary")
	}
	bin := buildCrawl(t)
	k := &killer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: k}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	apex, www := "kill.test", "www.kill.test"
	dir := t.TempDir()
	args := []string{"crawl", "--archive", dir, "--delay", "0", "--host-parallel", "4",
		"--connect-to", apex + ":" + port + "=127.0.0.1:" + port,
		"--connect-to", www + ":" + port + "=127.0.0.1:" + port}
	args = append(args, crawlTestFlags()...)
	args = append(args, "http://"+apex+":"+port+"/", "http://"+www+":"+port+"/")

	// The moments: request counts spread over the first 90% of the pages a
	// whole crawl fetches at least once, so every kill comes before the
	// crawl can have finished, early, in the middle and late alike.
	pages := killOwnPages + 2*killSharedPages + 2
	rnd := rand.New(rand.NewSource(killSeed))
	targets := rnd.Perm(pages * 9 / 10)[:killCount]
	for i := range targets {
		targets[i]++
	}
	sort.Ints(targets)
	start := time.Now()
	var moments []string
	for i, target := range targets {
		after := rnd.Intn(2) == 0
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		k.arm(target, after, cmd.Process)
		err := cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d of %d (seed %d, at request %d): the crawl was not killed but ended (%v) after %d requests\n%s",
				i+1, killCount, killSeed, target, err, k.count(), outputTail(out.Bytes(), 2000))
		}
		moment := "on arrival"
		if after {
			moment = "after the response"
		}
		moments = append(moments, fmt.Sprintf("%d %s", target, moment))
	}
	t.Logf("seed %d: %d kills at requests %s", killSeed, killCount, strings.Join(moments, ", "))

	// The last run finishes.
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("the run after %d kills: %v\n%s", killCount, err, outputTail(out, 2000))
	}
	if open, _ := filepath.Glob(filepath.Join(dir, "warc", "*.open")); len(open) != 0 {
		t.Fatalf("open WARC files after the last run: %v", open)
	}
	t.Logf("%d requests served in all; the %d runs took %v", k.count(), killCount+1, time.Since(start).Round(time.Millisecond))
	start = time.Now()

	// The same questions to the live index and to one rebuilt from a copy.
	copyDir := t.TempDir()
	copyTree(t, dir, copyDir)
	if out, err := exec.Command(bin, "reindex", "--archive", copyDir).CombinedOutput(); err != nil {
		t.Fatalf("reindex of the copy: %v\n%s", err, out)
	}
	// Search hits are compared whole, snippets included, except for queries
	// of Korean words of three syllables or more: the analyzer gives such a
	// word and its bigrams at one offset, and which of them bleve's
	// highlighter marks, and so which fragment it picks, changes from one
	// query to the next on the same index. Their snippets are left out;
	// their scores, titles and URLs are compared.
	snippets := map[string]bool{}
	ask := func(archive string, q ...string) []string {
		cmd := exec.Command(bin, append(append([]string{}, q...), "--json", "--archive", archive)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("crawl %s on %s: %v\n%s", strings.Join(q, " "), archive, err, stderr.Bytes())
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) == 1 && lines[0] == "" {
			lines = nil
		}
		if q[0] == "search" && !snippets[q[len(q)-1]] {
			for i, l := range lines {
				lines[i] = withoutSnippet(t, l)
			}
		}
		sort.Strings(lines)
		return lines
	}
	queries := [][]string{{"hosts"}}
	for _, h := range []string{apex, www} {
		queries = append(queries, []string{"captures", h}, []string{"headlines", h},
			[]string{"links", h}, []string{"links", "--internal", h})
	}
	for q, snippet := range map[string]bool{"서울": true, "도서관 박물관": false, "archive": true, "river station": true, "평양 harbour": true, "title:museum": true} {
		queries = append(queries, []string{"search", "--limit", "10000", q})
		snippets[q] = snippet
	}
	t.Logf("copy and reindex took %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for _, q := range queries {
		live, rebuilt := ask(dir, q...), ask(copyDir, q...)
		if len(live) == 0 && len(rebuilt) == 0 && !(q[0] == "links" && q[1] != "--internal") { // no link leaves the site
			t.Errorf("crawl %s: no answer from either index", strings.Join(q, " "))
		}
		if onlyLive, onlyRebuilt := minusLines(live, rebuilt), minusLines(rebuilt, live); len(onlyLive)+len(onlyRebuilt) > 0 {
			t.Errorf("crawl %s: the live index differs from reindex: %d lines vs %d; %d only live, %d only after reindex\n only live:    %s\n only reindex: %s",
				strings.Join(q, " "), len(live), len(rebuilt), len(onlyLive), len(onlyRebuilt),
				strings.Join(clipLines(onlyLive, 2, 160), "\n               "), strings.Join(clipLines(onlyRebuilt, 2, 160), "\n               "))
		}
	}
	t.Logf("%d queries to both indexes took %v", len(queries), time.Since(start).Round(time.Millisecond))

	// Every response and revisit record against the live index's captures.
	indexed := map[string]bool{}
	for _, h := range []string{apex, www} {
		for _, l := range ask(dir, "captures", h) {
			var c struct {
				WARC   string `json:"warc"`
				Offset int64  `json:"offset"`
			}
			if err := json.Unmarshal([]byte(l), &c); err != nil {
				t.Fatalf("captures line %q: %v", l, err)
			}
			indexed[c.WARC+":"+strconv.FormatInt(c.Offset, 10)] = true
		}
	}
	perURL := map[string]int{}
	var records, lost int
	var lostExamples []string
	files, _ := filepath.Glob(filepath.Join(dir, "warc", "*.warc.gz"))
	for _, f := range files {
		err := warc.ReadFile(f, func(rec warc.Record, loc warc.Location) error {
			if typ := rec.Header.Get("WARC-Type"); typ != "response" && typ != "revisit" {
				return nil
			}
			records++
			uri := rec.Header.Get("WARC-Target-URI")
			perURL[uri]++
			if !indexed[loc.File+":"+strconv.FormatInt(loc.Offset, 10)] {
				lost++
				if len(lostExamples) < 5 {
					lostExamples = append(lostExamples, fmt.Sprintf("%s (%s:%d)", uri, loc.File, loc.Offset))
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	var dupRecords, dupURLs, robots, pageURLs int
	for u, n := range perURL {
		if strings.HasSuffix(u, "/robots.txt") {
			robots += n
			continue
		}
		pageURLs++
		if n > 1 {
			dupURLs++
			dupRecords += n - 1
		}
	}
	t.Logf("%d kills (seed %d): %d response/revisit records of %d URLs in %d WARC files; duplicates: %d extra records of %d URLs (robots.txt aside: %d records); captures lost (records missing from the live index): %d",
		killCount, killSeed, records, len(perURL), len(files), dupRecords, dupURLs, robots, lost)
	if lost != 0 {
		t.Errorf("%d captures in the WARC files are missing from the live index after %d kills (seed %d), e.g. %s",
			lost, killCount, killSeed, strings.Join(lostExamples, ", "))
	}
	if pageURLs != pages {
		t.Errorf("%d page URLs archived, want the site's %d", pageURLs, pages)
	}
}

// withoutSnippet drops the snippet of a search hit (a JSON line).
func withoutSnippet(t *testing.T, line string) string {
	t.Helper()
	var hit map[string]any
	if err := json.Unmarshal([]byte(line), &hit); err != nil {
		t.Fatalf("search line %q: %v", line, err)
	}
	delete(hit, "snippet")
	b, err := json.Marshal(hit)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// copyTree copies the regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy the archive: %v", err)
	}
}

// minusLines returns the lines of a (sorted) not in b (sorted), with
// multiplicity.
func minusLines(a, b []string) []string {
	var out []string
	i := 0
	for _, l := range a {
		for i < len(b) && b[i] < l {
			i++
		}
		if i < len(b) && b[i] == l {
			i++
			continue
		}
		out = append(out, l)
	}
	return out
}

// clipLines returns the first n lines of s, each cut to width bytes.
func clipLines(s []string, n, width int) []string {
	out := slices.Clone(s[:min(n, len(s))])
	for i, l := range out {
		if len(l) > width {
			cut := width
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			out[i] = l[:cut] + "…"
		}
	}
	return out
}
