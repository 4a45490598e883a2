// Package archive names the parts of an archive folder and defines the
// metadata records crawl writes about its own work: the hosts discovery found,
// the zone transfers it attempted, fetches that failed, limits a capture hit
// (notes) and each host's outcome.
//
// These records live in the WARC files beside the captures, so the WARCs
// alone hold everything the index knows, and `crawl reindex` can rebuild it.
package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Layout names the parts of one archive folder.
type Layout struct{ Root string }

func (l Layout) WARCDir() string   { return filepath.Join(l.Root, "warc") }
func (l Layout) ZoneDir() string   { return filepath.Join(l.Root, "zones") }
func (l Layout) StateDir() string  { return filepath.Join(l.Root, "state") }
func (l Layout) IndexPath() string { return filepath.Join(l.Root, "index.db") }

// PayloadsPath is the WARC writer's store of payload digests (package
// warc/payloads), kept with the crawler state: both make a later crawl of
// the archive continue the earlier ones.
func (l Layout) PayloadsPath() string { return filepath.Join(l.StateDir(), "payloads.db") }
func (l Layout) SearchDir() string    { return filepath.Join(l.Root, "search") }

// Create makes the folders of the layout that do not exist yet.
func (l Layout) Create() error {
	for _, dir := range []string{l.WARCDir(), l.ZoneDir(), l.StateDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
	}
	return nil
}

// Target URI prefixes of crawl's own metadata records.
const (
	HostURIPrefix       = "urn:x-crawl:host:"
	HostsURIPrefix      = "urn:x-crawl:hosts:" // a batch of HostEntry lines found in one zone
	AttemptURIPrefix    = "urn:x-crawl:attempt:"
	HostStatusURIPrefix = "urn:x-crawl:host-status:"
	NoteURIPrefix       = "urn:x-crawl:note:" // then the URL the note is about
)

// ContentType of crawl's metadata records; ContentTypeLines of the batched
// host records (one JSON HostEntry per line).
const (
	ContentType      = "application/json"
	ContentTypeLines = "application/x-ndjson"
)

// HostBatch is how many HostEntry lines one batched record holds at most:
// a zone of a million names becomes a thousand records, not a million
// (each record is a gzip member of its own, costly when tiny).
const HostBatch = 250

// HostEntry is one name discovery found. It mirrors discover.Host, so the
// index does not depend on the discover package.
type HostEntry struct {
	Name        string    `json:"name"`
	Site        string    `json:"site"`
	Role        string    `json:"role"` // web, nameserver, mail, none
	Delegated   bool      `json:"delegated"`
	Addrs       []string  `json:"addrs"`
	Zone        string    `json:"zone"`
	Source      string    `json:"source"` // delegation, A, AAAA, CNAME, probe
	Nameservers []string  `json:"nameservers,omitempty"`
	Found       time.Time `json:"found"`
}

// Attempt is one zone transfer attempt.
type Attempt struct {
	Zone     string    `json:"zone"`
	Server   string    `json:"server"`  // IP:port
	Outcome  string    `json:"outcome"` // transferred, refused, not-authoritative, timeout, connection-refused, broken
	Error    string    `json:"error,omitempty"`
	Serial   uint32    `json:"serial,omitempty"`
	Records  int       `json:"records,omitempty"`
	Duration string    `json:"duration"`
	Time     time.Time `json:"time"`
}

// FetchError records a fetch that produced no HTTP response (DNS, refused,
// reset, timeout). Its WARC-Target-URI is the URL.
type FetchError struct {
	URL   string    `json:"url"`
	Host  string    `json:"host"`
	Error string    `json:"error"`
	Time  time.Time `json:"time"`
}

// Note records a limit one capture hit: the crawl went on, but what was
// archived of the URL, or of where it leads, is not all there was. Its
// target URI is NoteURI(URL); Capture names the response (or revisit)
// record it is about.
type Note struct {
	URL     string    `json:"url"`
	Host    string    `json:"host"`
	Kind    string    `json:"kind"`   // one of the Note* kinds
	Detail  string    `json:"detail"` // what happened, with the limit's flag
	Capture string    `json:"capture,omitempty"`
	Time    time.Time `json:"time"`
}

// Kinds of Note.
const (
	NoteRedirectLoop = "redirect-loop" // the Location leads back into its own chain
	NoteMaxRedirects = "max-redirects" // the chain was cut at --max-redirects
	NoteTruncated    = "truncated"     // the body was cut: at --max-body, by a timeout or a disconnect
	NoteLinksCut     = "links-cut"     // the page held more links than --max-links
	NoteTrap         = "trap"          // links dropped by a trap rule (repeated segments, query variants)
	NoteURLTooLong   = "url-too-long"  // links dropped by --max-url-length
)

// Host crawl states.
const (
	StatusPending = "pending"
	StatusPartial = "partial"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// HostStatus is a host's outcome at the end of (its part of) a crawl.
type HostStatus struct {
	Host   string    `json:"host"`
	Status string    `json:"status"` // partial, done, failed
	Error  string    `json:"error,omitempty"`
	Pages  int64     `json:"pages"`
	Bytes  int64     `json:"bytes"`
	Time   time.Time `json:"time"`
}

// HostURI returns the target URI of a HostEntry record.
func HostURI(name string) string { return HostURIPrefix + name }

// HostsURI returns the target URI of a batch of HostEntry lines of zone.
func HostsURI(zone string) string { return HostsURIPrefix + zone }

// HostStatusURI returns the target URI of a HostStatus record.
func HostStatusURI(name string) string { return HostStatusURIPrefix + name }

// NoteURI returns the target URI of a Note about url.
func NoteURI(url string) string { return NoteURIPrefix + url }

// AttemptURI returns the target URI of an Attempt record.
func AttemptURI(zone string) string { return AttemptURIPrefix + zone }

// Kind tells which of crawl's metadata records a target URI names: "host",
// "hosts" (a batch), "attempt", "host-status", "note", or "" for any other URI (a fetch error's URI is
// the URL it failed on).
func Kind(targetURI string) string {
	switch {
	case strings.HasPrefix(targetURI, HostsURIPrefix):
		return "hosts"
	case strings.HasPrefix(targetURI, HostURIPrefix):
		return "host"
	case strings.HasPrefix(targetURI, AttemptURIPrefix):
		return "attempt"
	case strings.HasPrefix(targetURI, HostStatusURIPrefix):
		return "host-status"
	case strings.HasPrefix(targetURI, NoteURIPrefix):
		return "note"
	}
	return ""
}

// Encode marshals a metadata body.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own plain structs reach here; they always marshal.
		panic(fmt.Sprintf("archive: encode %T: %v", v, err))
	}
	return b
}

// DecodeLines unmarshals the body of a HostsURI record. A bad line does not
// cost the others: every good line is returned, with an error naming each
// bad one.
func DecodeLines(body []byte) ([]HostEntry, error) {
	var (
		hosts []HostEntry
		errs  []error
	)
	for n, line := range bytes.Split(body, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var h HostEntry
		if err := json.Unmarshal(line, &h); err != nil {
			errs = append(errs, fmt.Errorf("archive: host line %d: %w", n+1, err))
			continue
		}
		hosts = append(hosts, h)
	}
	return hosts, errors.Join(errs...)
}

// Decode unmarshals a metadata body, naming what failed.
func Decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("archive: decode %T: %w", v, err)
	}
	return nil
}
