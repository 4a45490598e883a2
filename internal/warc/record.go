package warc

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Record types and fixed values this package writes.
const (
	Version = "WARC/1.1"

	TypeWarcinfo = "warcinfo"
	TypeRequest  = "request"
	TypeResponse = "response"
	TypeRevisit  = "revisit"
	TypeResource = "resource"
	TypeMetadata = "metadata"

	ContentTypeHTTPRequest  = "application/http;msgtype=request"
	ContentTypeHTTPResponse = "application/http;msgtype=response"
	ContentTypeWarcFields   = "application/warc-fields"

	// ProfileIdenticalPayload is the WARC 1.1 revisit profile; its version
	// matches the record's version line (pywb accepts 1.0 and 1.1 URIs).
	ProfileIdenticalPayload = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

	// DateFormat is WARC-Date as written: UTC with microseconds (WARC 1.1 allows 1-9 digits).
	DateFormat = "2006-01-02T15:04:05.000000Z"
)

// digestAlgo names a digest algorithm and how its value is spelled.
type digestAlgo struct {
	label  string // "sha1" or "sha256"
	new    func() hash.Hash
	base32 bool // sha1: uppercase Base32 (the de-facto convention); sha256: lowercase hex (annotated spec #80)
}

func newDigestAlgo(name string) (digestAlgo, error) {
	switch strings.ToLower(name) {
	case "", "sha1", "sha-1":
		return digestAlgo{label: "sha1", new: sha1.New, base32: true}, nil
	case "sha256", "sha-256":
		return digestAlgo{label: "sha256", new: sha256.New}, nil
	}
	return digestAlgo{}, fmt.Errorf("warc: unknown digest %q (want sha1 or sha256)", name)
}

func (d digestAlgo) format(h hash.Hash) string {
	sum := h.Sum(nil)
	if d.base32 {
		return d.label + ":" + base32.StdEncoding.EncodeToString(sum)
	}
	return d.label + ":" + hex.EncodeToString(sum)
}

// formatDate spells t as WARC-Date.
func formatDate(t time.Time) string { return t.UTC().Format(DateFormat) }

// appendHeader renders a record header: version line, fields, blank line.
// Values were checked by checkFieldValue before they got here.
func appendHeader(dst []byte, h Header) []byte {
	dst = append(dst, Version...)
	dst = append(dst, "\r\n"...)
	for _, f := range h {
		dst = append(dst, f.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// checkFieldValue rejects values that would break the header framing
// (control characters, line ends) or, for URIs, contain spaces.
func checkFieldValue(name, value string, noSpace bool) error {
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c < 0x20 && c != '\t' || c == 0x7f || (noSpace && (c == ' ' || c == '\t')) {
			return fmt.Errorf("%w: %s %q has a forbidden byte at %d", ErrBadField, name, value, i)
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
