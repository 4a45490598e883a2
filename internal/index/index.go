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

	bolt "go.etcd.io/bbolt"

	"crawl/internal/archive"
	"crawl/internal/httpmsg"
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
	ErrSchema      = errors.New("index written by another version of crawl")
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
	// SearchQueueBytes bounds the page text waiting for the search index
	// (default 32 MiB). When it is full the crawl does not wait: the search
	// index reads those pages back from the WARC files later.
	SearchQueueBytes int64
	// Parse are the limits of the page parse (body bytes read, text, links,
	// headlines kept); the crawler must use the same for its parse to be
	// taken instead of a second one (page.Parsed). Default page.DefaultLimits.
	Parse page.Limits
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
	// DeferSearch leaves the search index alone while this writer is open
	// (a crawl that uses every core: bleve would take a good part of
	// them): it is brought up to date from the WARC files by FinishSearch,
	// or by the next query (CatchUp) or writer. index.db stays live.
	DeferSearch bool
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
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
	if o.SearchQueueBytes <= 0 {
		o.SearchQueueBytes = 32 << 20
	}
	o.Parse = o.Parse.Normalized()
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

// headRoom is what the index reads of a record's block beyond the body
// limit: room for the HTTP head.
const headRoom = 64 << 10

// blockLimit is how much of the block of a record of type typ (lowercase)
// the index reads: a response's body up to the parse limit and its head, a
// revisit's head (all its block holds), a metadata record up to
// MaxMetadata. It is 0 for the types the index ignores. Observe and a
// reading back from the files (searchWriter.decode) read the same bytes.
func (o *Options) blockLimit(typ string) int64 {
	switch typ {
	case "response":
		return o.Parse.MaxBody + headRoom
	case "revisit":
		return headRoom
	case "metadata":
		return o.MaxMetadata
	}
	return 0
}

// readBlock reads a record's block up to limit bytes: a block over limit is
// cut, and a page still yields the text read so far.
func readBlock(block *io.SectionReader, limit int64) ([]byte, error) {
	b := make([]byte, min(block.Size(), limit))
	if n, err := block.ReadAt(b, 0); n < len(b) {
		return nil, err
	}
	return b, nil
}

// pageHead returns the HTTP head of a response record whose page the
// crawler parsed (Record.PayloadOffset), when the head is all decodeCapture
// reads of it: every capture but a text/plain one, whose text is read from
// the body. nil when the whole block is needed. Copying the body under
// the WARC writer's lock only to drop it was a tenth of the index's work
// during a crawl.
func pageHead(rec warc.Record, limit int64) []byte {
	n := rec.PayloadOffset
	if n <= 0 || n >= rec.Block.Size() || n > limit {
		return nil
	}
	head, err := readBlock(io.NewSectionReader(rec.Block, 0, n), n)
	if err != nil {
		return nil
	}
	if h, _, _ := httpmsg.ParseHead(head); captureMIME(h.ContentType) == "text/plain" {
		return nil
	}
	return head
}

// Index is the writing side: it implements warc.Observer, and answers the
// same queries as Reader (after applying everything observed so far).
type Index struct {
	opts      Options
	warcDir   string
	searchDir string // "" for an index.db-only writer (catchUpDB)
	store     *store
	search    *searchWriter // nil when the search index is not followed live (DeferSearch)
	lock      *archive.Lock

	jobs      chan *job // in record order, to the writer
	work      chan *job // to the decoders, any order
	budget    *byteBudget
	done      chan struct{}
	hostCache map[string]*hostValue // owned by the writer goroutine
	recent    *recentResponses      // originals of revisits, by URI and date
	private   bool                  // no other process reads it (Rebuild's temporary index)
	closeMu   sync.RWMutex          // Observe holds it shared, Close exclusively
	closed    bool

	errMu    sync.Mutex
	firstErr error        // first failed commit, returned by Close
	stats    RebuildStats // counts for Rebuild and catch-up
	fileErrs []error      // WARC files a catch-up could not read to the end
}

// job is one observed record on its way through decode and apply. A job
// with flush set carries no record: the writer commits and closes flush.
type job struct {
	loc      warc.Location
	header   warc.Header
	block    []byte
	size     int64
	decode   bool           // false: the record adds nothing, it only moves the checkpoint
	parsed   *page.Parsed   // the crawler's parse of a response's payload
	original *warc.Location // a revisit's original response, if seen in this run
	result   chan *entry
	flush    chan error
}

// Open opens (creating if needed) the index of an archive for writing, and
// brings it up to date with the archive's WARC files first: records that a
// crash kept from being indexed are read back from the files (see
// follow.go). The full-text index catches up in the background. Only one
// writer may exist per archive: a second gets ErrLocked.
func Open(layout archive.Layout, opts Options) (*Index, error) {
	if err := os.MkdirAll(layout.Root, 0o755); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	opts = opts.withDefaults()
	ix, err := openWriter(layout, opts, opts.LockTimeout, true)
	if err != nil {
		return nil, err
	}
	n, err := ix.catchUp(context.Background())
	if n > 0 {
		opts.Logger.Info("index: caught up with records an interrupted run had not indexed", "records", n)
	}
	if err != nil {
		ix.Close()
		return nil, fmt.Errorf("index: catch up with the WARC files: %w", err)
	}
	return ix, nil
}

// openWriter opens the archive's index.db for writing, and with withSearch
// its search index, holding the writer lock (taken within timeout) until
// Close. An index of another schema is dropped first: the catch-up that
// follows rebuilds it.
func openWriter(layout archive.Layout, opts Options, timeout time.Duration, withSearch bool) (*Index, error) {
	lock, err := lockWriter(layout.IndexPath()+".lock", timeout)
	if err != nil {
		return nil, err
	}
	if err := dropOtherSchema(layout, opts); err != nil {
		lock.Unlock()
		return nil, err
	}
	ix, err := openAt(layout.IndexPath(), layout.SearchDir(), layout.WARCDir(), opts, false, withSearch)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	ix.lock = lock
	return ix, nil
}

// dropOtherSchema removes an index written by another version of crawl:
// it is derived from the WARC files, and the catch-up of the open that
// follows rebuilds it from them. The caller holds the writer lock.
func dropOtherSchema(layout archive.Layout, opts Options) error {
	st := &store{path: layout.IndexPath(), lockTimeout: opts.LockTimeout}
	err := st.view(func(*bolt.Tx) error { return nil })
	if !errors.Is(err, ErrSchema) {
		return nil // none, current, or a problem the open will report
	}
	opts.Logger.Warn("index: written by another version of crawl; rebuilding it from the WARC files", "err", err)
	if err := os.Remove(layout.IndexPath()); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return removeSearch(layout.SearchDir())
}

// openAt opens an index at these paths; withSearch false leaves the
// full-text index alone (CatchUp of index.db only), and private is
// Rebuild's index, which nobody else reads.
func openAt(dbPath, searchDir, warcDir string, opts Options, private, withSearch bool) (*Index, error) {
	ix := &Index{
		opts:      opts,
		warcDir:   warcDir,
		store:     &store{path: dbPath, lockTimeout: opts.LockTimeout, noSync: opts.NoSync},
		jobs:      make(chan *job, opts.QueueSize),
		work:      make(chan *job, opts.QueueSize),
		budget:    newByteBudget(opts.QueueBytes),
		hostCache: map[string]*hostValue{},
		recent:    newRecentResponses(recentResponsesMax),
		private:   private,
		done:      make(chan struct{}),
	}
	// Create the file and schema now, so readers see an (empty) index.
	err := ix.store.update(func(*bolt.Tx) error { return nil })
	if rerr := ix.store.release(false); err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if withSearch {
		ix.searchDir = searchDir
		if !opts.DeferSearch || private {
			ix.search = newSearchWriter(ix, searchDir, private)
			go ix.search.run()
		}
	}
	for range opts.Decoders {
		go ix.decoder()
	}
	go ix.writer()
	return ix, nil
}

// openSearchFollower opens the full-text index's writer alone, over an
// index.db it only reads: for bringing the search index up to date
// (CatchUp) beside a crawl that writes index.db, or with nobody writing.
func openSearchFollower(layout archive.Layout, opts Options) *Index {
	ix := &Index{
		opts:    opts,
		warcDir: layout.WARCDir(),
		store:   &store{path: layout.IndexPath(), lockTimeout: opts.LockTimeout},
		recent:  newRecentResponses(1),
		done:    make(chan struct{}),
	}
	close(ix.done)
	ix.search = newSearchWriter(ix, layout.SearchDir(), false)
	go ix.search.run()
	return ix
}

// SearchDeferred reports whether this writer leaves the full-text index
// alone (Options.DeferSearch): then a page's text is not needed to index
// it, only its title, headlines and links.
func (ix *Index) SearchDeferred() bool { return ix.search == nil }

// takesParse reports whether a parse made with l gives what this index
// needs of a page: the parse it would make itself, or, when it keeps no
// full-text index (DeferSearch), the same title, headlines and links (the
// text goes to the full-text index only, which reads the record again).
func (ix *Index) takesParse(l page.Limits) bool {
	return l.Same(ix.opts.Parse) || (ix.search == nil && l.SameOutline(ix.opts.Parse))
}

// Observe implements warc.Observer. It copies what the index needs from the
// record and returns; it waits only when the queue is full.
func (ix *Index) Observe(loc warc.Location, rec warc.Record) {
	j := &job{loc: loc, result: make(chan *entry, 1)}
	typ := strings.ToLower(rec.Header.Get("WARC-Type"))
	switch typ {
	case "response":
		ix.recent.add(rec.Header, loc)
	case "revisit":
		if o, ok := ix.recent.original(rec.Header); ok {
			j.original = &o
		}
	}
	if limit := ix.opts.blockLimit(typ); limit > 0 {
		j.decode = true
		j.header = append(warc.Header(nil), rec.Header...)
		// The crawler's parse is taken when it was made with the index's
		// limits and the whole block is read here: of a block cut below,
		// a rebuild would read only the part, and parse less.
		if p, ok := rec.Parsed.(*page.Parsed); ok && p != nil && p.Page != nil && ix.takesParse(p.Limits) &&
			(rec.Block == nil || rec.Block.Size() <= limit) {
			j.parsed = p
		}
		if rec.Block != nil && j.parsed != nil {
			j.block = pageHead(rec, limit)
		}
		if rec.Block != nil && j.block == nil {
			var err error
			if j.block, err = readBlock(rec.Block, limit); err != nil {
				ix.opts.Logger.Warn("index: record not readable", "file", loc.File, "offset", loc.Offset, "err", err)
				j.decode = false
			}
		}
		j.size = int64(len(j.block))
	}
	if !j.decode {
		j.result <- nil // nothing to decode: the writer only moves the checkpoint
	}
	ix.closeMu.RLock()
	defer ix.closeMu.RUnlock()
	if ix.closed {
		ix.opts.Logger.Warn("index: record observed after Close", "file", loc.File, "offset", loc.Offset)
		return
	}
	ix.budget.acquire(j.size)
	ix.jobs <- j
	if j.decode {
		ix.work <- j
	}
}

func (ix *Index) decoder() {
	for j := range ix.work {
		in := recordInput{loc: j.loc, header: j.header, block: j.block, parsed: j.parsed}
		if j.original != nil {
			in.original = *j.original
		}
		e, err := decodeRecord(in, &ix.opts, ix.originals)
		if err != nil {
			// e may still carry what could be read (a hosts record's good lines).
			ix.opts.Logger.Warn("index: record skipped or partly read", "file", j.loc.File, "offset", j.loc.Offset, "err", err)
			ix.countSkipped()
		}
		j.block, j.parsed = nil, nil
		j.result <- e
	}
}

// Flush applies everything observed so far and returns the first error of
// a commit since Open.
func (ix *Index) Flush() error {
	if ix.jobs == nil {
		return nil // a search follower writes no index.db
	}
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

// FinishSearch brings the full-text index up to date with everything
// observed so far (during a crawl it trails behind; Close does not wait for
// it). What its queue did not hold is read back from the WARC files;
// progress, if not nil, is told how far that is, in bytes of records.
func (ix *Index) FinishSearch(ctx context.Context, progress func(done, total int64)) error {
	if err := ix.Flush(); err != nil {
		return err
	}
	if ix.search != nil {
		return ix.search.sync(ctx, progress)
	}
	if ix.searchDir == "" {
		return nil
	}
	// Deferred: a writer of its own reads everything since the search
	// index's checkpoint back from the files.
	sw := newSearchWriter(ix, ix.searchDir, false)
	go sw.run()
	return errors.Join(sw.sync(ctx, progress), sw.close())
}

// Close applies what is queued to index.db and commits. The full-text index
// is not waited for: what it has not taken yet stays in the WARC files past
// its checkpoint, for the next writer or FinishSearch to read back.
func (ix *Index) Close() error {
	ix.closeMu.Lock()
	if ix.closed {
		ix.closeMu.Unlock()
		return nil
	}
	ix.closed = true
	if ix.jobs != nil {
		close(ix.jobs)
		close(ix.work)
	}
	ix.closeMu.Unlock()
	<-ix.done
	err := ix.err()
	if ix.search != nil {
		if serr := ix.search.close(); serr != nil && err == nil {
			err = serr
		}
	}
	if ix.lock != nil {
		ix.lock.Unlock()
	}
	return err
}

func (ix *Index) err() error {
	ix.errMu.Lock()
	defer ix.errMu.Unlock()
	return ix.firstErr
}

func (ix *Index) fail(err error) {
	ix.errMu.Lock()
	if ix.firstErr == nil {
		ix.firstErr = err
	}
	ix.errMu.Unlock()
}

func (ix *Index) countSkipped() {
	ix.errMu.Lock()
	ix.stats.Skipped++
	ix.errMu.Unlock()
}

// writer is the one goroutine that commits: it gathers decoded entries in
// record order and applies them in batches of BatchSize, or after
// BatchDelay, whichever comes first. Every batch also records how far into
// each WARC file it reaches (the checkpoint), in the same transaction.
func (ix *Index) writer() {
	defer close(ix.done)
	var (
		batch   []*entry
		marks   = map[string]int64{} // end of the last record of each file in the batch
		items   int                  // updates in the batch: a batched hosts record counts each host
		text    int64                // bytes of page text in the batch
		timer   = time.NewTimer(time.Hour)
		pending = false
	)
	timer.Stop()
	commit := func() {
		if len(batch) > 0 || len(marks) > 0 {
			if err := ix.apply(batch, marks); err != nil {
				ix.opts.Logger.Error("index: commit failed", "records", len(batch), "err", err)
				ix.fail(err)
			}
		}
		batch, items, text, pending = batch[:0], 0, 0, false
		clear(marks)
		timer.Stop()
		// Let go of index.db when idle, or when the lease is over; a
		// private index (Rebuild's) is held until Close.
		if !ix.private {
			if err := ix.store.release(len(ix.jobs) > 0); err != nil {
				ix.fail(err)
			}
		}
	}
	for {
		select {
		case j, ok := <-ix.jobs:
			if !ok {
				commit()
				if err := ix.store.release(false); err != nil {
					ix.fail(err)
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
				e.loc = j.loc
				batch = append(batch, e)
				items += max(1, len(e.hostEntries))
				if e.page != nil && e.page.doc != nil {
					text += int64(len(e.page.doc.Text))
				}
			}
			if j.loc.File != "" && j.loc.Length > 0 {
				marks[j.loc.File] = max(marks[j.loc.File], j.loc.Offset+j.loc.Length)
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

// apply commits one batch to index.db with the checkpoint it reaches, then
// hands its pages to the full-text index.
func (ix *Index) apply(batch []*entry, marks map[string]int64) error {
	var docs []*pageDoc
	err := ix.store.update(func(tx *bolt.Tx) error {
		var err error
		if docs, err = applyEntries(tx, batch, ix.hostCache); err != nil {
			return err
		}
		return putCheckpoints(tx, marks)
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
	if ix.search != nil {
		for _, d := range docs {
			ix.search.offer(d)
		}
	}
	return nil
}

// applyEntries writes a batch in one transaction and returns the pages to
// add to the search index, in record order. Every write is idempotent: applying the same
// record twice changes nothing, and for each kind of host record the one
// with the latest WARC-Date wins.
//
// cache holds host values across batches: the writer is the only one that
// changes index.db, so what it last wrote is what is there.
func applyEntries(tx *bolt.Tx, batch []*entry, cache map[string]*hostValue) ([]*pageDoc, error) {
	hostsB, capB, pagesB := tx.Bucket(bucketHosts), tx.Bucket(bucketCaptures), tx.Bucket(bucketPages)
	linksB, errB, attB := tx.Bucket(bucketLinks), tx.Bucket(bucketErrors), tx.Bucket(bucketAttempts)
	notesB := tx.Bucket(bucketNotes)

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
	var docs []*pageDoc

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
		case e.note != nil:
			k := noteKey(hk, e.note, e.noteID)
			if notesB.Get(k) != nil {
				continue
			}
			if err := putJSON(notesB, k, e.note); err != nil {
				return nil, err
			}
			h.Notes++
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
			}
			// Every capture of a page is a search document of its own:
			// documents are only ever added, never replaced, so BM25's
			// statistics do not depend on how the adds were batched,
			// and a live index scores like a rebuilt one. Search
			// shows the best capture of each URL.
			if d := e.page.doc; d != nil {
				d.loc = e.loc
				docs = append(docs, d)
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
	return docs, nil
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

// tryAcquire takes n bytes if they fit now (or if nothing is taken).
func (b *byteBudget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > 0 && b.used+n > b.max {
		return false
	}
	b.used += n
	return true
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
