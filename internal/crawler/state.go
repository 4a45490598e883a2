package crawler

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"crawl/internal/warc"
)

// The crawl state lives in one bbolt file under the state directory. It is
// crawler-owned and never read by other packages; the WARC files remain the
// archive. Keys are flat composites (site 0x00 ...) in a few large buckets,
// which bbolt stores far better than many tiny nested buckets.
var (
	bucketFrontier = []byte("frontier") // site 0x00 seq(8, BE) -> entry JSON
	bucketSeen     = []byte("seen")     // site 0x00 seenHash(url) -> seenQueued | seenDone
	bucketVariants = []byte("variants") // site 0x00 host path -> count (4, BE) of distinct queries
	bucketSites    = []byte("sites")    // site -> siteRecord JSON
	bucketRobots   = []byte("robots")   // origin -> robotsRecord JSON
	bucketPayloads = []byte("payloads") // payload digest -> payloadRecord JSON: read only to move them (MovePayloads)
)

const (
	seenQueued = 'q'
	seenDone   = 'd'
)

// ErrStateLocked: the state file is held by another process.
var ErrStateLocked = errors.New("state locked")

// stateFile is the name of the crawler's bbolt file inside the state directory.
const stateFile = "crawler.db"

// State is the crawler's persistent memory: per-site frontier and seen set,
// site outcomes and robots.txt answers. (The payload digests for revisit
// records are the WARC writer's: package warc/payloads.)
type State struct {
	db *bolt.DB
}

// OpenState opens (or creates) the crawler state in dir.
func OpenState(dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("crawler state: %w", err)
	}
	path := filepath.Join(dir, stateFile)
	db, err := bolt.Open(path, 0o644, &bolt.Options{
		Timeout:      2 * time.Second, // another crawl holds the lock: say so instead of hanging
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("crawler state %s: %w: another crawl is using this archive", path, ErrStateLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("crawler state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFrontier, bucketSeen, bucketVariants, bucketSites, bucketRobots} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("crawler state %s: %w", path, err)
	}
	return &State{db: db}, nil
}

// Close closes the state file.
func (s *State) Close() error {
	return s.db.Close()
}

// entry is one URL waiting in a site's frontier.
type entry struct {
	URL       string `json:"u"`
	Depth     int    `json:"d,omitempty"`
	Requisite bool   `json:"r,omitempty"`
	Hops      int    `json:"h,omitempty"` // redirect hops that led here
	Retries   int    `json:"t,omitempty"` // 429/503 retries so far
	// BusyID is the WARC-Record-ID of the 429/503 answer that queued
	// this entry again: a capture of its URL, but not of this entry.
	BusyID string `json:"b,omitempty"`
	// Chain holds the URLs of the redirect chain that led here, first
	// first (at most MaxRedirects): a Location back into it is a loop.
	Chain []string `json:"c,omitempty"`

	key     []byte // frontier key, set when loaded
	variant string // variantKey, set when discovered (not stored); "" is never limited
	resumed bool   // may have been in flight when an earlier run was killed (not stored)
}

// siteRecord is a site's progress, updated with every completed fetch.
type siteRecord struct {
	Status  Status            `json:"status"` // crawling, done, partial, failed
	Reason  string            `json:"reason,omitempty"`
	Pages   int64             `json:"pages"`
	Bytes   int64             `json:"bytes"`
	Errors  int64             `json:"errors"`
	Seeded  bool              `json:"seeded"`
	Hosts   map[string]*tally `json:"hosts,omitempty"`
	Started time.Time         `json:"started"`
	Ended   time.Time         `json:"ended,omitzero"`
}

// tally counts one host's share of a site's crawl.
type tally struct {
	Pages  int64  `json:"pages"`
	Bytes  int64  `json:"bytes"`
	Errors int64  `json:"errors"`
	Failed string `json:"failed,omitempty"` // set aside after repeated failures: the last error
	Last   string `json:"last,omitempty"`   // the last fetch error
}

// robotsRecord is one origin's robots.txt answer, kept so a resumed crawl
// neither refetches nor re-archives it.
type robotsRecord struct {
	Status int    `json:"status"` // 0 when the fetch failed
	Body   []byte `json:"body,omitempty"`
	Error  string `json:"error,omitempty"`
}

// payloadRecord is a payload digest's original, as an older crawl kept it
// here.
type payloadRecord struct {
	URI      string    `json:"uri"`
	Date     time.Time `json:"date"`
	RecordID string    `json:"id,omitempty"`
}

func siteKey(site string, rest []byte) []byte {
	k := make([]byte, 0, len(site)+1+len(rest))
	k = append(k, site...)
	k = append(k, 0)
	return append(k, rest...)
}

func prefix(site string) []byte { return siteKey(site, nil) }

// seenKey keys the seen set by a 128-bit hash of the URL rather than the
// URL itself: it halves the state file and the pages a crawl keeps
// resident (URLs average ~100 bytes), and a collision among even 10^9 URLs
// is about 10^-21 likely.
func seenKey(site, u string) []byte {
	h := sha256.Sum256([]byte(u))
	return siteKey(site, h[:16])
}

// site returns the stored record of a site, or a fresh one.
func (s *State) site(name string) (*siteRecord, error) {
	rec := &siteRecord{}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSites).Get([]byte(name))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("crawler state: site %s: %w", name, err)
	}
	if rec.Hosts == nil {
		rec.Hosts = map[string]*tally{}
	}
	return rec, nil
}

func putSite(tx *bolt.Tx, name string, rec *siteRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketSites).Put([]byte(name), v)
}

// saveSite stores a site record.
func (s *State) saveSite(name string, rec *siteRecord) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return putSite(tx, name, rec) }); err != nil {
		return fmt.Errorf("crawler state: site %s: %w", name, err)
	}
	return nil
}

// resetSite forgets a site's frontier, seen set and trap counters, for a
// new snapshot (Recrawl). Payload digests stay, so unchanged payloads become
// revisits.
func (s *State) resetSite(name string) error {
	p := prefix(name)
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFrontier, bucketSeen, bucketVariants} {
			bk := tx.Bucket(b)
			// Collect first: deleting under a cursor can skip keys.
			var keys [][]byte
			c := bk.Cursor()
			for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				if err := bk.Delete(k); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketSites).Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("crawler state: reset site %s: %w", name, err)
	}
	return nil
}

// forgetRobots drops every cached robots.txt answer (a new snapshot asks again).
func (s *State) forgetRobots() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketRobots); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketRobots)
		return err
	})
}

// load returns up to n frontier entries of a site with keys after `after`
// (nil: from the start), in the order they were queued.
func (s *State) load(site string, after []byte, n int) ([]*entry, error) {
	p := prefix(site)
	var out []*entry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFrontier).Cursor()
		var k, v []byte
		if after == nil {
			k, v = c.Seek(p)
		} else {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, p) && len(out) < n; k, v = c.Next() {
			e := &entry{}
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("frontier entry %q: %w", k, err)
			}
			e.key = bytes.Clone(k)
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("crawler state: load frontier of %s: %w", site, err)
	}
	return out, nil
}

// enqueue adds entries not seen before to a site's frontier, marking them
// seen, and drops an entry whose path already has maxVariants distinct
// query strings (0: no limit), counting those in dropped. It runs inside
// tx so a completion and its discoveries commit together.
func enqueue(tx *bolt.Tx, site string, es []*entry, maxVariants int, dropped *int) error {
	seen := tx.Bucket(bucketSeen)
	fr := tx.Bucket(bucketFrontier)
	vb := tx.Bucket(bucketVariants)
	for _, e := range es {
		sk := seenKey(site, e.URL)
		if seen.Get(sk) != nil {
			continue
		}
		if e.variant != "" {
			k := siteKey(site, []byte(e.variant))
			var n uint32
			if v := vb.Get(k); len(v) == 4 {
				n = binary.BigEndian.Uint32(v)
			}
			if maxVariants > 0 && int(n) >= maxVariants {
				*dropped++
				continue
			}
			var buf [4]byte
			binary.BigEndian.PutUint32(buf[:], n+1)
			if err := vb.Put(k, buf[:]); err != nil {
				return err
			}
		}
		if err := seen.Put(sk, []byte{seenQueued}); err != nil {
			return err
		}
		if err := putEntry(fr, site, e); err != nil {
			return err
		}
	}
	return nil
}

func putEntry(fr *bolt.Bucket, site string, e *entry) error {
	seq, err := fr.NextSequence()
	if err != nil {
		return err
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return fr.Put(siteKey(site, b[:]), v)
}

// completion is what one finished fetch changes in the state, or a chunk
// of what it discovered (done nil), committed before the rest.
type completion struct {
	site        string
	done        *entry   // leaves the frontier, marked done
	requeue     *entry   // goes back at the end of the frontier (429/503 retry)
	found       []*entry // newly discovered URLs
	maxVariants int      // Config.MaxQueryVariants, for found
	recBytes    []byte   // the site's record after this fetch

	// dropped counts the found entries the query-variant rule dropped,
	// shared by a visit's chunks and completion; only the commit writes
	// it (nil: not counted).
	dropped *int
	// after runs once the completion is committed, in commit order.
	after func() error
}

// commitGroup applies completions, in order, in one transaction: one fsync
// for them all (see committer).
func (s *State) commitGroup(group []*completion) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, c := range group {
			if err := apply(tx, c); err != nil {
				return fmt.Errorf("%s: %w", c.site, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("crawler state: commit: %w", err)
	}
	return nil
}

func apply(tx *bolt.Tx, c *completion) error {
	fr := tx.Bucket(bucketFrontier)
	if c.done != nil {
		if err := fr.Delete(c.done.key); err != nil {
			return err
		}
		if c.requeue == nil {
			if err := tx.Bucket(bucketSeen).Put(seenKey(c.site, c.done.URL), []byte{seenDone}); err != nil {
				return err
			}
		}
	}
	if c.requeue != nil {
		if err := putEntry(fr, c.site, c.requeue); err != nil {
			return err
		}
	}
	dropped := c.dropped
	if dropped == nil {
		dropped = new(int)
	}
	if err := enqueue(tx, c.site, c.found, c.maxVariants, dropped); err != nil {
		return err
	}
	if c.recBytes != nil {
		return tx.Bucket(bucketSites).Put([]byte(c.site), c.recBytes)
	}
	return nil
}

// seed queues a site's seeds (those not seen yet) and marks it seeded.
func (s *State) seed(site string, es []*entry, rec *siteRecord) error {
	rec.Seeded = true
	err := s.db.Update(func(tx *bolt.Tx) error {
		var dropped int
		if err := enqueue(tx, site, es, 0, &dropped); err != nil {
			return err
		}
		return putSite(tx, site, rec)
	})
	if err != nil {
		return fmt.Errorf("crawler state: seed %s: %w", site, err)
	}
	return nil
}

// frontierLen counts a site's waiting URLs (for progress and tests).
func (s *State) frontierLen(site string) (int, error) {
	p := prefix(site)
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFrontier).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

func (s *State) robots(origin string) (*robotsRecord, bool, error) {
	var rec *robotsRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRobots).Get([]byte(origin))
		if v == nil {
			return nil
		}
		rec = &robotsRecord{}
		return json.Unmarshal(v, rec)
	})
	if err != nil {
		return nil, false, fmt.Errorf("crawler state: robots %s: %w", origin, err)
	}
	return rec, rec != nil, nil
}

func (s *State) saveRobots(origin string, rec *robotsRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRobots).Put([]byte(origin), v) })
}

// MovePayloads hands the payload digests an older crawl kept in this state
// file (before they moved to the WARC writer's own store, package
// warc/payloads) to put, in batches, then drops them from the state. put
// must commit each batch before it returns; if it fails, the digests stay
// here for the next try. A state without old digests costs one lookup.
func (s *State) MovePayloads(put func(map[string]warc.Original) error) error {
	for {
		batch := map[string]warc.Original{}
		var keys [][]byte
		err := s.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketPayloads)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, v := c.First(); k != nil && len(batch) < 10000; k, v = c.Next() {
				var rec payloadRecord
				if json.Unmarshal(v, &rec) == nil {
					batch[string(k)] = warc.Original{URI: rec.URI, Date: rec.Date, RecordID: rec.RecordID}
				}
				keys = append(keys, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("crawler state: old payload digests: %w", err)
		}
		if len(keys) == 0 {
			return s.db.Update(func(tx *bolt.Tx) error {
				if tx.Bucket(bucketPayloads) == nil {
					return nil
				}
				return tx.DeleteBucket(bucketPayloads)
			})
		}
		if err := put(batch); err != nil {
			return err
		}
		if err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketPayloads)
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("crawler state: old payload digests: %w", err)
		}
	}
}
