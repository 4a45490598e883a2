package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// captureRecord builds a response record the way warc.Writer would hand it
// to the Observer.
func captureRecord(url string, date time.Time, status int, ctype, body string) warc.Record {
	block := fmt.Sprintf("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", status, ctype, len(body), body)
	return warc.Record{
		Header: warc.Header{
			{Name: "WARC-Type", Value: "response"},
			{Name: "WARC-Record-ID", Value: fmt.Sprintf("<urn:x:%s@%d>", url, date.UnixNano())},
			{Name: "WARC-Date", Value: date.UTC().Format(time.RFC3339Nano)},
			{Name: "WARC-Target-URI", Value: url},
			{Name: "WARC-Payload-Digest", Value: "sha1:AAAA"},
			{Name: "Content-Type", Value: "application/http;msgtype=response"},
			{Name: "Content-Length", Value: fmt.Sprint(len(block))},
		},
		Block: io.NewSectionReader(strings.NewReader(block), 0, int64(len(block))),
	}
}

// TestHelperReader is not a test: TestReadWhileCrawling runs the test
// binary again with CRAWL_INDEX_READ set, as a second process that lists
// hosts while the first one writes.
func TestHelperReader(t *testing.T) {
	root := os.Getenv("CRAWL_INDEX_READ")
	if root == "" {
		t.Skip("helper process only")
	}
	r, err := OpenReaderOptions(archive.Layout{Root: root}, Options{LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	defer r.Close()
	rows, err := r.Hosts(context.Background())
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	caps, err := r.Captures(context.Background(), "busy.test")
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	out, _ := json.Marshal(map[string]int{"hosts": len(rows), "captures": len(caps)})
	fmt.Println("RESULT", string(out))
}

// TestReadWhileCrawling: `crawl hosts` in another process works while a
// crawl keeps committing batches.
func TestReadWhileCrawling(t *testing.T) {
	layout := archive.Layout{Root: t.TempDir()}
	opts := testOptions()
	opts.BatchSize = 50
	ix, err := Open(layout, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	// Something is committed before the first read.
	ix.Observe(warc.Location{File: "a.warc.gz"}, captureRecord("http://busy.test/0", t0, 200, "image/png", "x"))
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the crawl: records keep coming
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ix.Observe(warc.Location{File: "a.warc.gz", Offset: int64(i) * 100, Length: 100},
				captureRecord(fmt.Sprintf("http://busy.test/%d", i), t0.Add(time.Duration(i)*time.Second), 200, "image/png", "x"))
			if i%10 == 0 {
				time.Sleep(time.Millisecond) // a crawl is slower than a loop
			}
		}
	}()
	last := 0
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperReader$", "-test.v")
		cmd.Env = append(os.Environ(), "CRAWL_INDEX_READ="+layout.Root)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("reader process: %v\n%s", err, out)
		}
		var res struct{ Hosts, Captures int }
		_, after, ok := strings.Cut(string(out), "RESULT ")
		if !ok {
			t.Fatalf("round %d: reader process failed while the writer ran:\n%s", round, out)
		}
		if err := json.Unmarshal([]byte(strings.SplitN(after, "\n", 2)[0]), &res); err != nil {
			t.Fatal(err)
		}
		if res.Hosts != 1 || res.Captures < 1 || res.Captures < last {
			t.Errorf("round %d: reader saw %+v (previously %d captures)", round, res, last)
		}
		last = res.Captures
	}
	close(stop)
	wg.Wait()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("reader processes saw up to %d captures while the writer ran", last)
}
