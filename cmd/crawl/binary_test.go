package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// crawlTestFlags are the flags every test and benchmark that runs `crawl
// crawl` (or `crawl run`) on its own loopback servers passes besides its
// own: the one place to add one. crawl refuses loopback and the other
// special-purpose addresses unless opened.
func crawlTestFlags() []string {
	return []string{"--allow-addresses", "127.0.0.0/8"}
}

// buildCrawl builds the crawl binary into a temporary folder and returns
// its path.
func buildCrawl(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "crawl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// outputTail is the last n bytes of a command's output, for a failure.
func outputTail(b []byte, n int) []byte { return b[max(0, len(b)-n):] }
