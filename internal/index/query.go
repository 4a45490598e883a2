package index

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bolt "go.etcd.io/bbolt"

	"crawl/internal/archive"
)

// HostRow is one line of `crawl hosts`.
type HostRow struct {
	Host     string   `json:"host"`
	Site     string   `json:"site"`
	Role     string   `json:"role"` // web, nameserver, mail, none ("" for hosts only crawled, never discovered)
	Addrs    []string `json:"addrs"`
	Status   string   `json:"status"` // pending, partial, done, failed
	Captures int64    `json:"captures"`
	Bytes    int64    `json:"bytes"` // HTTP messages captured, as sent (record blocks)
	Notes    int64    `json:"notes"` // limits its captures hit (archive.Note records)
	Error    string   `json:"error"` // the last error, "" if none
}

// CaptureRow is one line of `crawl captures HOST`.
type CaptureRow struct {
	URL       string    `json:"url"`
	Time      time.Time `json:"time"` // RFC 3339 in JSON
	Status    int       `json:"status"`
	MIME      string    `json:"mime"`
	Digest    string    `json:"digest"`
	WARC      string    `json:"warc"`
	Offset    int64     `json:"offset"`
	Length    int64     `json:"length"`
	Revisit   bool      `json:"revisit,omitempty"`
	Truncated string    `json:"truncated,omitempty"`
	// Notes are the kinds of the limits this capture hit (archive.Note:
	// redirect-loop, max-redirects, truncated, links-cut, trap,
	// url-too-long), sorted, each once.
	Notes []string `json:"notes,omitempty"`
}

// HeadlineRow is one line of `crawl headlines HOST`.
type HeadlineRow struct {
	URL  string `json:"url"`
	Tag  string `json:"tag"` // title, h1 … h6
	Text string `json:"text"`
}

// LinkRow is one line of `crawl links HOST`.
type LinkRow struct {
	From string `json:"from"`
	To   string `json:"to"`
	Host string `json:"host"` // the host of To
}

// Reader answers queries. It holds no lock between queries: each query
// opens index.db read-only, reads, and closes it, so it works while a crawl
// in another process writes (it waits at most LockTimeout for a batch).
type Reader struct {
	layout archive.Layout
	store  *store
	opts   Options
}

// OpenReader opens an archive's index for queries. It fails with ErrEmpty
// when there is no index yet.
func OpenReader(layout archive.Layout) (*Reader, error) {
	return OpenReaderOptions(layout, Options{})
}

// OpenReaderOptions is OpenReader with a lock timeout and logger.
func OpenReaderOptions(layout archive.Layout, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	r := &Reader{layout: layout, opts: opts, store: &store{path: layout.IndexPath(), lockTimeout: opts.LockTimeout}}
	if err := r.store.view(func(*bolt.Tx) error { return nil }); err != nil {
		return nil, err
	}
	return r, nil
}

// Close does nothing: a Reader holds nothing open between queries.
func (r *Reader) Close() error { return nil }

func (r *Reader) Hosts(ctx context.Context) ([]HostRow, error) { return hosts(ctx, r.store) }
func (r *Reader) Captures(ctx context.Context, host string) ([]CaptureRow, error) {
	return captures(ctx, r.store, host)
}
func (r *Reader) Headlines(ctx context.Context, host string) ([]HeadlineRow, error) {
	return headlines(ctx, r.store, host)
}
func (r *Reader) Links(ctx context.Context, host string, internal bool) ([]LinkRow, error) {
	return links(ctx, r.store, host, internal)
}

// Search runs a full-text query and returns its hits.
func (r *Reader) Search(ctx context.Context, req SearchRequest) ([]Hit, error) {
	res, err := r.SearchPage(ctx, req)
	return res.Hits, err
}

// SearchPage runs a full-text query and returns one page of hits with the
// total. The search index is opened read-only for the query alone: a crawl
// in another process writes it between queries (ErrLocked only if it did
// not let go within LockTimeout).
func (r *Reader) SearchPage(ctx context.Context, req SearchRequest) (SearchResult, error) {
	return searchReadOnly(ctx, r.store, r.layout.SearchDir(), r.opts.LockTimeout, req)
}

// searchReadOnly queries the search index in dir, opened read-only, and
// says how far it is behind index.db (st).
func searchReadOnly(ctx context.Context, st *store, dir string, lockTimeout time.Duration, req SearchRequest) (SearchResult, error) {
	si, err := openSearch(dir, false, true, lockTimeout)
	if err != nil {
		return SearchResult{}, err
	}
	defer si.Close()
	res, err := search(ctx, si, req)
	if err == nil {
		res.Behind = behind(st, storedCheckpoint(si))
	}
	return res, err
}

// The same queries on the writing side see everything observed so far.

func (ix *Index) Hosts(ctx context.Context) ([]HostRow, error) {
	if err := ix.Flush(); err != nil {
		return nil, err
	}
	return hosts(ctx, ix.store)
}
func (ix *Index) Captures(ctx context.Context, host string) ([]CaptureRow, error) {
	if err := ix.Flush(); err != nil {
		return nil, err
	}
	return captures(ctx, ix.store, host)
}
func (ix *Index) Headlines(ctx context.Context, host string) ([]HeadlineRow, error) {
	if err := ix.Flush(); err != nil {
		return nil, err
	}
	return headlines(ctx, ix.store, host)
}
func (ix *Index) Links(ctx context.Context, host string, internal bool) ([]LinkRow, error) {
	if err := ix.Flush(); err != nil {
		return nil, err
	}
	return links(ctx, ix.store, host, internal)
}
func (ix *Index) Search(ctx context.Context, req SearchRequest) ([]Hit, error) {
	res, err := ix.SearchPage(ctx, req)
	return res.Hits, err
}

// SearchPage waits for the search index to take in everything observed so
// far, then queries it.
func (ix *Index) SearchPage(ctx context.Context, req SearchRequest) (SearchResult, error) {
	if err := ix.FinishSearch(ctx, nil); err != nil {
		return SearchResult{}, err
	}
	if ix.search == nil {
		return searchReadOnly(ctx, ix.store, ix.searchDir, ix.opts.LockTimeout, req)
	}
	var res SearchResult
	err := ix.search.withIndex(func(idx bleve.Index) error {
		var err error
		res, err = search(ctx, idx, req)
		return err
	})
	return res, err
}

// ctxCheckEvery is how many rows a scan reads between checks of ctx.
const ctxCheckEvery = 1024

func hosts(ctx context.Context, s *store) ([]HostRow, error) {
	var rows []HostRow
	err := s.view(func(tx *bolt.Tx) error {
		i := 0
		return tx.Bucket(bucketHosts).ForEach(func(k, v []byte) error {
			if i++; i%ctxCheckEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var h hostValue
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("host %s: %w", k, err)
			}
			status, lastErr := h.status()
			addrs := h.Addrs
			if addrs == nil {
				addrs = []string{}
			}
			rows = append(rows, HostRow{Host: h.Name, Site: h.Site, Role: h.Role, Addrs: addrs, Status: status,
				Captures: h.Captures, Bytes: h.Bytes, Notes: h.Notes, Error: lastErr})
			return nil
		})
	})
	return rows, err
}

// knownHost checks the host exists and returns its key.
func knownHost(tx *bolt.Tx, host string) ([]byte, error) {
	name := NormalizeHost(host)
	hk := []byte(hostKey(name))
	if tx.Bucket(bucketHosts).Get(hk) == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownHost, name)
	}
	return hk, nil
}

func captures(ctx context.Context, s *store, host string) ([]CaptureRow, error) {
	var rows []CaptureRow
	err := s.view(func(tx *bolt.Tx) error {
		hk, err := knownHost(tx, host)
		if err != nil {
			return err
		}
		i := 0
		p := prefix(hk)
		intern := map[string]string{}
		notesB := tx.Bucket(bucketNotes) // nil in an index written before notes existed
		return scan(tx.Bucket(bucketCaptures), p, func(k, v []byte) error {
			if i++; i%ctxCheckEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			row, err := captureRow(p, k, v, intern)
			if err != nil {
				return err
			}
			if notesB != nil {
				err := scan(notesB, noteCapturePrefix(hk, row.URL, k[len(k)-8:]), func(_, v []byte) error {
					var n archive.Note
					if err := json.Unmarshal(v, &n); err != nil {
						return fmt.Errorf("note on %s: %w", row.URL, err)
					}
					row.Notes = append(row.Notes, n.Kind)
					return nil
				})
				if err != nil {
					return err
				}
			}
			slices.Sort(row.Notes)
			row.Notes = slices.Compact(row.Notes)
			rows = append(rows, row)
			return nil
		})
	})
	return rows, err
}

func headlines(ctx context.Context, s *store, host string) ([]HeadlineRow, error) {
	var rows []HeadlineRow
	err := s.view(func(tx *bolt.Tx) error {
		hk, err := knownHost(tx, host)
		if err != nil {
			return err
		}
		p := prefix(hk)
		i := 0
		return scan(tx.Bucket(bucketPages), p, func(k, v []byte) error {
			if i++; i%ctxCheckEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var pv pageValue
			if err := json.Unmarshal(v, &pv); err != nil {
				return fmt.Errorf("page %q: %w", k, err)
			}
			u := string(k[len(p):])
			for _, h := range pv.Headlines {
				rows = append(rows, HeadlineRow{URL: u, Tag: h.Tag, Text: h.Text})
			}
			return nil
		})
	})
	return rows, err
}

func links(ctx context.Context, s *store, host string, internal bool) ([]LinkRow, error) {
	var rows []LinkRow
	kind := []byte("e")
	if internal {
		kind = []byte("i")
	}
	err := s.view(func(tx *bolt.Tx) error {
		hk, err := knownHost(tx, host)
		if err != nil {
			return err
		}
		p := prefix(hk, kind)
		i := 0
		return scan(tx.Bucket(bucketLinks), p, func(k, v []byte) error {
			if i++; i%ctxCheckEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			to, from, ok := bytes.Cut(k[len(p):], []byte{sep})
			if !ok {
				return fmt.Errorf("link key %q: %w", k, errCorrupt)
			}
			target, _, _ := strings.Cut(string(v), "\x00")
			rows = append(rows, LinkRow{From: string(from), To: string(to), Host: target})
			return nil
		})
	})
	return rows, err
}
