package index

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"crawl/internal/httpmsg"
	"crawl/internal/warc"
)

// A revisit record holds only the HTTP head of its response: its payload is
// that of the original capture it refers to (WARC-Refers-To-Target-URI and
// WARC-Refers-To-Date). The live crawl hands the index the page it parsed,
// so finding the original is needed only when records are read back from
// the files (catch-up, Rebuild). The original is nearly always a record
// seen shortly before in the same run (recentResponses); otherwise its
// capture is looked up in index.db, where it was committed long before.

// recentResponsesMax bounds the responses remembered by URI and date: far
// more than the records in flight between Observe and a commit.
const recentResponsesMax = 1 << 16

// recentResponses remembers where the last responses were written, by
// target URI and date.
type recentResponses struct {
	mu   sync.Mutex
	max  int
	locs map[string]warc.Location
	ring []string // grows to max, then is reused from next on
	next int
}

// newRecentResponses remembers up to n responses. Its memory grows with
// use: sized for n from the start, it cost every process that opens the
// index some 20 ms of clearing memory.
func newRecentResponses(n int) *recentResponses {
	return &recentResponses{max: max(1, n), locs: map[string]warc.Location{}}
}

func captureID(uri, date string) (string, bool) {
	t, err := time.Parse(time.RFC3339Nano, date)
	if uri == "" || err != nil {
		return "", false
	}
	return fmt.Sprintf("%s\x00%d", strings.Trim(uri, "<>"), t.UnixNano()), true
}

func (r *recentResponses) add(h warc.Header, loc warc.Location) {
	k, ok := captureID(h.Get("WARC-Target-URI"), h.Get("WARC-Date"))
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ring) < r.max {
		r.ring = append(r.ring, k)
		r.locs[k] = loc
		return
	}
	delete(r.locs, r.ring[r.next])
	r.ring[r.next] = k
	r.locs[k] = loc
	r.next = (r.next + 1) % len(r.ring)
}

// original returns where the response a revisit refers to was written.
func (r *recentResponses) original(h warc.Header) (warc.Location, bool) {
	k, ok := captureID(h.Get("WARC-Refers-To-Target-URI"), h.Get("WARC-Refers-To-Date"))
	if !ok {
		return warc.Location{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	loc, ok := r.locs[k]
	return loc, ok
}

// errNoOriginal: the capture a revisit refers to is not in this archive.
var errNoOriginal = errors.New("the original capture is not in the archive")

// originals implements originalFinder over the archive's files.
func (ix *Index) originals(h warc.Header, known warc.Location) ([]byte, error) {
	loc := known
	if loc.File == "" {
		var err error
		if loc, err = ix.findCapture(h.Get("WARC-Refers-To-Target-URI"), h.Get("WARC-Refers-To-Date")); err != nil {
			return nil, err
		}
	}
	var block []byte
	err := readRecordAt(ix.warcDir, loc, func(rec warc.Record) error {
		if t := strings.ToLower(rec.Header.Get("WARC-Type")); t != "response" {
			return fmt.Errorf("%w: %s:%d is a %s record", errNoOriginal, loc.File, loc.Offset, t)
		}
		var err error
		block, err = readBlock(rec.Block, ix.opts.blockLimit("response"))
		return err
	})
	return block, err
}

// findCapture looks up, in index.db, the response record of uri at date.
func (ix *Index) findCapture(uri, date string) (warc.Location, error) {
	uri = strings.Trim(uri, "<>")
	t, err := time.Parse(time.RFC3339Nano, date)
	if uri == "" || err != nil {
		return warc.Location{}, fmt.Errorf("%w: no WARC-Refers-To-Target-URI and -Date", errNoOriginal)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return warc.Location{}, fmt.Errorf("%w: %v", errNoOriginal, err)
	}
	p := key([]byte(hostKey(NormalizeHost(u.Hostname()))), []byte(uri), timeBytes(t))
	var loc warc.Location
	err = ix.store.view(func(tx *bolt.Tx) error {
		return scan(tx.Bucket(bucketCaptures), p, func(k, v []byte) error {
			if len(k) != len(p)+8 {
				return nil
			}
			var c captureValue
			if c.unmarshal(v) != nil || c.Revisit {
				return nil
			}
			loc = warc.Location{File: c.WARC, Offset: c.Offset, Length: c.Length}
			return errFound
		})
	})
	if errors.Is(err, errFound) {
		return loc, nil
	}
	if err != nil {
		return loc, err
	}
	return loc, fmt.Errorf("%w: %s at %s", errNoOriginal, uri, date)
}

var errFound = errors.New("found")

// ArchivedSince returns the latest capture of uri made at or after since,
// if the archive holds one: its WARC-Record-ID and the HTTP response it
// stands for, as recorded (cut at the parse limit plus room for the head, as
// Observe reads it). For a revisit that is its own HTTP head over its
// original's payload (revisitResponse), as decodeCapture reads it. A crawl
// resuming after a kill -9 asks it about the URLs it left in flight, whose
// records may have been written just before the kill kept the crawler's
// state from saying so. A revisit whose original is not in the archive is
// not found (the URL is fetched again).
func (ix *Index) ArchivedSince(ctx context.Context, uri string, since time.Time) (block []byte, recordID string, ok bool, err error) {
	if err := ix.Flush(); err != nil {
		return nil, "", false, err
	}
	u, err := url.Parse(uri)
	if err != nil || u.Hostname() == "" {
		return nil, "", false, nil
	}
	p := prefix([]byte(hostKey(NormalizeHost(u.Hostname()))), []byte(uri))
	var loc warc.Location
	err = ix.store.view(func(tx *bolt.Tx) error {
		return scan(tx.Bucket(bucketCaptures), p, func(k, v []byte) error {
			if len(k) != len(p)+16 { // T and R: another URL's keys do not end here
				return nil
			}
			var c captureValue
			if c.unmarshal(v) != nil || c.Time.Before(since) {
				return nil
			}
			loc = warc.Location{File: c.WARC, Offset: c.Offset, Length: c.Length} // the latest wins: keys sort by time
			return nil
		})
	})
	if err != nil || loc.File == "" {
		return nil, "", false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, "", false, err
	}
	var revisit warc.Header
	err = readRecordAt(ix.warcDir, loc, func(rec warc.Record) error {
		recordID = rec.Header.Get("WARC-Record-ID")
		if strings.EqualFold(rec.Header.Get("WARC-Type"), "revisit") {
			revisit = slices.Clone(rec.Header)
		}
		var err error
		block, err = readBlock(rec.Block, ix.opts.blockLimit("response"))
		return err
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("index: read the capture of %s at %s:%d: %w", uri, loc.File, loc.Offset, err)
	}
	if revisit != nil {
		orig, err := ix.originals(revisit, warc.Location{})
		if errors.Is(err, errNoOriginal) {
			return nil, "", false, nil
		}
		if err != nil {
			return nil, "", false, fmt.Errorf("index: read the original of the revisit of %s at %s:%d: %w", uri, loc.File, loc.Offset, err)
		}
		if block, err = revisitResponse(block, orig); err != nil {
			return nil, "", false, nil // not readable as HTTP: fetched again
		}
	}
	return block, recordID, true, nil
}

// revisitResponse is the HTTP response a revisit stands for: the head its
// own fetch answered (its block: status, type, coding, language, which say
// how the payload is read, and may differ from the original's when the
// same bytes were served elsewhere as another type) over the payload of
// its original response (withOriginalPayload), framed by a Content-Length
// (the two may have been framed differently). An original cut short gives
// what it holds.
func revisitResponse(head, original []byte) ([]byte, error) {
	resp, err := httpmsg.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	if err != nil {
		return nil, err
	}
	if err := withOriginalPayload(resp, original); err != nil {
		return nil, err
	}
	payload, _ := io.ReadAll(resp.Body) // cut at the block limit: what there is
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(payload))
	resp.ContentLength, resp.TransferEncoding = int64(len(payload)), nil
	var b bytes.Buffer
	if err := resp.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
