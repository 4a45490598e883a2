package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"crawl/internal/warc"
	"crawl/internal/warc/warciotest"
	"crawl/internal/world"
)

// crawledWorld is one archive of the whole local world, made once by
// `crawl run` and shared by the end-to-end tests, which only read it.
type crawledWorld struct {
	world   *world.World
	archive string
	stderr  string
}

func crawlWorld(t *testing.T) *crawledWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := world.Start(ctx, world.Options{SlowPage: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	dir := t.TempDir()
	args := []string{"run", "--archive", dir, "--ns", w.Nameserver(), "--dns-port", strconv.Itoa(w.DNSPort()),
		"--delay", "0", "--hosts-at-once", "32", "--contact", "https://crawl.test/contact"}
	args = append(args, crawlTestFlags()...)
	for _, c := range w.ConnectTo() {
		args = append(args, "--connect-to", c)
	}
	args = append(args, w.TLD())
	_, stderr, status := runCLI(t, args...)
	if status != 0 {
		t.Fatalf("crawl run: exit status %d\n%s", status, stderr)
	}
	return &crawledWorld{world: w, archive: dir, stderr: stderr}
}

// query runs a read command with --json and decodes each line into a map.
func (c *crawledWorld) query(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	stdout, stderr, status := runCLI(t, append(append([]string{}, args...), "--json", "--archive", c.archive)...)
	if status != 0 {
		t.Fatalf("crawl %s: exit status %d: %s", strings.Join(args, " "), status, stderr)
	}
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("crawl %s: line %q is not JSON: %v", args[0], sc.Text(), err)
		}
		rows = append(rows, m)
	}
	return rows
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end crawl of the local world")
	}
	c := crawlWorld(t)
	sites := c.world.Sites()

	t.Run("hosts", func(t *testing.T) {
		rows := c.query(t, "hosts")
		byHost := map[string]map[string]any{}
		for _, r := range rows {
			byHost[r["host"].(string)] = r
		}
		for _, s := range sites {
			for _, h := range s.Hosts {
				r, ok := byHost[h]
				if !ok {
					t.Errorf("host %s of site %s missing from crawl hosts", h, s.Name)
					continue
				}
				if r["site"] != s.Name {
					t.Errorf("host %s: site %v, want %s", h, r["site"], s.Name)
				}
				if st := r["status"]; st != "done" {
					t.Errorf("host %s: status %v (error %v), want done", h, st, r["error"])
				}
			}
			// The site's IPv4 web addresses are those of its hosts together.
			addrs := map[string]bool{}
			for _, h := range s.Hosts {
				if r := byHost[h]; r != nil {
					for _, a := range r["addrs"].([]any) {
						if !strings.Contains(a.(string), ":") {
							addrs[a.(string)] = true
						}
					}
				}
			}
			var got []string
			for a := range addrs {
				got = append(got, a)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(s.Addrs, ",") {
				t.Errorf("site %s: addresses %v, want %v", s.Name, got, s.Addrs)
			}
		}
	})

	t.Run("every page captured, disallowed never requested", func(t *testing.T) {
		for _, s := range sites {
			captured := map[string]bool{}
			for _, h := range s.Hosts {
				for _, r := range c.query(t, "captures", h) {
					captured[r["url"].(string)] = true
				}
			}
			for _, p := range s.Pages {
				if disallowed(s, p) {
					continue
				}
				if !capturedOnAnyHost(captured, s, p) {
					t.Errorf("site %s: page %s not captured", s.Name, p)
				}
			}
		}
		for _, r := range c.world.Requests() {
			s, ok := c.world.Site(r.Host)
			if !ok {
				continue
			}
			if disallowed(s, r.Path) {
				t.Errorf("disallowed %s%s was requested", r.Host, r.Path)
			}
		}
	})

	t.Run("captures point at their records", func(t *testing.T) {
		rows := c.query(t, "captures", "library.edu.test")
		if len(rows) == 0 {
			t.Fatal("no captures of library.edu.test")
		}
		for _, r := range rows {
			path := filepath.Join(c.archive, "warc", r["warc"].(string))
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			off, length := int64(r["offset"].(float64)), int64(r["length"].(float64))
			rd, err := warc.NewReader(ioSection(f, off, length))
			if err != nil {
				t.Fatal(err)
			}
			rec, _, err := rd.Next()
			f.Close()
			if err != nil {
				t.Fatalf("record of %s at %s:%d: %v", r["url"], path, off, err)
			}
			if got := rec.Header.Get("WARC-Target-URI"); got != r["url"] {
				t.Errorf("record at %d has URI %s, index says %s", off, got, r["url"])
			}
		}
	})

	t.Run("EUC-KR headlines decoded", func(t *testing.T) {
		for _, s := range sites {
			if s.Charset != "euc-kr" {
				continue
			}
			// A page reachable on two hosts (apex and www) may be captured
			// on both; the world lists each path once, so count it once.
			byPath := map[string][]string{}
			for _, h := range s.Hosts {
				pathsOfHost := map[string][]string{}
				for _, r := range c.query(t, "headlines", h) {
					if tag := r["tag"].(string); tag == "h1" || tag == "h2" || tag == "h3" {
						u, err := url.Parse(r["url"].(string))
						if err != nil {
							t.Fatal(err)
						}
						pathsOfHost[u.RequestURI()] = append(pathsOfHost[u.RequestURI()], r["text"].(string))
					}
				}
				for p, hs := range pathsOfHost {
					if _, seen := byPath[p]; !seen {
						byPath[p] = hs
					}
				}
			}
			var got []string
			for _, hs := range byPath {
				got = append(got, hs...)
			}
			want := allowedHeadlines(s)
			sort.Strings(got)
			sort.Strings(want)
			if len(s.Disallow) == 0 && strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("site %s: headlines\n%q\nwant\n%q", s.Name, got, want)
			}
			known := map[string]bool{}
			for _, h := range want {
				known[h] = true
			}
			for _, h := range got {
				if !known[h] {
					t.Errorf("site %s: headline %q is not on the site (decoded wrong?)", s.Name, h)
				}
			}
			if len(got) == 0 {
				t.Errorf("site %s: no headlines", s.Name)
			}
		}
	})

	t.Run("outbound links", func(t *testing.T) {
		for _, s := range sites {
			targets := map[string]bool{}
			for _, h := range s.Hosts {
				for _, r := range c.query(t, "links", h) {
					targets[r["to"].(string)] = true
				}
			}
			for _, l := range s.Links {
				if !targets[l] {
					t.Errorf("site %s: outbound link %s missing", s.Name, l)
				}
			}
		}
	})

	t.Run("search finds Korean inside words", func(t *testing.T) {
		hits := c.query(t, "search", "서울")
		if len(hits) == 0 {
			t.Fatal("no hits for 서울")
		}
		for _, h := range hits {
			if !strings.Contains(h["snippet"].(string), "서울") {
				t.Errorf("hit %s: snippet %q lacks the query", h["url"], h["snippet"])
			}
		}
	})

	files, err := filepath.Glob(filepath.Join(c.archive, "warc", "*.warc.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no WARC files: %v", err)
	}

	t.Run("warcio reads every record and agrees with crawl cdx", func(t *testing.T) {
		warciotest.Check(t, files...)
		theirs := warciotest.CDXJ(t, files...)
		stdout, stderr, status := runCLI(t, "cdx", "--archive", c.archive)
		if status != 0 {
			t.Fatalf("crawl cdx: %s", stderr)
		}
		ours := cdxFields(t, strings.Split(strings.TrimSpace(stdout), "\n"))
		want := cdxFields(t, theirs)
		for k, v := range want {
			if ours[k] != v {
				t.Errorf("CDXJ disagrees at %s:\n crawl:  %s\n warcio: %s", k, ours[k], v)
			}
		}
		if len(ours) != len(want) {
			t.Errorf("crawl cdx has %d response/revisit lines, warcio %d", len(ours), len(want))
		}
	})

	t.Run("reindex gives the same answers", func(t *testing.T) {
		queries := [][]string{{"hosts"}, {"captures", "friend.com.test"}, {"headlines", "library.edu.test"},
			{"links", "friend.com.test"}, {"links", "--internal", "portal.gov.test"}, {"search", "서울"}, {"search", "archive"}}
		before := map[string]string{}
		for _, q := range queries {
			before[strings.Join(q, " ")] = mustJSON(t, c.query(t, q...))
		}
		if _, stderr, status := runCLI(t, "reindex", "--archive", c.archive); status != 0 {
			t.Fatalf("reindex: %s", stderr)
		}
		for _, q := range queries {
			if after := mustJSON(t, c.query(t, q...)); after != before[strings.Join(q, " ")] {
				t.Errorf("crawl %s differs after reindex:\nbefore %s\nafter  %s", strings.Join(q, " "), before[strings.Join(q, " ")], after)
			}
		}
	})
}

// TestDemo runs `crawl demo` as a newcomer would and checks that it found and
// captured the world and says so.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the whole local world")
	}
	stdout, stderr, status := runCLI(t, "demo", "--archive", t.TempDir(), "--delay", "0")
	if status != 0 {
		t.Fatalf("demo: exit status %d\n%s", status, stderr)
	}
	for _, want := range []string{
		"Found:    35 zones (7 transferred, 28 refused a transfer and were probed)",
		"from 27 sites",
		"Search \"서울\": 3 best hits",
		"Search \"stations\": 3 best hits",
		"headlines --archive",
		"serve --archive",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Captured: 0 responses") {
		t.Errorf("demo captured nothing:\n%s", stdout)
	}
	// The world's leaves refuse transfers and are probed: the normal path,
	// said plainly, logged at info level, and no problem.
	if !strings.Contains(stderr, "discover: 35 zones (7 transferred, 28 refused and probed, 0 lame, 0 from files), 70 hosts (51 web, 10 nameserver, 0 mail, 9 none), 0 records dropped, 0 problems") {
		t.Errorf("demo's discovery summary:\n%s", stderr)
	}
	if n := strings.Count(stderr, "level=WARN"); n > 0 || strings.Count(stderr, "level=INFO msg=\"transfer ") != 33 {
		t.Errorf("%d warnings, and refused transfers not logged at info level:\n%s", n, stderr)
	}
}
