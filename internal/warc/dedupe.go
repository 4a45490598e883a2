package warc

import (
	"sync"
	"time"
)

func lookupOriginal(idx PayloadIndex, digest string) (Original, bool) {
	if oi, ok := idx.(OriginalIndex); ok {
		return oi.SeenOriginal(digest)
	}
	uri, date, ok := idx.Seen(digest)
	return Original{URI: uri, Date: date}, ok
}

func rememberOriginal(idx PayloadIndex, digest string, o Original) {
	if oi, ok := idx.(OriginalIndex); ok {
		oi.RememberOriginal(digest, o)
		return
	}
	idx.Remember(digest, o.URI, o.Date)
}

// MemoryPayloadIndex is a PayloadIndex (and OriginalIndex) in memory that
// keeps at most a fixed number of digests, forgetting the oldest first, so
// memory stays bounded however long the crawl. Forgetting costs only a
// missed revisit (a full response is written instead), never correctness.
type MemoryPayloadIndex struct {
	mu    sync.Mutex
	max   int
	m     map[string]Original
	order []string // ring of digests in insertion order
	next  int
}

// NewMemoryPayloadIndex returns an index of at most max digests (max < 1
// means DefaultDedupeSize).
func NewMemoryPayloadIndex(max int) *MemoryPayloadIndex {
	if max < 1 {
		max = DefaultDedupeSize
	}
	return &MemoryPayloadIndex{max: max, m: make(map[string]Original)}
}

func (x *MemoryPayloadIndex) SeenOriginal(digest string) (Original, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	o, ok := x.m[digest]
	return o, ok
}

func (x *MemoryPayloadIndex) RememberOriginal(digest string, o Original) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.m[digest]; ok {
		return // the first capture stays the original
	}
	if len(x.order) < x.max {
		x.order = append(x.order, digest)
	} else {
		delete(x.m, x.order[x.next])
		x.order[x.next] = digest
		x.next = (x.next + 1) % x.max
	}
	x.m[digest] = o
}

func (x *MemoryPayloadIndex) Seen(digest string) (string, time.Time, bool) {
	o, ok := x.SeenOriginal(digest)
	return o.URI, o.Date, ok
}

func (x *MemoryPayloadIndex) Remember(digest, uri string, date time.Time) {
	x.RememberOriginal(digest, Original{URI: uri, Date: date})
}
