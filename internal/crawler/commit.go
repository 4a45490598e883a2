package crawler

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// committer applies completed fetches to the state in groups: one bbolt
// transaction, so one fsync, per group rather than per fetch. A visit
// hands its completion over and goes on; the group is committed every
// commitEvery, at once when it grows large, or when the scheduler runs out
// of queued URLs and asks for it (flush).
//
// The state's fsyncs were a fifth of a fast crawl's time (BenchmarkSite
// on the PostgreSQL docs, 2 cores: 0.66 s per crawl with a commit per
// 4 ms batch, 0.55 s syncing every 100 ms), and committing less often
// loses nothing a crash can take:
//   - kill -9: a visit's records are in the WARC file before its
//     completion is handed over; a completion not yet committed leaves its
//     entry at the head of the frontier, and a resumed run takes such
//     entries from the archive (schedule's suspects, fromArchive). At most
//     maxUncommitted completions are handed over and not committed.
//   - power loss: before each group the WARC file is fsynced (sync), so a
//     state that says a URL is done never outlives its capture. (Before,
//     the state was fsynced per fetch but the WARC file only at rotation.)
type committer struct {
	state *State
	sync  func() error // runs before each group's transaction; nil: none
	every time.Duration

	mu        sync.Mutex
	changed   *sync.Cond // a group was committed, or the committer failed
	pending   []*completion
	links     int            // found entries in pending
	recAt     map[string]int // per site, the completion in pending with its newest record
	submitted uint64         // completions handed over, ever
	committed uint64         // of those, applied (or failed)
	err       error          // the first failure: every later call returns it
	closed    bool
	kick      chan struct{} // commit the pending group now
	quit      chan struct{}
	exited    chan struct{}
}

// commitEvery is the longest a completion waits for its group while the
// scheduler has other URLs to visit.
const commitEvery = 50 * time.Millisecond

// A group is committed at once when it holds commitAt completions or
// commitLinks found entries; handing over waits at twice those (a disk
// that stalls slows the crawl instead of growing memory).
const (
	commitAt    = 256
	commitLinks = 4096
	maxPending  = 2 * commitAt // at most this many completions wait for a group
	// maxUncommitted completions are handed over but not committed at
	// most: a group being committed and the next one waiting.
	maxUncommitted = 2 * maxPending
)

var errCommitterClosed = errors.New("crawler state: committer closed")

func newCommitter(s *State, syncArchive func() error, every time.Duration) *committer {
	m := &committer{
		state:  s,
		sync:   syncArchive,
		every:  every,
		recAt:  map[string]int{},
		kick:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	m.changed = sync.NewCond(&m.mu)
	go m.run()
	return m
}

// syncer is a Recorder whose file can be fsynced (*warc.Writer).
type syncer interface{ Sync() error }

// syncArchive fsyncs the WARC file being written, when the Recorder can
// (before a commit of the state, and before a site's end is saved).
func (c *Crawler) syncArchive() error {
	if s, ok := c.cfg.Writer.(syncer); ok {
		return s.Sync()
	}
	return nil
}

// submit hands a completion over; its after, if any, runs once it is
// committed. It returns the committer's first failure, if there was one.
func (m *committer) submit(c *completion) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.err == nil && !m.closed && (len(m.pending) >= maxPending || m.links >= 2*commitLinks) {
		m.kickLocked()
		m.changed.Wait()
	}
	if m.err != nil {
		return m.err
	}
	if m.closed {
		return errCommitterClosed
	}
	if c.recBytes != nil {
		// The group is one transaction, applied in order: a site's older
		// record waiting would be overwritten in it. Dropped now, the
		// records waiting are one per site, not one per completion (a
		// record has a tally per host: a site of many hosts has a large
		// one).
		if i, ok := m.recAt[c.site]; ok {
			m.pending[i].recBytes = nil
		}
		m.recAt[c.site] = len(m.pending)
	}
	m.pending = append(m.pending, c)
	m.links += len(c.found)
	m.submitted++
	if len(m.pending) >= commitAt || m.links >= commitLinks {
		m.kickLocked()
	}
	return nil
}

// flush commits every completion handed over so far and waits until it is.
func (m *committer) flush() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	target := m.submitted
	for m.err == nil && m.committed < target {
		m.kickLocked()
		m.changed.Wait()
	}
	return m.err
}

// close commits what is pending and stops the committer; it returns the
// first failure.
func (m *committer) close() error {
	err := m.flush()
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.quit)
	}
	m.changed.Broadcast()
	m.mu.Unlock()
	<-m.exited
	return err
}

// failed returns the committer's first failure, or nil.
func (m *committer) failed() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *committer) kickLocked() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *committer) run() {
	defer close(m.exited)
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-m.kick:
		case <-t.C:
		}
		m.mu.Lock()
		group := m.pending
		m.pending, m.links = nil, 0
		clear(m.recAt)
		m.mu.Unlock()
		if len(group) == 0 {
			continue
		}
		err := m.commit(group)
		m.mu.Lock()
		if err != nil && m.err == nil {
			m.err = err
		}
		m.committed += uint64(len(group))
		m.changed.Broadcast()
		m.mu.Unlock()
	}
}

// commit fsyncs the WARC file, applies the group in one transaction and
// runs the completions' afters.
func (m *committer) commit(group []*completion) error {
	m.mu.Lock()
	err := m.err
	m.mu.Unlock()
	if err != nil {
		return err // failed before: apply nothing more
	}
	if m.sync != nil {
		if err := m.sync(); err != nil {
			return fmt.Errorf("crawler state: sync the archive before a commit: %w", err)
		}
	}
	if err := m.state.commitGroup(group); err != nil {
		return err
	}
	for _, c := range group {
		if c.after != nil {
			if err := c.after(); err != nil {
				return err
			}
		}
	}
	return nil
}
