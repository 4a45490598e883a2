package index

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"crawl/internal/archive"
)

// Bucket names of index.db (the schema is in the package doc).
var (
	bucketMeta     = []byte("meta")
	bucketHosts    = []byte("hosts")
	bucketCaptures = []byte("captures")
	bucketPages    = []byte("pages")
	bucketLinks    = []byte("links")
	bucketErrors   = []byte("errors")
	bucketAttempts = []byte("attempts")
	bucketFiles    = []byte("files")
	bucketNotes    = []byte("notes")
	allBuckets     = [][]byte{bucketMeta, bucketHosts, bucketCaptures, bucketPages, bucketLinks, bucketErrors, bucketAttempts, bucketFiles, bucketNotes}
)

// schemaVersion is stored under meta/schema; a file with another version is
// refused by readers (ErrSchema) and rebuilt by the next writer.
const schemaVersion = "crawl-index-3"

const sep = 0x00 // never occurs in host names or URLs

// store opens index.db for each stretch of work and closes it afterwards,
// so the bbolt file lock is held only while there is work. That is what
// lets `crawl hosts` in another process read while a crawl writes: bbolt
// takes an exclusive flock for a read-write open, and a read-only open waits
// (polling every 50 ms, up to lockTimeout) until the writer has let go.
//
// The writer keeps the file open across back-to-back batches (reopening
// costs a fresh mmap whose every touched page faults in again), but lets go
// when its queue is empty, and at least every lease for a gap longer than
// bbolt's poll interval, so a waiting reader always gets in.
//
// mu serialises the opens of one process, because flock conflicts between
// two opens of the same file even inside one process; queries of the
// writer's own process use the file it holds.
type store struct {
	path        string
	lockTimeout time.Duration
	noSync      bool
	mu          sync.Mutex
	db          *bolt.DB // held read-write by the writer, or nil
	opened      time.Time
}

const (
	writerLease = time.Second
	writerGap   = 120 * time.Millisecond // > bbolt's 50 ms lock poll, twice
)

// initialMmapSize is the address space index.db is mapped with at first.
// bbolt remaps a growing file at each doubling, and a remap copies every
// key the open transaction holds; mapped pages the file does not fill
// cost nothing. (A remap of the index.db a crawl writes was a sixth of
// the index writer's CPU.)
const initialMmapSize = 256 << 20

func (s *store) open(readOnly bool) (*bolt.DB, error) {
	if readOnly {
		if _, err := os.Stat(s.path); errors.Is(err, os.ErrNotExist) {
			return nil, ErrEmpty
		}
	}
	db, err := bolt.Open(s.path, 0o644, &bolt.Options{
		Timeout:         s.lockTimeout,
		ReadOnly:        readOnly,
		NoSync:          s.noSync,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: initialMmapSize,
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout) || errors.Is(err, syscall.EWOULDBLOCK):
		return nil, fmt.Errorf("%w (%s, waited %s)", ErrLocked, s.path, s.lockTimeout)
	case err != nil:
		return nil, fmt.Errorf("open index %s: %w", s.path, err)
	}
	return db, nil
}

// update runs fn in one read-write transaction, opening the file if the
// writer does not hold it yet. The file stays held until release.
func (s *store) update(fn func(tx *bolt.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		db, err := s.open(false)
		if err != nil {
			return err
		}
		s.db, s.opened = db, time.Now()
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := ensureSchema(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// release closes the held file. With leaseOnly, it does so only once the
// lease is over, and then pauses so that waiting readers get their turn.
func (s *store) release(leaseOnly bool) error {
	s.mu.Lock()
	if s.db == nil || (leaseOnly && time.Since(s.opened) < writerLease) {
		s.mu.Unlock()
		return nil
	}
	err := s.db.Close()
	s.db = nil
	s.mu.Unlock()
	if leaseOnly {
		time.Sleep(writerGap)
	}
	if err != nil {
		return fmt.Errorf("close index %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in one read transaction.
func (s *store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.db
	if db == nil {
		var err error
		if db, err = s.open(true); err != nil {
			return err
		}
		defer db.Close()
	}
	return db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return ErrEmpty
		}
		if v := meta.Get([]byte("schema")); string(v) != schemaVersion {
			return fmt.Errorf("%w: %s has schema %q, want %q: run crawl reindex", ErrSchema, s.path, v, schemaVersion)
		}
		return fn(tx)
	})
}

func ensureSchema(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get([]byte("schema")); {
	case v == nil:
		return meta.Put([]byte("schema"), []byte(schemaVersion))
	case string(v) != schemaVersion:
		return fmt.Errorf("%w: schema %q, want %q: run crawl reindex", ErrSchema, v, schemaVersion)
	}
	return nil
}

// hostKey turns a host name into its sort key: labels reversed and joined by
// commas (www.example.co.kr -> kr,co,example,www), so a domain and its
// subdomains sit together. www is kept: www.x and x are different hosts. IP
// addresses are kept as they are.
func hostKey(host string) string {
	if isAddress(host) {
		return host
	}
	labels := strings.Split(host, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ",")
}

// isAddress reports whether host is an IP address (IPv6 with its colons or
// brackets), not a name: its dots do not separate domains.
func isAddress(host string) bool { return strings.ContainsAny(host, ":[]") || isIPv4(host) }

func isIPv4(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// key joins parts with the separator byte.
func key(parts ...[]byte) []byte {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			k = append(k, sep)
		}
		k = append(k, p...)
	}
	return k
}

// prefix is key(parts...) plus a trailing separator: everything below it.
func prefix(parts ...[]byte) []byte { return append(key(parts...), sep) }

func timeBytes(t time.Time) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano()))
	return b[:]
}

// scan calls fn for every key of b starting with p, in order.
func scan(b *bolt.Bucket, p []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// hostValue is the hosts bucket's value (JSON: small, read rarely).
type hostValue struct {
	Name        string    `json:"name"`
	Site        string    `json:"site,omitempty"`
	Role        string    `json:"role,omitempty"`
	Delegated   bool      `json:"delegated,omitempty"`
	Addrs       []string  `json:"addrs,omitempty"`
	Zone        string    `json:"zone,omitempty"`
	Source      string    `json:"source,omitempty"`
	Nameservers []string  `json:"nameservers,omitempty"`
	Discovered  time.Time `json:"discovered,omitzero"` // WARC-Date of the HostEntry applied

	Status      string    `json:"status,omitempty"` // from the last HostStatus record
	StatusError string    `json:"status_error,omitempty"`
	StatusDate  time.Time `json:"status_date,omitzero"`

	Captures int64 `json:"captures"`
	Bytes    int64 `json:"bytes"`

	Notes int64 `json:"notes,omitempty"` // archive.Note records: limits its captures hit

	Errors        int64     `json:"errors,omitempty"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorDate time.Time `json:"last_error_date,omitzero"`
}

// applyEntry takes what discovery said of the host, unless a later record
// already did (last one wins by WARC-Date).
func (h *hostValue) applyEntry(v *archive.HostEntry, date time.Time) {
	if date.Before(h.Discovered) {
		return
	}
	h.Site, h.Role, h.Delegated, h.Addrs = v.Site, v.Role, v.Delegated, v.Addrs
	h.Zone, h.Source, h.Nameservers, h.Discovered = v.Zone, v.Source, v.Nameservers, date
}

// status derives the host's crawl state: the last HostStatus wins; without
// one, a host with any capture or failed fetch is partial, else pending.
func (h *hostValue) status() (status, lastErr string) {
	lastErr = h.LastError
	if h.StatusError != "" && !h.StatusDate.Before(h.LastErrorDate) {
		lastErr = h.StatusError
	}
	switch {
	case h.Status != "":
		return h.Status, lastErr
	case h.Captures > 0 || h.Errors > 0:
		return "partial", lastErr
	}
	return "pending", lastErr
}

// captureValue is the captures bucket's value, in a compact binary form:
// listing 1,000 captures must take well under a millisecond, and on a fresh
// mmap every page read faults in, so fewer bytes per capture is faster.
// URL lives in the key only, and RecordID only as its hash there (see
// captureKey).
type captureValue struct {
	URL       string
	Time      time.Time
	Status    int
	MIME      string
	Digest    string
	WARC      string
	Offset    int64
	Length    int64
	Bytes     int64 // Content-Length of the record block (the HTTP message)
	Revisit   bool
	Truncated string
	RecordID  string
}

func (c *captureValue) marshal() []byte {
	b := make([]byte, 0, 48+len(c.MIME)+len(c.Digest)+len(c.WARC)+len(c.Truncated))
	b = binary.AppendVarint(b, c.Time.UnixNano())
	b = binary.AppendUvarint(b, uint64(c.Status))
	b = binary.AppendVarint(b, c.Offset)
	b = binary.AppendVarint(b, c.Length)
	b = binary.AppendVarint(b, c.Bytes)
	var flags uint64
	if c.Revisit {
		flags |= 1
	}
	b = binary.AppendUvarint(b, flags)
	for _, s := range []string{c.MIME, c.Digest, c.WARC, c.Truncated} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errCorrupt = errors.New("corrupt capture value")

// captureKey is H 0 URL 0 T R: R is an 8-byte hash of the record ID, so a
// record indexed twice lands on the same key, and two records of one URL at
// the same instant do not collide.
func captureKey(hk []byte, c *captureValue) []byte {
	return append(key(hk, []byte(c.URL), timeBytes(c.Time)), recordHash(c.RecordID)...)
}

// noteKey is H 0 URL 0 C N: C is the capture key's R of the capture the
// note is about (so a capture's notes are the range H 0 URL 0 C), N the
// same hash of the note's own record ID (a note indexed twice lands on
// the same key).
func noteKey(hk []byte, n *archive.Note, recordID string) []byte {
	return append(noteCapturePrefix(hk, n.URL, recordHash(n.Capture)), recordHash(recordID)...)
}

func noteCapturePrefix(hk []byte, url string, capture []byte) []byte {
	return key(hk, []byte(url), capture)
}

// recordHash is the 8-byte hash of a record ID that keys use.
func recordHash(id string) []byte {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum(nil)
}

// captureKeySuffix is the length of 0 T R at the end of a capture key.
const captureKeySuffix = 1 + 8 + 8

func (c *captureValue) unmarshal(b []byte) error { return c.unmarshalInterned(b, nil) }

// unmarshalInterned shares the strings that repeat from capture to capture
// (MIME type, WARC file name) through intern, if not nil.
func (c *captureValue) unmarshalInterned(b []byte, intern map[string]string) error {
	var ints [6]int64
	for i := range ints {
		var n int
		if i == 1 || i == 5 {
			var u uint64
			u, n = binary.Uvarint(b)
			ints[i] = int64(u)
		} else {
			ints[i], n = binary.Varint(b)
		}
		if n <= 0 {
			return errCorrupt
		}
		b = b[n:]
	}
	c.Time = time.Unix(0, ints[0]).UTC()
	c.Status, c.Offset, c.Length, c.Bytes, c.Revisit = int(ints[1]), ints[2], ints[3], ints[4], ints[5]&1 != 0
	for _, dst := range []*string{&c.MIME, &c.Digest, &c.WARC, &c.Truncated} {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return errCorrupt
		}
		raw := b[n : n+int(l)]
		if intern != nil && dst != &c.Digest {
			if v, ok := intern[string(raw)]; ok {
				*dst = v
			} else {
				*dst = string(raw)
				intern[*dst] = *dst
			}
		} else {
			*dst = string(raw)
		}
		b = b[n+int(l):]
	}
	return nil
}

// pageValue is the pages bucket's value: the latest capture of one URL that
// was an indexable page, with its headlines.
type pageValue struct {
	Time      time.Time  `json:"time"`
	Headlines []headline `json:"headlines,omitempty"`
}

type headline struct {
	Tag  string `json:"tag"`
	Text string `json:"text"`
}

func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	raw := b.Get(k)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode %s/%q: %w", "index", k, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}

// putCheckpoints records, for each WARC file, the end offset of the last
// record applied; a checkpoint only moves forward.
func putCheckpoints(tx *bolt.Tx, marks map[string]int64) error {
	b := tx.Bucket(bucketFiles)
	for name, end := range marks {
		if old := checkpointValue(b.Get([]byte(name))); old >= end {
			continue
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(end))
		if err := b.Put([]byte(name), v[:]); err != nil {
			return err
		}
	}
	return nil
}

func checkpointValue(v []byte) int64 {
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// checkpoints reads every file's checkpoint.
func (s *store) checkpoints() (map[string]int64, error) {
	out := map[string]int64{}
	err := s.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketFiles); b != nil {
			b.ForEach(func(k, v []byte) error {
				out[string(k)] = checkpointValue(v)
				return nil
			})
		}
		return nil
	})
	return out, err
}
