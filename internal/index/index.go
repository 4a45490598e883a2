package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bolt "go.etcd.io/bbolt"

	"crawl/internal/archive"
	"crawl/internal/page"
	"crawl/internal/warc"
)

// Errors callers branch on.
var (
	ErrUnknownHost = errors.New("unknown host: not discovered or crawled in this archive")
	ErrEmpty       = errors.New("no index yet: the archive is empty (run crawl discover/crawl, or crawl reindex)")
	ErrLocked      = errors.New("index is locked by another crawl process and did not free in time")
	ErrEmptyQuery  = errors.New("empty query")
	ErrClosed      = errors.New("index closed")
)

// Options configure an Index. The zero value of every field means its
// default (see withDefaults).
type Options struct {
	Logger *slog.Logger
	// BatchSize updates are committed in one bbolt transaction (default
	// 1000): an update is a record, or one host line of a batched hosts
	// record. BatchDelay is the longest a record waits for its batch
	// (default 200ms).
	BatchSize  int
	BatchDelay time.Duration
	// SearchBatch full-text documents go into one bleve batch (default 500).
	SearchBatch int
	// QueueSize records may wait for the writer (default 4096); QueueBytes
	// bounds the bytes of their blocks (default 64 MiB). Observe waits when
	// either is full, so memory stays bounded whatever the crawl does.
	QueueSize  int
	QueueBytes int64
	// MaxBody bytes of a decoded response body are read for a page
	// (default page.DefaultMaxParse, as the crawler reads them, so both
	// parse the same bytes); MaxText bytes of its visible text are indexed
	// (default 1 MiB).
	MaxBody int64
	MaxText int
	// MaxMetadata bytes of a metadata record are read (default 1 MiB).
	MaxMetadata int64
	// Decoders parse pages in parallel (default GOMAXPROCS); records are
	// still applied in order.
	Decoders int
	// LockTimeout is how long an open waits for another process's lock on
	// index.db or the search index before ErrLocked (default 5s).
	LockTimeout time.Duration
	// NoSync skips fsync on commit: faster, and safe enough because the
	// index can always be rebuilt from the WARCs (Rebuild sets it).
	NoSync bool
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.BatchDelay <= 0 {
		o.BatchDelay = 200 * time.Millisecond
	}
	if o.SearchBatch <= 0 {
		o.SearchBatch = 500
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = 64 << 20
	}
	if o.MaxBody <= 0 {
		o.MaxBody = page.DefaultMaxParse
	}
	if o.MaxText <= 0 {
		o.MaxText = 1 << 20
	}
	if o.MaxMetadata <= 0 {
		o.MaxMetadata = 1 << 20
	}
	if o.Decoders <= 0 {
		o.Decoders = runtime.GOMAXPROCS(0)
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 5 * time.Second
	}
	return o
}

// Index is the writing side: it implements warc.Observer, and answers the
// same queries as Reader (after applying everything observed so far).
type Index struct {
	opts   Options
	store  *store
	search bleve.Index

	jobs      chan *job // in record order, to the writer
	work      chan *job // to the decoders, any order
	budget    *byteBudget
	done      chan struct{}
	hostCache map[string]*hostValue // owned by the writer goroutine
	private   bool                  // no other process reads it (Rebuild's temporary index)
	closeMu   sync.RWMutex          // Observe holds it shared, Close exclusively
	closed    bool

	errMu    sync.Mutex
	firstErr error        // first failed commit, returned by Close
	stats    RebuildStats // counts for Rebuild
}

// job is one observed record on its way through decode and apply. A job
// with flush set carries no record: the writer commits and closes flush.
type job struct {
	loc    warc.Location
	header warc.Header
	block  []byte
	size   int64
	result chan *entry
	flush  chan error
}

// Open opens (creating if needed) the index of an archive for writing. Only
// one writer may exist per archive: a second gets ErrLocked.
func Open(layout archive.Layout, opts Options) (*Index, error) {
	if err := os.MkdirAll(layout.Root, 0o755); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return openAt(layout.IndexPath(), layout.SearchDir(), opts.withDefaults(), false)
}

func openAt(dbPath, searchDir string, opts Options, private bool) (*Index, error) {
	// The search index is held open for the writer's lifetime; its lock
	// is what keeps a second writer out.
	si, err := openSearch(searchDir, true, false, opts.LockTimeout)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	ix := &Index{
		opts:      opts,
		store:     &store{path: dbPath, lockTimeout: opts.LockTimeout, noSync: opts.NoSync},
		search:    si,
		jobs:      make(chan *job, opts.QueueSize),
		work:      make(chan *job, opts.QueueSize),
		budget:    newByteBudget(opts.QueueBytes),
		hostCache: map[string]*hostValue{},
		private:   private,
		done:      make(chan struct{}),
	}
	// Create the file and schema now, so readers see an (empty) index.
	err = ix.store.update(func(*bolt.Tx) error { return nil })
	if rerr := ix.store.release(false); err == nil {
		err = rerr
	}
	if err != nil {
		si.Close()
		return nil, fmt.Errorf("index: %w", err)
	}
	for range opts.Decoders {
		go ix.decoder()
	}
	go ix.writer()
	return ix, nil
}

// Observe implements warc.Observer. It copies what the index needs from the
// record and returns; it waits only when the queue is full.
func (ix *Index) Observe(loc warc.Location, rec warc.Record) {
	typ := strings.ToLower(rec.Header.Get("WARC-Type"))
	var limit int64
	switch typ {
	case "response":
		limit = ix.opts.MaxBody + 64<<10 // the body, plus room for the HTTP head
	case "revisit":
		limit = 64 << 10 // headers only
	case "metadata":
		limit = ix.opts.MaxMetadata
	default:
		return
	}
	var block []byte
	if rec.Block != nil {
		// A block over limit is cut: a page still yields the text read so far.
		block = make([]byte, min(rec.Block.Size(), limit))
		if _, err := rec.Block.ReadAt(block, 0); err != nil && !errors.Is(err, io.EOF) {
			ix.opts.Logger.Warn("index: record not readable", "file", loc.File, "offset", loc.Offset, "err", err)
			return
		}
	}
	j := &job{loc: loc, header: append(warc.Header(nil), rec.Header...), block: block,
		size: int64(len(block)), result: make(chan *entry, 1)}
	ix.closeMu.RLock()
	defer ix.closeMu.RUnlock()
	if ix.closed {
		ix.opts.Logger.Warn("index: record observed after Close", "file", loc.File, "offset", loc.Offset)
		return
	}
	ix.budget.acquire(j.size)
	ix.jobs <- j
	ix.work <- j
}

func (ix *Index) decoder() {
	for j := range ix.work {
		e, err := decodeRecord(j.loc, j.header, j.block, &ix.opts)
		if err != nil {
			// e may still carry what could be read (a hosts record's good lines).
			ix.opts.Logger.Warn("index: record skipped or partly read", "file", j.loc.File, "offset", j.loc.Offset, "err", err)
			ix.countSkipped()
		}
		j.block = nil
		j.result <- e
	}
}

// Flush applies everything observed so far and returns the first error of
// a commit since Open.
func (ix *Index) Flush() error {
	ix.closeMu.RLock()
	if ix.closed {
		ix.closeMu.RUnlock()
		return ErrClosed
	}
	f := make(chan error, 1)
	ix.jobs <- &job{flush: f}
	ix.closeMu.RUnlock()
	return <-f
}

// Close applies what is queued, commits, and closes the search index.
func (ix *Index) Close() error {
	ix.closeMu.Lock()
	if ix.closed {
		ix.closeMu.Unlock()
		return nil
	}
	ix.closed = true
	close(ix.jobs)
	close(ix.work)
	ix.closeMu.Unlock()
	<-ix.done
	err := ix.err()
	if merr := mergeSearch(ix.search); merr != nil && err == nil {
		err = merr
	}
	if cerr := ix.search.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close search index: %w", cerr)
	}
	return err
}

func (ix *Index) err() error {
	ix.errMu.Lock()
	defer ix.errMu.Unlock()
	return ix.firstErr
}

func (ix *Index) countSkipped() {
	ix.errMu.Lock()
	ix.stats.Skipped++
	ix.errMu.Unlock()
}

// writer is the one goroutine that commits: it gathers decoded entries in
// record order and applies them in batches of BatchSize, or after
// BatchDelay, whichever comes first.
func (ix *Index) writer() {
	defer close(ix.done)
	var (
		batch   []*entry
		items   int   // updates in the batch: a batched hosts record counts each host
		text    int64 // bytes of page text in the batch
		timer   = time.NewTimer(time.Hour)
		pending = false
	)
	timer.Stop()
	fail := func(err error) {
		ix.opts.Logger.Error("index: commit failed", "records", len(batch), "err", err)
		ix.errMu.Lock()
		if ix.firstErr == nil {
			ix.firstErr = err
		}
		ix.errMu.Unlock()
	}
	commit := func() {
		if len(batch) > 0 {
			if err := ix.apply(batch); err != nil {
				fail(err)
			}
		}
		batch, items, text, pending = batch[:0], 0, 0, false
		timer.Stop()
		// Let go of index.db when idle, or when the lease is over; a
		// private index (Rebuild's) is held until Close.
		if !ix.private {
			if err := ix.store.release(len(ix.jobs) > 0); err != nil {
				fail(err)
			}
		}
	}
	for {
		select {
		case j, ok := <-ix.jobs:
			if !ok {
				commit()
				if err := ix.store.release(false); err != nil {
					fail(err)
				}
				return
			}
			if j.flush != nil {
				commit()
				j.flush <- ix.err()
				continue
			}
			e := <-j.result
			// The block is gone once decoded; what the batch keeps is
			// the decoded entry, bounded by batchText below.
			ix.budget.release(j.size)
			if e != nil {
				batch = append(batch, e)
				items += max(1, len(e.hostEntries))
				if e.page != nil && e.page.doc != nil {
					text += int64(len(e.page.doc.Text))
				}
			}
			if items >= ix.opts.BatchSize || text >= batchText {
				commit()
			} else if !pending {
				pending = true
				timer.Reset(ix.opts.BatchDelay)
			}
		case <-timer.C:
			commit()
		}
	}
}

// maxHostCache bounds the writer's cache of host values.
const maxHostCache = 100_000

// batchText caps the page text one batch holds in memory.
const batchText = 32 << 20

// apply commits one batch to index.db, then its pages to the search index.
func (ix *Index) apply(batch []*entry) error {
	var docs []*pageDoc
	err := ix.store.update(func(tx *bolt.Tx) error {
		var err error
		docs, err = applyEntries(tx, batch, ix.hostCache)
		return err
	})
	if err != nil {
		clear(ix.hostCache) // it may hold what the failed transaction lost
		return err
	}
	if len(ix.hostCache) > maxHostCache {
		clear(ix.hostCache)
	}
	ix.errMu.Lock()
	ix.stats.Records += int64(len(batch))
	ix.errMu.Unlock()
	for start := 0; start < len(docs); start += ix.opts.SearchBatch {
		b := ix.search.NewBatch()
		for _, d := range docs[start:min(start+ix.opts.SearchBatch, len(docs))] {
			if err := b.Index(d.URL, d); err != nil {
				return fmt.Errorf("search index %s: %w", d.URL, err)
			}
		}
		if err := ix.search.Batch(b); err != nil {
			return fmt.Errorf("search index batch: %w", err)
		}
		ix.errMu.Lock()
		ix.stats.Pages += int64(b.Size())
		ix.errMu.Unlock()
	}
	return nil
}

// applyEntries writes a batch in one transaction and returns the pages to
// add to the search index. Every write is idempotent: applying the same
// record twice changes nothing, and for each kind of host record the one
// with the latest WARC-Date wins.
//
// cache holds host values across batches: the writer is the only one that
// changes index.db, so what it last wrote is what is there.
func applyEntries(tx *bolt.Tx, batch []*entry, cache map[string]*hostValue) ([]*pageDoc, error) {
	hostsB, capB, pagesB := tx.Bucket(bucketHosts), tx.Bucket(bucketCaptures), tx.Bucket(bucketPages)
	linksB, errB, attB := tx.Bucket(bucketLinks), tx.Bucket(bucketErrors), tx.Bucket(bucketAttempts)

	hosts := map[string]*hostValue{} // touched by this batch, written at the end
	host := func(name string) (*hostValue, error) {
		if h, ok := hosts[name]; ok {
			return h, nil
		}
		h, ok := cache[name]
		if !ok {
			h = &hostValue{}
			if _, err := getJSON(hostsB, []byte(hostKey(name)), h); err != nil {
				return nil, err
			}
			h.Name = name
			cache[name] = h
		}
		hosts[name] = h
		return h, nil
	}
	docs := map[string]*pageDoc{}
	var docOrder []string

	for _, e := range batch {
		if e.attempt != nil {
			a := e.attempt
			k := key([]byte(a.Zone), []byte(a.Server))
			var old struct {
				Time time.Time `json:"time"`
			}
			found, err := getJSON(attB, k, &old)
			if err != nil {
				return nil, err
			}
			if !found || !a.Time.Before(old.Time) {
				if err := putJSON(attB, k, a); err != nil {
					return nil, err
				}
			}
			continue
		}
		for i := range e.hostEntries {
			v := &e.hostEntries[i]
			name := NormalizeHost(v.Name)
			if name == "" {
				continue // a nameless line has no key; the rest still count
			}
			h, err := host(name)
			if err != nil {
				return nil, err
			}
			h.applyEntry(v, e.date)
		}
		if e.host == "" {
			continue
		}
		h, err := host(e.host)
		if err != nil {
			return nil, err
		}
		hk := []byte(hostKey(e.host))
		switch {
		case e.hostStatus != nil:
			if !e.date.Before(h.StatusDate) {
				h.Status, h.StatusError, h.StatusDate = e.hostStatus.Status, e.hostStatus.Error, e.date
			}
		case e.fetchError != nil:
			k := key(hk, timeBytes(e.fetchError.Time), []byte(e.errorID))
			if errB.Get(k) != nil {
				continue
			}
			if err := putJSON(errB, k, e.fetchError); err != nil {
				return nil, err
			}
			h.Errors++
			if !e.fetchError.Time.Before(h.LastErrorDate) {
				h.LastError, h.LastErrorDate = e.fetchError.Error, e.fetchError.Time
			}
		case e.capture != nil:
			c := e.capture
			k := captureKey(hk, c)
			if capB.Get(k) == nil {
				if err := capB.Put(k, c.marshal()); err != nil {
					return nil, err
				}
				h.Captures++
				h.Bytes += c.Bytes
			}
			if e.page == nil {
				continue
			}
			// Headlines and the search document follow the latest
			// capture of a URL; links accumulate over all captures.
			pk := key(hk, []byte(e.page.url))
			var old pageValue
			found, err := getJSON(pagesB, pk, &old)
			if err != nil {
				return nil, err
			}
			if !found || !c.Time.Before(old.Time) {
				if err := putJSON(pagesB, pk, pageValue{Time: c.Time, Headlines: e.page.headlines}); err != nil {
					return nil, err
				}
				if d := e.page.doc; d != nil {
					if _, seen := docs[d.URL]; !seen {
						docOrder = append(docOrder, d.URL)
					}
					docs[d.URL] = d
				}
			}
			for _, l := range e.page.links {
				kind := []byte("e")
				if l.host == e.host {
					kind = []byte("i")
				}
				lk := key(hk, kind, []byte(l.to), []byte(e.page.url))
				if linksB.Get(lk) == nil {
					if err := linksB.Put(lk, []byte(l.host+"\x00"+l.tag)); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	for name, h := range hosts {
		if err := putJSON(hostsB, []byte(hostKey(name)), h); err != nil {
			return nil, err
		}
	}
	out := make([]*pageDoc, 0, len(docOrder))
	for _, u := range docOrder {
		d := docs[u]
		if h := hosts[d.Host]; h != nil {
			d.Site = h.Site
		}
		out = append(out, d)
	}
	return out, nil
}

// byteBudget bounds the bytes of queued record blocks.
type byteBudget struct {
	mu   sync.Mutex
	cond *sync.Cond
	max  int64
	used int64
}

func newByteBudget(max int64) *byteBudget {
	b := &byteBudget{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire waits until n more bytes fit (one oversized block is let through
// alone, so it cannot wait forever).
func (b *byteBudget) acquire(n int64) {
	b.mu.Lock()
	for b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	b.used += n
	b.mu.Unlock()
}

func (b *byteBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// mergeSearch merges the search index into one segment. bleve's BM25 takes
// its statistics (document count, average field length) over the segments,
// deleted documents included until they are merged away, so without this a
// live index, built in many small batches with pages replaced along the way,
// would score the same pages differently from a rebuilt one.
func mergeSearch(idx bleve.Index) error {
	adv, err := idx.Advanced()
	if err != nil {
		return fmt.Errorf("merge search index: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	if err := s.ForceMerge(context.Background(), nil); err != nil {
		return fmt.Errorf("merge search index: %w", err)
	}
	return nil
}
