package index

// Queries for replay and export (crawl serve, crawl wacz): one URL's
// captures across time, scans of a host's or a domain's captures for the CDX
// server, and the list of pages with their titles. They read the same
// buckets as query.go, through the same store, so they work while a crawl
// writes the archive from another process.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PageRow is one page of `crawl wacz`'s pages list: the latest capture of a
// URL that gave a page (headlines and, when searchable, a search document).
type PageRow struct {
	URL    string    `json:"url"`
	Host   string    `json:"host"`
	Time   time.Time `json:"time"`
	Title  string    `json:"title"`
	Status int       `json:"status"`
	MIME   string    `json:"mime"`
	WARC   string    `json:"warc"` // the file holding that capture
}

// URLCaptures returns every capture of one URL, as archived (its
// WARC-Target-URI, byte for byte), oldest first. A URL nothing captured has
// none: the answer is empty, not an error.
func (r *Reader) URLCaptures(ctx context.Context, rawURL string) ([]CaptureRow, error) {
	return urlCaptures(ctx, r.store, rawURL)
}

// ScanCaptures calls fn for every capture of host, and with subdomains for
// those of every host below it too (www.host, a.b.host), in key order: by
// host (labels reversed), then URL, then time. It stops at fn's first error
// and returns it. An unknown host has no captures. The scan holds the index
// open: fn must not query the index itself.
func (r *Reader) ScanCaptures(ctx context.Context, host string, subdomains bool, fn func(CaptureRow) error) error {
	return scanCaptures(ctx, r.store, host, subdomains, fn)
}

// Pages calls fn for every page of the archive (the latest capture of each
// URL that had headlines or text to index, and of each redirect), in key
// order, with the title from its headlines and the status, MIME type and
// WARC file of that capture. It stops at fn's first error and returns it.
// As with ScanCaptures, fn must not query the index itself.
func (r *Reader) Pages(ctx context.Context, fn func(PageRow) error) error {
	return pages(ctx, r.store, fn)
}

func urlCaptures(ctx context.Context, s *store, rawURL string) ([]CaptureRow, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil, nil // nothing is archived under a URL that is not absolute
	}
	hk := []byte(hostKey(NormalizeHost(u.Hostname())))
	var rows []CaptureRow
	err = s.view(func(tx *bolt.Tx) error {
		p := prefix(hk, []byte(rawURL))
		hp := prefix(hk)
		i := 0
		return scan(tx.Bucket(bucketCaptures), p, func(k, v []byte) error {
			if i++; i%ctxCheckEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			row, err := captureRow(hp, k, v, nil)
			if err != nil {
				return err
			}
			rows = append(rows, row)
			return nil
		})
	})
	return rows, err
}

func scanCaptures(ctx context.Context, s *store, host string, subdomains bool, fn func(CaptureRow) error) error {
	hk := []byte(hostKey(NormalizeHost(host)))
	return s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCaptures).Cursor()
		intern := map[string]string{}
		i := 0
		// The host's own keys start with hk 0, its subdomains' with hk ",";
		// ',' sorts after 0, so one forward scan from hk covers both.
		for k, v := c.Seek(hk); k != nil && bytes.HasPrefix(k, hk); k, v = c.Next() {
			if i++; i%ctxCheckEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			rest := k[len(hk):]
			var hp []byte
			switch {
			case len(rest) == 0:
				continue
			case rest[0] == sep:
				hp = k[:len(hk)+1]
			case rest[0] == ',' && subdomains:
				end := bytes.IndexByte(k, sep)
				if end < 0 {
					return fmt.Errorf("capture key %q: %w", k, errCorrupt)
				}
				hp = k[:end+1]
			case rest[0] < ',':
				continue // another host whose key only starts like this one (a name with a lower byte after it)
			default:
				return nil // past the host (and its subdomains)
			}
			row, err := captureRow(hp, k, v, intern)
			if err != nil {
				return err
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// captureRow decodes one capture key and value; hp is the key's host prefix
// (H and its separator).
func captureRow(hp, k, v []byte, intern map[string]string) (CaptureRow, error) {
	var c captureValue
	if err := c.unmarshalInterned(v, intern); err != nil || len(k) < len(hp)+captureKeySuffix {
		return CaptureRow{}, fmt.Errorf("capture %q: %w", k, errCorrupt)
	}
	return CaptureRow{URL: string(k[len(hp) : len(k)-captureKeySuffix]), Time: c.Time, Status: c.Status, MIME: c.MIME,
		Digest: c.Digest, WARC: c.WARC, Offset: c.Offset, Length: c.Length, Revisit: c.Revisit, Truncated: c.Truncated}, nil
}

func pages(ctx context.Context, s *store, fn func(PageRow) error) error {
	return s.view(func(tx *bolt.Tx) error {
		hostsB, capB := tx.Bucket(bucketHosts), tx.Bucket(bucketCaptures)
		names := map[string]string{} // host key -> name
		intern := map[string]string{}
		i := 0
		return tx.Bucket(bucketPages).ForEach(func(k, v []byte) error {
			if i++; i%ctxCheckEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			hk, u, ok := bytes.Cut(k, []byte{sep})
			if !ok {
				return fmt.Errorf("page key %q: %w", k, errCorrupt)
			}
			var pv pageValue
			if err := json.Unmarshal(v, &pv); err != nil {
				return fmt.Errorf("page %q: %w", k, err)
			}
			row := PageRow{URL: string(u), Time: pv.Time}
			for _, h := range pv.Headlines {
				if h.Tag == "title" {
					row.Title = h.Text
					break
				}
			}
			name, ok := names[string(hk)]
			if !ok {
				var hv hostValue
				if _, err := getJSON(hostsB, hk, &hv); err != nil {
					return err
				}
				name = hv.Name
				names[string(hk)] = name
			}
			row.Host = name
			// The capture the page entry follows: its key starts with
			// H 0 URL 0 T.
			cp := key(hk, u, timeBytes(pv.Time))
			ck, cv := capB.Cursor().Seek(cp)
			if ck != nil && bytes.HasPrefix(ck, cp) {
				var c captureValue
				if err := c.unmarshalInterned(cv, intern); err != nil {
					return fmt.Errorf("capture %q: %w", ck, errCorrupt)
				}
				row.Status, row.MIME, row.WARC = c.Status, c.MIME, c.WARC
			}
			return fn(row)
		})
	})
}
