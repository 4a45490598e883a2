package warc

import (
	"io"
	"strings"
	"time"
)

// Field is one named header field of a record, kept in the order written.
type Field struct{ Name, Value string }

// Header is a record's named fields in order. Names compare case-insensitively.
type Header []Field

// Get returns the first value of the named field, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Location says where a record sits: the file's final base name (never the
// ".open" name), the offset of the record's gzip member (or of its first byte
// in an uncompressed file) and its length on disk.
type Location struct {
	File   string
	Offset int64
	Length int64
}

// Record is one WARC record. Block holds exactly Content-Length bytes.
type Record struct {
	Header Header
	Block  *io.SectionReader
	// Parsed is what the writer's caller already made of the payload
	// (Exchange.Parsed), handed on to the Observer with the response or
	// revisit record so the payload is not parsed a second time. It is
	// nil for records read from a file.
	Parsed any
	// PayloadOffset is where the HTTP payload starts in Block (the length
	// of the heads before it), when the writer knows it: for a response
	// record it writes. 0 when unknown.
	PayloadOffset int64
}

// Exchange is one HTTP fetch as it crossed the wire, ready to be archived as a
// request/response (or request/revisit) pair.
type Exchange struct {
	TargetURI string
	IP        string    // the peer actually contacted, without port
	Date      time.Time // when the fetch began; shared by both records
	Request   *io.SectionReader
	Response  *io.SectionReader // raw bytes: status line, headers, body as sent
	Truncated string            // "", "length", "time" or "disconnect"
	// Parsed is passed to the Observer with the response (or revisit)
	// record; the writer does not look at it.
	Parsed any
}

// ExchangeResult tells where a pair went and what the writer made of it.
type ExchangeResult struct {
	Request       Location
	Response      Location // the response or revisit record
	ResponseID    string   // its WARC-Record-ID
	PayloadDigest string   // "" when the response is not parseable HTTP
	Revisit       bool
	Status        int    // HTTP status of the final response, 0 if unparseable
	Truncated     string // WARC-Truncated written on the response, "" if whole
}

// Observer is told of every record after it is written. The block is valid
// only during the call.
type Observer interface {
	Observe(loc Location, rec Record)
}

// PayloadIndex remembers payload digests already archived, so that a repeat
// becomes a revisit record. Implementations must be safe for concurrent use.
type PayloadIndex interface {
	Seen(digest string) (uri string, date time.Time, ok bool)
	Remember(digest, uri string, date time.Time)
}

// Original is the first capture of a payload, as a revisit refers to it.
type Original struct {
	URI      string
	Date     time.Time
	RecordID string // WARC-Record-ID of the original response; "" if unknown
}

// OriginalIndex may be implemented by a PayloadIndex that also keeps the
// original's record ID, so that revisits carry WARC-Refers-To. The writer
// uses it instead of Seen/Remember when it is there.
type OriginalIndex interface {
	SeenOriginal(digest string) (Original, bool)
	RememberOriginal(digest string, o Original)
}
