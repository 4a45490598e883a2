// Package payloads keeps the payload digests a WARC writer has archived, in
// a bbolt file, so that deduplication spans crawls of one archive: an
// unchanged payload in a later snapshot becomes a revisit record pointing at
// its first capture. A Store is the writer's warc.PayloadIndex (and
// warc.OriginalIndex); it lives beside the writer because only the writer
// decides what an original is.
//
// The writer asks while it holds its file lock, so a Store never waits for
// a disk commit there: new digests sit in memory (and are answered from
// there, while their batch is committed too) and a background flusher
// commits them in batches. A crash loses at most the last flush interval of
// digests, which costs only a missed revisit (a full response is written
// instead), never a wrong record. A batch that fails to commit is kept for
// the next flush, and Close reports the failure.
package payloads

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"crawl/internal/warc"
)

// ErrLocked: another process has the store open.
var ErrLocked = errors.New("payload digests in use by another process")

var bucket = []byte("payloads") // digest -> record JSON

// record is a digest's original, as stored (the encoding the crawler's
// state used before the store moved here, so old values read alike).
type record struct {
	URI      string    `json:"uri"`
	Date     time.Time `json:"date"`
	RecordID string    `json:"id,omitempty"`
}

const (
	flushInterval = 500 * time.Millisecond
	flushSize     = 2000
	// maxPending digests wait in memory at most: when commits keep
	// failing, the ones past it are dropped (each costs one revisit).
	maxPending = 50 * flushSize
)

// Store is a persistent warc.PayloadIndex. Safe for concurrent use.
type Store struct {
	db       *bolt.DB
	mu       sync.Mutex
	pending  map[string]record
	flushing map[string]record // the batch being committed
	err      error             // the first failed commit, for Close
	kick     chan struct{}
	quit     chan struct{}
	done     chan struct{}
}

// Open opens (or creates) the store at path (archive.Layout.PayloadsPath).
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("payloads %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("payloads %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("payloads %s: %w", path, err)
	}
	s := &Store{db: db, pending: map[string]record{}, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go s.flusher()
	return s, nil
}

// Close writes the pending digests and closes the file. It reports the
// first commit that failed, even if a later one wrote its digests.
func (s *Store) Close() error {
	close(s.quit)
	<-s.done
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	return errors.Join(err, s.db.Close())
}

func (s *Store) flusher() {
	defer close(s.done)
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			s.flush()
			return
		case <-t.C:
		case <-s.kick:
		}
		s.flush()
	}
}

// flush commits the pending digests. Until the commit is done they are
// still answered from memory; if it fails they wait for the next flush.
func (s *Store) flush() {
	s.mu.Lock()
	batch := s.pending
	if len(batch) == 0 {
		s.mu.Unlock()
		return
	}
	s.pending, s.flushing = map[string]record{}, batch
	s.mu.Unlock()
	err := s.put(batch)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushing = nil
	if err == nil {
		return
	}
	if s.err == nil {
		s.err = fmt.Errorf("payloads: commit %d digests: %w", len(batch), err)
	}
	for d, rec := range batch { // older than what came since: the first original wins
		if len(s.pending) >= maxPending {
			break
		}
		s.pending[d] = rec
	}
}

// put commits a batch; a digest already stored keeps its first original.
func (s *Store) put(batch map[string]record) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for d, rec := range batch {
			if b.Get([]byte(d)) != nil {
				continue
			}
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(d), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Import commits digests kept elsewhere before (the crawler's state held
// them once), synchronously, so the caller may drop its copy after; a
// digest the store has keeps its own original.
func (s *Store) Import(batch map[string]warc.Original) error {
	recs := make(map[string]record, len(batch))
	for d, o := range batch {
		recs[d] = record{URI: o.URI, Date: o.Date, RecordID: o.RecordID}
	}
	if err := s.put(recs); err != nil {
		return fmt.Errorf("payloads: import: %w", err)
	}
	return nil
}

// SeenOriginal reports the first capture of a payload digest.
func (s *Store) SeenOriginal(digest string) (warc.Original, bool) {
	s.mu.Lock()
	rec, ok := s.pending[digest]
	if !ok {
		rec, ok = s.flushing[digest]
	}
	s.mu.Unlock()
	if !ok {
		_ = s.db.View(func(tx *bolt.Tx) error {
			v := tx.Bucket(bucket).Get([]byte(digest))
			if v != nil && json.Unmarshal(v, &rec) == nil {
				ok = true
			}
			return nil
		})
	}
	return warc.Original{URI: rec.URI, Date: rec.Date, RecordID: rec.RecordID}, ok
}

// RememberOriginal stores the first capture of a payload digest; later calls
// for the same digest keep the first.
func (s *Store) RememberOriginal(digest string, o warc.Original) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[digest]; ok {
		return
	}
	if _, ok := s.flushing[digest]; ok {
		return
	}
	s.pending[digest] = record{URI: o.URI, Date: o.Date, RecordID: o.RecordID}
	if len(s.pending) >= flushSize {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// Seen is SeenOriginal without the record ID.
func (s *Store) Seen(digest string) (uri string, date time.Time, ok bool) {
	o, ok := s.SeenOriginal(digest)
	return o.URI, o.Date, ok
}

// Remember is RememberOriginal without the record ID.
func (s *Store) Remember(digest, uri string, date time.Time) {
	s.RememberOriginal(digest, warc.Original{URI: uri, Date: date})
}

var (
	_ warc.PayloadIndex  = (*Store)(nil)
	_ warc.OriginalIndex = (*Store)(nil)
)
