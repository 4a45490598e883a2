package index

import (
	"fmt"
	"testing"
	"time"

	"crawl/internal/warc"
)

// TestRecentResponsesBounded: the last max responses are found, older ones
// are forgotten, and the memory held stays at max entries.
func TestRecentResponsesBounded(t *testing.T) {
	const max = 5
	r := newRecentResponses(max)
	date := func(i int) string { return time.Unix(int64(i), 0).UTC().Format(time.RFC3339Nano) }
	resp := func(i int) warc.Header {
		return warc.Header{{Name: "WARC-Target-URI", Value: fmt.Sprintf("http://r.test/%d", i)}, {Name: "WARC-Date", Value: date(i)}}
	}
	revisitOf := func(i int) warc.Header {
		return warc.Header{{Name: "WARC-Refers-To-Target-URI", Value: fmt.Sprintf("http://r.test/%d", i)}, {Name: "WARC-Refers-To-Date", Value: date(i)}}
	}
	const n = 13
	for i := range n {
		r.add(resp(i), warc.Location{File: "f", Offset: int64(i)})
	}
	for i := range n {
		loc, ok := r.original(revisitOf(i))
		if want := i >= n-max; ok != want || (ok && loc.Offset != int64(i)) {
			t.Errorf("response %d: found %v at %+v, want found %v", i, ok, loc, want)
		}
	}
	if len(r.locs) != max || len(r.ring) != max {
		t.Errorf("holds %d locations in a ring of %d, want %d", len(r.locs), len(r.ring), max)
	}
}
