package warc

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"crawl/internal/warc/warciotest"
)

// TestParallelPairs writes exchanges from many goroutines into a writer
// that rotates often, so records are compressed ahead of the lock while
// other goroutines rotate the file and archive the same payload. Every
// record must still name its own file's warcinfo record, every pair share
// a file, one payload be archived once (the others revisits of it), every
// Location be exact, and warcio accept the files.
func TestParallelPairs(t *testing.T) {
	obs := &observed{}
	w := newTestWriter(t, WriterOptions{MaxFileSize: 4 << 10, Observer: obs})
	const goroutines, each = 8, 40
	shared := strings.Repeat("the same payload ", 50)
	big := strings.Repeat("0123456789abcdef", (packLimit+4096)/16) // past packLimit: compressed under the lock
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := fmt.Sprintf("page %d/%d %s", g, i, strings.Repeat("z", (g*each+i)%3000))
				switch {
				case i%4 == 0:
					body = shared
				case g == 0 && i == 1:
					body = big
				}
				resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				uri := fmt.Sprintf("http://example.org/%d/%d", g, i)
				if _, err := w.WriteExchange(Exchange{TargetURI: uri, Request: section(getReq), Response: section(resp)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	files, _ := filepath.Glob(filepath.Join(w.opts.Dir, "*.warc.gz"))
	if len(files) < 10 {
		t.Fatalf("%d files: the test needs rotations between the writes", len(files))
	}
	fileOf := map[string]string{} // record ID -> file
	locOf := map[string]Location{}
	var sharedResponses, sharedRevisits, total int
	for _, f := range files {
		var info string
		err := ReadFile(f, func(r Record, loc Location) error {
			id := r.Header.Get("WARC-Record-ID")
			fileOf[id] = filepath.Base(f)
			locOf[id] = loc
			switch typ := r.Header.Get("WARC-Type"); typ {
			case TypeWarcinfo:
				info = id
				return nil
			case TypeResponse, TypeRevisit:
				total++
				b, _ := io.ReadAll(r.Block)
				if strings.HasSuffix(string(b), shared) || r.Header.Get("WARC-Refers-To-Target-URI") != "" {
					if typ == TypeResponse {
						sharedResponses++
					} else {
						sharedRevisits++
					}
				}
			}
			if got := r.Header.Get("WARC-Warcinfo-ID"); got != info {
				return fmt.Errorf("%s record %s names warcinfo %s; its file's is %s", r.Header.Get("WARC-Type"), id, got, info)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
	}
	if total != goroutines*each {
		t.Fatalf("%d responses and revisits, want %d", total, goroutines*each)
	}
	if sharedResponses != 1 || sharedRevisits != goroutines*each/4-1 {
		t.Errorf("the shared payload: %d responses, %d revisits; want 1 and %d", sharedResponses, sharedRevisits, goroutines*each/4-1)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	pairs := 0
	for i, h := range obs.recs {
		id := h.Get("WARC-Record-ID")
		if h.Get("WARC-Type") != TypeWarcinfo {
			pairs++
		}
		if peer := h.Get("WARC-Concurrent-To"); peer != "" && fileOf[peer] != fileOf[id] {
			t.Errorf("%s in %s, its pair %s in %s", id, fileOf[id], peer, fileOf[peer])
		}
		if obs.locs[i] != locOf[id] {
			t.Errorf("%s: the Observer was told %+v, the file has it at %+v", id, obs.locs[i], locOf[id])
		}
	}
	if pairs != 2*goroutines*each {
		t.Errorf("the Observer saw %d records of pairs, want %d", pairs, 2*goroutines*each)
	}
	warciotest.Check(t, files...)
}

// TestObserverPayloadOffset: the Observer learns where the payload of a
// response record starts (the length of its heads, interim ones
// included), and nothing for other records.
func TestObserverPayloadOffset(t *testing.T) {
	obs := &offsets{}
	w := newTestWriter(t, WriterOptions{Observer: obs})
	head := "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n"
	if _, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/", Request: section(getReq), Response: section(head + "hello")}); err != nil {
		t.Fatal(err)
	}
	// The same payload again: a revisit, whose block is the head only.
	if _, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/again", Request: section(getReq), Response: section(head + "hello")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	want := map[string]int64{TypeWarcinfo: 0, TypeRequest: 0, TypeResponse: int64(len(head)), TypeRevisit: 0}
	if len(obs.got) != 5 {
		t.Fatalf("observed %v", obs.got)
	}
	for _, g := range obs.got {
		if g.offset != want[g.typ] {
			t.Errorf("%s record: PayloadOffset %d, want %d", g.typ, g.offset, want[g.typ])
		}
	}
}

type offsets struct {
	got []struct {
		typ    string
		offset int64
	}
}

func (o *offsets) Observe(_ Location, r Record) {
	o.got = append(o.got, struct {
		typ    string
		offset int64
	}{r.Header.Get("WARC-Type"), r.PayloadOffset})
}
