package main

import (
	"strings"
	"testing"
)

// A host named on the command line that discovery never gave an address:
// nothing can be crawled, and the run says so, says what to do, and fails;
// the host's error is recorded in the archive.
func TestCrawlNoAddress(t *testing.T) {
	archive := t.TempDir()
	_, stderr, status := runCLI(t, "crawl", "--archive", archive, "http://www.nowhere.test/")
	if status != 1 || !strings.Contains(stderr, "crawl: nothing crawled: no address known for www.nowhere.test") ||
		!strings.Contains(stderr, "run 'crawl discover ZONE'") || !strings.Contains(stderr, "--connect-to www.nowhere.test:80=ADDR:80") {
		t.Errorf("status %d, stderr:\n%s", status, stderr)
	}
	stdout, stderr, status := runCLI(t, "hosts", "--archive", archive, "--json")
	if status != 0 || !strings.Contains(stdout, `"host":"www.nowhere.test"`) || !strings.Contains(stdout, `"status":"failed"`) ||
		!strings.Contains(stdout, "no discovered address") {
		t.Errorf("the host's error is not recorded: %d %s %s", status, stdout, stderr)
	}

	// With a way to the host that leads nowhere, it is the host that did
	// not answer, and the line says how.
	args := append([]string{"crawl", "--archive", t.TempDir(), "--connect-to", "www.nowhere.test:80=127.0.0.1:1", "--max-retries", "0"}, crawlTestFlags()...)
	_, stderr, status = runCLI(t, append(args, "http://www.nowhere.test/")...)
	if status != 1 || !strings.Contains(stderr, "crawl: nothing crawled: www.nowhere.test: ") || !strings.Contains(stderr, "refused") {
		t.Errorf("status %d, stderr:\n%s", status, stderr)
	}
}
