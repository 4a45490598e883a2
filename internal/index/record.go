package index

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"crawl/internal/archive"
	"crawl/internal/httpmsg"
	"crawl/internal/page"
	"crawl/internal/warc"
	"crawl/internal/wire"
)

// entry is what one WARC record contributes to the index. It is decoded
// from the record outside any transaction (in parallel), then applied by the
// single writer goroutine in record order.
type entry struct {
	loc  warc.Location // where the record is (set by the writer)
	host string        // lowercase host name ("" for records without one)
	date time.Time     // WARC-Date

	capture *captureValue
	page    *pageEntry // set for 2xx HTML/text pages and for redirects (links only)

	hostEntries []archive.HostEntry // a host record, or a batched hosts record
	hostStatus  *archive.HostStatus
	attempt     *archive.Attempt
	fetchError  *archive.FetchError
	errorID     string // record ID of the fetch error, so a repeat counts once
	note        *archive.Note
	noteID      string // record ID of the note, so a repeat counts once
}

// pageEntry is what a page adds: headlines, links and (if searchable) a
// full-text document.
type pageEntry struct {
	url       string
	headlines []headline
	links     []link
	doc       *pageDoc // nil when the page is not searchable
}

type link struct {
	to, host, tag string
}

// recordInput is one record as the decoders get it.
type recordInput struct {
	loc    warc.Location
	header warc.Header
	block  []byte       // cut at Observe's limit
	parsed *page.Parsed // the crawler's parse of the payload, if it handed one
	// original is where a revisit's original response is, when Observe
	// saw it in this run; otherwise originals finds it.
	original warc.Location
}

// originalFinder returns the block of the response a revisit refers to
// (its payload is the revisit's), reading it from its WARC file; known is
// its Location if already known.
type originalFinder func(h warc.Header, known warc.Location) ([]byte, error)

// decodeRecord turns one record (with its block read into memory, cut at
// Observe's limit) into an entry. A nil entry with a nil error means the
// record adds nothing (request, warcinfo, resource...). originals may be nil:
// revisits then have no page.
func decodeRecord(in recordInput, opts *Options, originals originalFinder) (*entry, error) {
	h := in.header
	typ := strings.ToLower(h.Get("WARC-Type"))
	uri := strings.Trim(h.Get("WARC-Target-URI"), "<>")
	date, err := time.Parse(time.RFC3339Nano, h.Get("WARC-Date"))
	if err != nil || date.Year() < 1678 || date.Year() > 2261 {
		// Keys hold Unix nanoseconds; a missing or absurd date sorts first.
		date = time.Unix(0, 0).UTC()
	}
	switch typ {
	case "response", "revisit":
		return decodeCapture(in, typ == "revisit", uri, date, opts, originals)
	case "metadata":
		return decodeMetadata(h, uri, date, in.block)
	}
	return nil, nil
}

func decodeMetadata(h warc.Header, uri string, date time.Time, block []byte) (*entry, error) {
	e := &entry{date: date}
	switch archive.Kind(uri) {
	case "host":
		var v archive.HostEntry
		if err := archive.Decode(block, &v); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", uri, err)
		}
		if v.Name == "" {
			v.Name = strings.TrimPrefix(uri, archive.HostURIPrefix)
		}
		e.hostEntries = []archive.HostEntry{v}
	case "hosts":
		// The good lines are applied even when others are bad.
		hosts, err := archive.DecodeLines(block)
		e.hostEntries = hosts
		if err != nil {
			return e, fmt.Errorf("metadata %s: %w", uri, err)
		}
	case "host-status":
		var v archive.HostStatus
		if err := archive.Decode(block, &v); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", uri, err)
		}
		if v.Host == "" {
			v.Host = strings.TrimPrefix(uri, archive.HostStatusURIPrefix)
		}
		e.host, e.hostStatus = NormalizeHost(v.Host), &v
	case "note":
		var v archive.Note
		if err := archive.Decode(block, &v); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", uri, err)
		}
		if v.URL == "" {
			v.URL = strings.TrimPrefix(uri, archive.NoteURIPrefix)
		}
		host := v.Host
		if host == "" {
			if u, err := url.Parse(v.URL); err == nil {
				host = u.Hostname()
			}
		}
		if host == "" || v.Kind == "" {
			return nil, nil
		}
		if v.Time.IsZero() {
			v.Time = date
		}
		e.host, e.note, e.noteID = NormalizeHost(host), &v, h.Get("WARC-Record-ID")
	case "attempt":
		var v archive.Attempt
		if err := archive.Decode(block, &v); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", uri, err)
		}
		e.attempt = &v
	default:
		// Only crawl's own fetch errors are JSON metadata about a URL;
		// metadata records of other tools are not ours to count.
		if !strings.HasPrefix(strings.ToLower(h.Get("Content-Type")), archive.ContentType) {
			return nil, nil
		}
		var v archive.FetchError
		if err := archive.Decode(block, &v); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", uri, err)
		}
		host := v.Host
		if host == "" {
			if u, err := url.Parse(uri); err == nil {
				host = u.Hostname()
			}
		}
		if host == "" || v.Error == "" {
			return nil, nil
		}
		if v.Time.IsZero() {
			v.Time = date
		}
		e.host, e.fetchError = NormalizeHost(host), &v
		e.errorID = h.Get("WARC-Record-ID")
	}
	return e, nil
}

func decodeCapture(in recordInput, revisit bool, uri string, date time.Time, opts *Options, originals originalFinder) (*entry, error) {
	h, loc, block := in.header, in.loc, in.block
	u, err := url.Parse(uri)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("capture %q: not an absolute URL", uri)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil // dns: and other resources are provenance, not captures
	}
	blockLen, _ := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	c := &captureValue{
		URL:       uri,
		Time:      date.UTC(),
		Digest:    h.Get("WARC-Payload-Digest"),
		WARC:      loc.File,
		Offset:    loc.Offset,
		Length:    loc.Length,
		Bytes:     blockLen,
		Revisit:   revisit,
		Truncated: h.Get("WARC-Truncated"),
		RecordID:  h.Get("WARC-Record-ID"),
	}
	if revisit {
		// A revisit's block is headers only by definition; the
		// WARC-Truncated some writers put on it says nothing about
		// the capture.
		c.Truncated = ""
	}
	if c.RecordID == "" {
		c.RecordID = fmt.Sprintf("%s@%d", loc.File, loc.Offset)
	}
	e := &entry{host: NormalizeHost(u.Hostname()), date: date, capture: c}

	// Most captures are not pages: read just the head, cheaply, and leave
	// net/http (de-chunking, framing) to the pages. Interim answers (100
	// Continue, 103 Early Hints) are recorded before the response they
	// precede; the capture is that final response.
	head, n, err := httpmsg.ParseHead(block)
	if head.Proto == "" {
		// Captured bytes that are not HTTP are still a capture (listed
		// with status 0), just not a page.
		return e, nil
	}
	if err == nil {
		block = block[n-head.Len:]
	}
	c.Status = head.Status
	c.MIME = captureMIME(head.ContentType)

	if c.Status >= 300 && c.Status < 400 {
		if head.Location != "" {
			if target, err := u.Parse(head.Location); err == nil && (target.Scheme == "http" || target.Scheme == "https") {
				target.Fragment = ""
				e.page = &pageEntry{url: uri, links: []link{{to: target.String(), host: NormalizeHost(target.Hostname()), tag: "redirect"}}}
			}
		}
		return e, nil
	}
	if c.Status < 200 || c.Status >= 300 || u.Path == "/robots.txt" {
		return e, nil
	}
	// Only the bodies of pages are read below, and of an HTML page the
	// crawler parsed not even those: Observe copies just the head then
	// (pageHead), so a new use of the body here must be told there too.
	isHTML := page.IsHTMLType(c.MIME)
	if !isHTML && c.MIME != "text/plain" {
		return e, nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
	if err != nil {
		return e, nil
	}
	defer resp.Body.Close()
	if isHTML && in.parsed != nil {
		// The crawler parsed this payload with the index's own limits:
		// the page a parse here would give.
		e.page = pageFromParse(in.parsed.Page, uri, e.host, c)
		return e, nil
	}
	if revisit {
		// A revisit has the headers of its own response and the payload
		// of the original it refers to: a capture is a capture, and its
		// page is that payload read with these headers, as replay tools
		// show it.
		if originals == nil {
			return e, nil
		}
		orig, err := originals(h, in.original)
		if err != nil {
			return e, fmt.Errorf("revisit %s: %w", uri, err)
		}
		if err := withOriginalPayload(resp, orig); err != nil {
			return e, fmt.Errorf("revisit %s: %w", uri, err)
		}
	}
	body, err := wire.ReadDecoded(resp, opts.Parse.MaxBody)
	if err != nil {
		opts.Logger.Debug("index: body not decoded", "url", uri, "err", err)
		return e, nil
	}
	if isHTML {
		pg, err := page.ParseResponse(body, resp.Header, u, opts.Parse)
		if err != nil {
			if !errors.Is(err, page.ErrNotHTML) {
				opts.Logger.Debug("index: page not parsed", "url", uri, "err", err)
			}
			return e, nil
		}
		e.page = pageFromParse(pg, uri, e.host, c)
		return e, nil
	}
	text, _, err := page.Decode(body, resp.Header.Get("Content-Type"))
	if err != nil {
		return e, nil
	}
	doc := newPageDoc(uri, e.host, c)
	doc.Text = cutUTF8(strings.Join(strings.Fields(string(text)), " "), opts.Parse.Config.MaxText)
	e.page = &pageEntry{url: uri, doc: doc}
	return e, nil
}

// captureMIME is the media type of a Content-Type, lowercase, without
// parameters.
func captureMIME(contentType string) string {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(mediaType))
}

// withOriginalPayload gives resp, the response a revisit's own fetch
// answered (its head), the payload of original, the block of the response
// the revisit refers to, framed as the original was: a revisit stands for
// its own head over that payload. Interim 1xx heads recorded before the
// original are skipped.
func withOriginalPayload(resp *http.Response, original []byte) error {
	oresp, err := httpmsg.ReadResponse(bufio.NewReader(bytes.NewReader(original)), nil)
	if err != nil {
		return fmt.Errorf("original is not an HTTP response: %w", err)
	}
	resp.Body, resp.ContentLength, resp.TransferEncoding = oresp.Body, oresp.ContentLength, oresp.TransferEncoding
	return nil
}

// pageFromParse turns a parsed HTML page into what the index keeps.
func pageFromParse(pg *page.Page, uri, host string, c *captureValue) *pageEntry {
	p := &pageEntry{url: uri}
	doc := newPageDoc(uri, host, c)
	doc.Title, doc.Text, doc.Lang = pg.Title, pg.Text, pg.Lang
	for _, hl := range pg.Headlines {
		p.headlines = append(p.headlines, headline{Tag: hl.Tag, Text: hl.Text})
		if hl.Tag != "title" {
			doc.Headlines = append(doc.Headlines, hl.Text)
		}
	}
	for _, l := range pg.Links {
		lu, err := url.Parse(l.URL)
		if err != nil || (lu.Scheme != "http" && lu.Scheme != "https") || lu.Hostname() == "" {
			continue
		}
		p.links = append(p.links, link{to: l.URL, host: NormalizeHost(lu.Hostname()), tag: l.Tag})
	}
	p.doc = doc
	return p
}

// NormalizeHost makes a host name comparable: lowercase ASCII (punycode for
// IDNs), no trailing dot, no port or brackets.
func NormalizeHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
	}
	if isPlainASCIIHost(h) {
		return h
	}
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		return a
	}
	return h
}

func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// isPlainASCIIHost: lowercase letters, digits, '-' and '.' need no IDNA.
func isPlainASCIIHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
