package archive

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"crawl/internal/warc"
)

// MetadataWriter writes one metadata record; *warc.Writer does.
type MetadataWriter interface {
	WriteMetadata(uri string, date time.Time, contentType string, body []byte) (warc.Location, error)
}

// ResourceWriter writes one resource record; *warc.Writer does.
type ResourceWriter interface {
	WriteResource(uri, ip string, date time.Time, contentType string, body *io.SectionReader) (warc.Location, error)
}

// WriteAttempt records a zone transfer attempt.
func WriteAttempt(w MetadataWriter, a Attempt) error {
	_, err := w.WriteMetadata(AttemptURI(a.Zone), a.Time, ContentType, Encode(a))
	return err
}

// WriteHostStatus records a host's outcome at the end of its crawl.
func WriteHostStatus(w MetadataWriter, hs HostStatus) error {
	if _, err := w.WriteMetadata(HostStatusURI(hs.Host), hs.Time, ContentType, Encode(hs)); err != nil {
		return fmt.Errorf("host status %s: %w", hs.Host, err)
	}
	return nil
}

// WriteFetchError records a fetch that got no response; the record's target
// URI is the URL.
func WriteFetchError(w MetadataWriter, fe FetchError) error {
	if _, err := w.WriteMetadata(fe.URL, fe.Time, ContentType, Encode(fe)); err != nil {
		return fmt.Errorf("archive fetch error of %s: %w", fe.URL, err)
	}
	return nil
}

// WriteNote records a limit a capture hit.
func WriteNote(w MetadataWriter, n Note) error {
	if _, err := w.WriteMetadata(NoteURI(n.URL), n.Time, ContentType, Encode(n)); err != nil {
		return fmt.Errorf("note on %s: %w", n.URL, err)
	}
	return nil
}

// WriteDNS records DNS evidence (a zone transfer, a direct lookup) as a
// text/dns resource record with a dns: URI; server is the address asked
// (IP:port or a bare IP).
func WriteDNS(w ResourceWriter, uri, server string, date time.Time, body io.ReaderAt, size int64) error {
	ip, _, err := net.SplitHostPort(server)
	if err != nil {
		ip = server // a bare address
	}
	_, err = w.WriteResource(uri, ip, date, "text/dns", io.NewSectionReader(body, 0, size))
	return err
}

// WriteZoneFile records a saved zone transfer (a master file) as
// dns:ZONE?type=AXFR.
func WriteZoneFile(w ResourceWriter, zone, server string, date time.Time, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return WriteDNS(w, fmt.Sprintf("dns:%s?type=AXFR", zone), server, date, f, fi.Size())
}

// HostLog writes the hosts discovery finds as batched records of HostEntry
// lines (up to HostBatch per record, fewer when large or when the zone
// changes): one tiny gzip member per host made a zone of a million names
// ten times slower. It is safe for concurrent use.
//
// While a HostLog is open, the garbage collector runs twice as often
// (unless GOGC is set: then it is the user's choice). A zone of a million
// names keeps the index busy decoding host records; collecting more often
// keeps the peak near 290 MB instead of 330 MB on such a zone, for a few
// percent of CPU. The setting is process-wide: open one HostLog at a time.
type HostLog struct {
	w     MetadataWriter
	found time.Time

	mu      sync.Mutex
	lines   []byte // JSON lines of the batch
	batched int
	zone    string
	err     error // the first write error
	restore func()
}

// NewHostLog starts a host log; every entry is stamped found (when the
// discovery began).
func NewHostLog(w MetadataWriter, found time.Time) *HostLog {
	l := &HostLog{w: w, found: found.UTC(), restore: func() {}}
	if os.Getenv("GOGC") == "" {
		old := debug.SetGCPercent(50)
		l.restore = func() { debug.SetGCPercent(old) }
	}
	return l
}

// Add queues a host; a full batch is written. It returns the first write
// error the log met, so a caller can stop early.
func (l *HostLog) Add(h HostEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.batched > 0 && l.zone != h.Zone {
		l.flush()
	}
	l.zone = h.Zone
	h.Found = l.found
	l.lines = append(l.lines, Encode(h)...)
	l.lines = append(l.lines, '\n')
	l.batched++
	if l.batched >= HostBatch || len(l.lines) >= 256<<10 {
		l.flush()
	}
	return l.err
}

// Close writes the last batch, restores the garbage collector's setting,
// and returns the first write error.
func (l *HostLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flush()
	l.restore()
	l.restore = func() {}
	return l.err
}

func (l *HostLog) flush() {
	if l.batched == 0 {
		return
	}
	if _, err := l.w.WriteMetadata(HostsURI(l.zone), l.found, ContentTypeLines, l.lines); err != nil && l.err == nil {
		l.err = fmt.Errorf("hosts of %s: %w", l.zone, err)
	}
	l.lines, l.batched = l.lines[:0], 0
}
