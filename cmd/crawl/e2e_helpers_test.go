package main

import (
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"crawl/internal/world"
)

// disallowed reports whether robots.txt of s disallows path for everyone.
func disallowed(s world.Site, path string) bool {
	for _, p := range s.Disallow {
		if p != "" && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// capturedOnAnyHost reports whether path of s was captured on one of its hosts.
func capturedOnAnyHost(captured map[string]bool, s world.Site, path string) bool {
	for _, h := range s.Hosts {
		for _, scheme := range []string{"http://", "https://"} {
			if captured[scheme+h+path] {
				return true
			}
		}
	}
	return false
}

// allowedHeadlines is the h1-h3 text of s a polite crawl can see: all of it
// when robots.txt excludes nothing (the world lists headlines per site, not
// per page, so sites with exclusions are checked for inclusion only).
func allowedHeadlines(s world.Site) []string {
	return append([]string(nil), s.Headlines...)
}

func ioSection(f *os.File, off, n int64) io.Reader { return io.NewSectionReader(f, off, n) }

// cdxFields keys CDXJ lines of captures (those with a status) by
// filename:offset, keeping the fields both indexers must agree on.
func cdxFields(t *testing.T, lines []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range lines {
		if l == "" {
			continue
		}
		parts := strings.SplitN(l, " ", 3)
		if len(parts) != 3 {
			t.Fatalf("CDXJ line %q has no JSON", l)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(parts[2]), &m); err != nil {
			t.Fatalf("CDXJ line %q: %v", l, err)
		}
		if m["status"] == nil || m["status"] == "" {
			continue
		}
		key := str(m["filename"]) + ":" + str(m["offset"])
		out[key] = strings.Join([]string{str(m["url"]), str(m["digest"]), str(m["status"]), str(m["mime"]), str(m["length"])}, " ")
	}
	return out
}

func str(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
