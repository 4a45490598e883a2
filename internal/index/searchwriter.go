package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"

	"crawl/internal/warc"
)

// searchWriter keeps the full-text index up with index.db, off the crawl's
// path: the crawl never waits for bleve.
//
// Pages come from index.db's writer after each commit (offer), in record
// order, through a queue bounded in bytes. When the queue is full the page
// is dropped, not waited for; a drop makes the writer read the records it
// missed back from the WARC files (scan), from its own checkpoint up to
// index.db's. The checkpoint (per WARC file, the end of the last record
// applied) is stored in the search index in the same batch as the documents,
// so a kill -9 loses nothing either: the next writer scans from there.
//
// Documents are only ever added (one per capture, see applyEntries) and
// each record is applied once, so BM25's statistics are what a rebuild
// gives, however the adds were batched.
//
// The bleve index is held only while there is work, and at most writerLease
// at a time, then let go for writerGap: bleve's root file has the same
// exclusive lock as index.db, and readers in other processes (crawl search,
// crawl serve) open it read-only for each query.
type searchWriter struct {
	ix      *Index
	dir     string
	private bool // Rebuild's: nobody else reads it, and offer waits instead of dropping

	items   chan *pageDoc
	budget  *byteBudget  // bytes of queued page text
	drops   atomic.Int64 // pages not queued since Open
	syncReq chan syncRequest
	done    chan struct{}
	closing atomic.Bool
	ctx     context.Context // cancelled by close: a scan in progress stops
	stop    context.CancelFunc

	touch chan struct{} // a query opened the index: hold it idleHold

	// openWrite opens the index for writing (openSearch); a test makes
	// it fail as a read-only file system would, which root cannot.
	openWrite func(dir string, timeout time.Duration) (bleve.Index, error)

	mu      sync.Mutex // guards idx, users, stopped, ckpt and stats (see process)
	idx     bleve.Index
	users   int  // queries of this process using idx: it is not closed under them
	stopped bool // the run loop has ended: the last query out closes idx
	opened  time.Time
	ckpt    map[string]int64 // valid while idx is open
	stats   *searchStats     // valid while idx is open
	pages   atomic.Int64     // documents added
	err     error            // how the last round went; a later scan retries
}

// checkpointKey and statsKey are where the search index keeps its
// checkpoint and its BM25 statistics (bleve internal storage, written in the
// same batch as the documents).
var (
	checkpointKey = []byte("crawl-warc-checkpoint")
	statsKey      = []byte("crawl-bm25-stats")
)

// searchQueue is how many pages may wait, whatever their size.
const searchQueue = 4096

// idleHold is how long the index stays open after its last batch when no
// more pages come, so a trickle of pages does not reopen it for each one.
const idleHold = 300 * time.Millisecond

func newSearchWriter(ix *Index, dir string, private bool) *searchWriter {
	ctx, stop := context.WithCancel(context.Background())
	return &searchWriter{
		ctx:     ctx,
		stop:    stop,
		ix:      ix,
		dir:     dir,
		private: private,
		items:   make(chan *pageDoc, searchQueue),
		budget:  newByteBudget(ix.opts.SearchQueueBytes),
		syncReq: make(chan syncRequest),
		done:    make(chan struct{}),
		touch:   make(chan struct{}, 1),
		openWrite: func(dir string, timeout time.Duration) (bleve.Index, error) {
			return openSearch(dir, true, false, timeout)
		},
	}
}

func docSize(d *pageDoc) int64 { return int64(len(d.Text) + len(d.Title) + 256) }

// offer queues a page for the search index; it waits only in a private
// (Rebuild's) index.
func (sw *searchWriter) offer(d *pageDoc) {
	n := docSize(d)
	if sw.private {
		sw.budget.acquire(n)
		sw.items <- d
		return
	}
	if !sw.budget.tryAcquire(n) {
		sw.drops.Add(1)
		return
	}
	select {
	case sw.items <- d:
	default:
		sw.budget.release(n)
		sw.drops.Add(1)
	}
}

// syncRequest asks the run loop to apply everything offered so far and
// everything index.db has committed.
type syncRequest struct {
	ctx      context.Context
	progress func(done, total int64) // bytes of WARC records read back; may be nil
	reply    chan error
}

// sync applies everything offered so far and everything index.db has
// committed (the caller flushed it first), reading back from the WARC files
// what the queue did not hold. progress, if not nil, is told how far the
// reading back is, in bytes of records.
func (sw *searchWriter) sync(ctx context.Context, progress func(done, total int64)) error {
	if sw.closing.Load() {
		return ErrClosed
	}
	req := syncRequest{ctx: ctx, progress: progress, reply: make(chan error, 1)}
	select {
	case sw.syncReq <- req:
		return <-req.reply
	case <-sw.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the writer without waiting for what is left: what it has
// not applied stays in the WARC files, past its checkpoint, for the next
// writer (or a sync) to read back. The crawl never waits for bleve.
func (sw *searchWriter) close() error {
	sw.closing.Store(true)
	sw.stop()
	close(sw.items)
	<-sw.done
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.err
}

func (sw *searchWriter) run() {
	defer close(sw.done)
	// A private index starts empty alongside an empty index.db; a live one
	// first scans for what a crash (or a lagging writer) left out.
	lastDrops := int64(-1)
	if sw.private {
		lastDrops = 0
	}
	var pend []*pageDoc
	quit := func() {
		for _, d := range pend {
			sw.budget.release(docSize(d))
		}
		sw.mu.Lock()
		sw.stopped = true
		sw.mu.Unlock()
		sw.release(false) // unless a query holds it: then the query closes it
	}
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	if !sw.private {
		// Start on what an earlier run left, in the background.
		sw.setErr(sw.process(sw.ctx, nil, &lastDrops, false, nil))
		if !sw.release(false) {
			idle.Reset(idleHold)
		}
	}
	for {
		req := syncRequest{ctx: sw.ctx}
		select {
		case d, ok := <-sw.items:
			if !ok {
				quit()
				return
			}
			// Take what else is queued, up to a batch.
			pend = append(pend, d)
			var closed bool
			if pend, closed = sw.take(pend, sw.ix.opts.SearchBatch); closed {
				quit()
				return
			}
		case req = <-sw.syncReq:
			pend, _ = sw.take(pend, -1) // all that is queued now
		case <-idle.C:
			sw.release(false)
			continue
		case <-sw.touch:
			idle.Reset(idleHold)
			continue
		}
		ctx, cancel := context.WithCancel(req.ctx)
		stop := context.AfterFunc(sw.ctx, cancel)
		err := sw.process(ctx, pend, &lastDrops, req.reply != nil, req.progress)
		stop()
		cancel()
		pend = pend[:0]
		sw.setErr(err)
		if req.reply != nil {
			req.reply <- err
		}
		if sw.private {
			continue
		}
		// Let readers in: at once when the lease is over (with a gap if
		// more work waits), or after idleHold without new pages.
		if !sw.release(len(sw.items) > 0) {
			idle.Reset(idleHold)
		}
	}
}

// take appends to pend what is queued now, without waiting, until pend
// holds n pages (n < 0: all of it); closed reports that the queue was closed.
func (sw *searchWriter) take(pend []*pageDoc, n int) (_ []*pageDoc, closed bool) {
	for n < 0 || len(pend) < n {
		select {
		case d, ok := <-sw.items:
			if !ok {
				return pend, true
			}
			pend = append(pend, d)
		default:
			return pend, false
		}
	}
	return pend, false
}

// setErr keeps how the last round went: an error is logged, and stays the
// answer of close until a later round succeeds (the next one scans the
// WARC files for what this one missed).
func (sw *searchWriter) setErr(err error) {
	if sw.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil // stopped by close: nothing went wrong
	}
	if err != nil {
		sw.ix.opts.Logger.Warn("search index: not up to date (it catches up from the WARC files later)", "err", err)
	}
	sw.mu.Lock()
	sw.err = err
	sw.mu.Unlock()
}

// process applies pending pages, after scanning the WARC files for pages
// that were dropped (or, with full, for anything index.db has and the
// search index has not).
func (sw *searchWriter) process(ctx context.Context, pend []*pageDoc, lastDrops *int64, full bool, progress func(done, total int64)) error {
	defer func() {
		for _, d := range pend {
			sw.budget.release(docSize(d))
		}
	}()
	if len(pend) == 0 && !full && sw.drops.Load() == *lastDrops {
		return nil
	}
	// Only this goroutine lets go of the index, so it stays open for the
	// whole round once taken; the lock guards taking it (queries of this
	// process take it too) and each commit.
	sw.mu.Lock()
	err := sw.acquire()
	sw.mu.Unlock()
	if err != nil {
		sw.drops.Add(int64(len(pend))) // read back from the files once it frees
		return err
	}
	if d := sw.drops.Load(); d != *lastDrops || full {
		if err := sw.scan(ctx, progress); err != nil {
			return err
		}
		*lastDrops = d
	}
	var batch batcher
	for _, d := range pend {
		if d.loc.File != "" && d.loc.Offset < sw.checkpoint(d.loc.File) {
			continue // already read back from its file by a scan
		}
		if batch.add(d, sw.ix.opts.SearchBatch) {
			if err := sw.add(batch.take()); err != nil {
				return err
			}
		}
	}
	return sw.add(batch.take())
}

// searchBatchText caps the page text of one bleve batch (1 MiB: the text of
// one page at most, a few hundred ordinary pages): bleve analyses a
// whole batch at once, and a few pages of a megabyte of text each would
// otherwise take hundreds of megabytes.
const searchBatchText = 1 << 20

// batcher gathers the documents of one bleve batch: at most n of them, or
// searchBatchText bytes of text.
type batcher struct {
	docs []*pageDoc
	text int
}

// add adds d and reports whether the batch is full.
func (b *batcher) add(d *pageDoc, n int) bool {
	b.docs = append(b.docs, d)
	b.text += len(d.Text) + len(d.Title)
	return len(b.docs) >= n || b.text >= searchBatchText
}

func (b *batcher) take() []*pageDoc {
	docs := b.docs
	b.docs, b.text = nil, 0
	return docs
}

// add puts pages into the index with the checkpoint they reach, in one batch.
func (sw *searchWriter) add(docs []*pageDoc) error {
	if len(docs) == 0 {
		return nil
	}
	return sw.commit(docs, nil)
}

// commit writes one batch: docs, and the checkpoint and statistics they
// reach, with the checkpoints of marks moved too (past records without
// pages). The checkpoint and statistics held in memory change only once
// the batch is written: of a failed one, the next scan reads the pages back.
func (sw *searchWriter) commit(docs []*pageDoc, marks map[string]int64) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	b := sw.idx.NewBatch()
	ckpt, stats := maps.Clone(sw.ckpt), sw.stats.clone()
	for _, d := range docs {
		if err := b.Index(d.id, d); err != nil {
			return fmt.Errorf("search index %s: %w", d.URL, err)
		}
		stats.add(d)
		if end := d.loc.Offset + d.loc.Length; d.loc.File != "" && end > ckpt[d.loc.File] {
			ckpt[d.loc.File] = end
		}
	}
	maps.Copy(ckpt, marks)
	ck, err := json.Marshal(ckpt)
	if err != nil {
		return err
	}
	st, err := json.Marshal(stats)
	if err != nil {
		return err
	}
	b.SetInternal(checkpointKey, ck)
	b.SetInternal(statsKey, st)
	if err := sw.idx.Batch(b); err != nil {
		return fmt.Errorf("search index batch: %w", err)
	}
	sw.ckpt, sw.stats = ckpt, stats
	sw.pages.Add(int64(len(docs)))
	return nil
}

// scan reads back from the WARC files every record between the search
// index's checkpoint and index.db's, and adds its pages.
func (sw *searchWriter) scan(ctx context.Context, progress func(done, total int64)) error {
	bound, err := sw.ix.store.checkpoints()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(bound))
	var total, done int64
	for name, end := range bound {
		if at := sw.checkpoint(name); end > at {
			names = append(names, name)
			total += end - at
		}
	}
	sort.Strings(names)
	report := func(at int64) {
		if progress != nil {
			progress(done+at, total)
		}
	}
	report(0)
	if len(names) > 0 {
		sw.ix.opts.Logger.Debug("search index: reading pages back from the WARC files", "files", len(names))
	}
	var batch batcher
	for _, name := range names {
		from, to := sw.checkpoint(name), bound[name]
		end, err := readRecords(ctx, sw.ix.warcDir, name, from, to, func(rec warc.Record, loc warc.Location) error {
			d := sw.decode(rec, loc)
			if d == nil {
				return nil
			}
			report(loc.Offset - from)
			if batch.add(d, sw.ix.opts.SearchBatch) {
				return sw.add(batch.take())
			}
			return nil
		})
		if ctx.Err() != nil {
			// Stopped: what was added is checkpointed.
			return errors.Join(ctx.Err(), sw.add(batch.take()))
		}
		if err != nil {
			// Unreadable past this point (index.db stopped at the same
			// spot), or not found: the checkpoint stays where reading
			// stopped.
			sw.ix.opts.Logger.Warn("search index: WARC file not read to the end", "file", name, "err", err)
			to = end
		}
		done += bound[name] - from
		report(0)
		if err := sw.add(batch.take()); err != nil {
			return err
		}
		if sw.checkpoint(name) < to {
			if err := sw.commitCheckpoint(name, to); err != nil {
				return err
			}
		}
	}
	return nil
}

// decode makes the search document of one record read back from a file,
// the way index.db's writer made it.
func (sw *searchWriter) decode(rec warc.Record, loc warc.Location) *pageDoc {
	typ := strings.ToLower(rec.Header.Get("WARC-Type"))
	if typ != "response" && typ != "revisit" {
		return nil
	}
	block, err := readBlock(rec.Block, sw.ix.opts.blockLimit(typ))
	if err != nil {
		sw.ix.opts.Logger.Debug("search index: record not readable", "file", loc.File, "offset", loc.Offset, "err", err)
		return nil
	}
	e, err := decodeRecord(recordInput{loc: loc, header: rec.Header, block: block}, &sw.ix.opts, sw.ix.originals)
	if err != nil {
		sw.ix.opts.Logger.Debug("search index: record skipped", "file", loc.File, "offset", loc.Offset, "err", err)
	}
	if e == nil || e.page == nil || e.page.doc == nil {
		return nil
	}
	e.page.doc.loc = loc
	return e.page.doc
}

// behind says how many bytes of WARC records index.db has applied and a
// search index whose checkpoint is ck has not.
func behind(st *store, ck map[string]int64) int64 {
	bound, err := st.checkpoints()
	if err != nil {
		return 0
	}
	var n int64
	for name, end := range bound {
		n += max(0, end-ck[name])
	}
	return n
}

// storedCheckpoint reads the checkpoint from an open index.
func storedCheckpoint(idx bleve.Index) map[string]int64 {
	ck := map[string]int64{}
	getInternal(idx, checkpointKey, &ck)
	return ck
}

// getInternal decodes into dst the JSON value kept under key in the
// index's internal storage (checkpointKey, statsKey); a missing key leaves
// dst as it is.
func getInternal(idx bleve.Index, key []byte, dst any) error {
	raw, err := idx.GetInternal(key)
	if err != nil || raw == nil {
		return err
	}
	return json.Unmarshal(raw, dst)
}

// errTakeIndex: the search index could not be opened for writing, for
// another reason than a lock (permissions, a read-only file system).
var errTakeIndex = errors.New("search index not writable")

// checkpoint is how far into a WARC file the index has taken pages.
func (sw *searchWriter) checkpoint(file string) int64 {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.ckpt[file]
}

// commitCheckpoint moves a file's checkpoint past records without pages.
func (sw *searchWriter) commitCheckpoint(file string, to int64) error {
	return sw.commit(nil, map[string]int64{file: to})
}

// acquire opens the index for writing if it is not open; it waits up to
// LockTimeout for readers of other processes. The caller holds mu.
func (sw *searchWriter) acquire() error {
	if sw.idx != nil {
		return nil
	}
	idx, err := sw.openWrite(sw.dir, sw.ix.opts.LockTimeout)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return err
		}
		return fmt.Errorf("%w: %w", errTakeIndex, err)
	}
	ck := map[string]int64{}
	st := &searchStats{Tokens: map[string]int64{}}
	for _, v := range []struct {
		key []byte
		dst any
	}{{checkpointKey, &ck}, {statsKey, st}} {
		if err := getInternal(idx, v.key, v.dst); err != nil {
			idx.Close()
			return fmt.Errorf("search index %s: %w", v.key, err)
		}
	}
	sw.idx, sw.ckpt, sw.stats, sw.opened = idx, ck, st, time.Now()
	return nil
}

// closeIndex closes the open index and drops what is valid only while it
// is open. The caller holds mu.
func (sw *searchWriter) closeIndex() error {
	err := sw.idx.Close()
	sw.idx, sw.ckpt, sw.stats = nil, nil, nil
	return err
}

// release closes the index; with leaseOnly, only once it has been held for
// writerLease, then pausing writerGap so that waiting readers get in. It
// reports whether the index is closed now. A private index is held to the end.
func (sw *searchWriter) release(leaseOnly bool) bool {
	sw.mu.Lock()
	if sw.idx == nil {
		sw.mu.Unlock()
		return true
	}
	if sw.private && !sw.closing.Load() || leaseOnly && time.Since(sw.opened) < writerLease || sw.users > 0 {
		sw.mu.Unlock()
		return false
	}
	err := sw.closeIndex()
	sw.mu.Unlock()
	if err != nil {
		sw.ix.opts.Logger.Warn("search index: close", "err", err)
	}
	if leaseOnly {
		time.Sleep(writerGap)
	}
	return true
}

// withIndex runs fn on the open index (opening it if needed), for queries
// of the writer's own process. Once the writer has stopped it gives
// ErrClosed; a query still running then closes the index when it ends,
// as nobody else will.
func (sw *searchWriter) withIndex(fn func(bleve.Index) error) error {
	sw.mu.Lock()
	if sw.stopped {
		sw.mu.Unlock()
		return ErrClosed
	}
	if err := sw.acquire(); err != nil {
		sw.mu.Unlock()
		return err
	}
	idx := sw.idx
	sw.users++
	sw.mu.Unlock()
	defer func() {
		sw.mu.Lock()
		sw.users--
		if sw.stopped && sw.users == 0 && sw.idx != nil {
			if err := sw.closeIndex(); err != nil {
				sw.ix.opts.Logger.Warn("search index: close", "err", err)
			}
		}
		sw.mu.Unlock()
		if !sw.private {
			select {
			case sw.touch <- struct{}{}: // hold it idleHold more, then let go
			default:
			}
		}
	}()
	return fn(idx)
}
