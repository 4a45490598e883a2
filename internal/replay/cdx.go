package replay

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"crawl/internal/index"
	"crawl/internal/warc"
)

// ErrBadQuery: a CDX query pywb would refuse too (HTTP 400).
var ErrBadQuery = errors.New("bad CDX query")

// CDXQuery is one request to the CDX server, with pywb's parameters.
type CDXQuery struct {
	URL       string   // "a.kp/x"; "*.a.kp" means domain, "a.kp/x*" prefix
	MatchType string   // exact (default), prefix, host, domain
	From, To  string   // timestamps of 1 to 14 digits, inclusive
	Limit     int      // at most this many rows
	Reverse   bool     // sort=reverse or reverse=true: last rows, newest first
	Closest   string   // sort=closest&closest=TS: nearest TS first
	Filters   []string // field:[!][=|~]expression, all must hold
	Fields    []string // fl: the fields to print
	Output    string   // cdxj (default; also "text"), json, link
}

// CDXFields are the fields of a CDX row, in the order `crawl cdx` writes
// them (truncated only when set).
var CDXFields = []string{"urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset", "filename", "truncated"}

// cdxAltFields are the other names pywb accepts for fields.
var cdxAltFields = map[string]string{
	"u": "url", "original": "url", "statuscode": "status", "s": "status", "mimetype": "mime", "m": "mime",
	"l": "length", "o": "offset", "d": "digest", "t": "timestamp", "k": "urlkey", "f": "filename",
}

// ParseCDXQuery reads a query from its URL parameters; maxLimit bounds
// limit (and is the default, as pywb's is 100,000).
func ParseCDXQuery(v url.Values, maxLimit int) (CDXQuery, error) {
	q := CDXQuery{URL: strings.TrimSpace(v.Get("url")), MatchType: v.Get("matchType"), From: v.Get("from"),
		To: v.Get("to"), Filters: v["filter"], Output: strings.ToLower(v.Get("output")), Limit: maxLimit}
	if q.URL == "" {
		return q, fmt.Errorf("%w: a url= parameter is required", ErrBadQuery)
	}
	if q.MatchType == "" {
		switch {
		case strings.HasPrefix(q.URL, "*."):
			q.URL, q.MatchType = q.URL[2:], "domain"
		case strings.HasSuffix(q.URL, "*"):
			q.URL, q.MatchType = strings.TrimSuffix(q.URL, "*"), "prefix"
		default:
			q.MatchType = "exact"
		}
	}
	switch q.MatchType {
	case "exact", "prefix", "host", "domain":
	default:
		return q, fmt.Errorf("%w: matchType %q (exact, prefix, host or domain)", ErrBadQuery, q.MatchType)
	}
	for _, ts := range []string{q.From, q.To} {
		if ts != "" && (len(ts) > 14 || strings.Trim(ts, "0123456789") != "") {
			return q, fmt.Errorf("%w: timestamp %q (1 to 14 digits)", ErrBadQuery, ts)
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("%w: limit %q (a positive number)", ErrBadQuery, s)
		}
		q.Limit = min(n, maxLimit)
	}
	switch sort := v.Get("sort"); sort {
	case "":
	case "reverse":
		q.Reverse = true
	case "closest":
		if q.Closest = v.Get("closest"); q.Closest == "" {
			return q, fmt.Errorf("%w: sort=closest needs closest=TIMESTAMP", ErrBadQuery)
		}
	default:
		return q, fmt.Errorf("%w: sort %q (reverse or closest)", ErrBadQuery, sort)
	}
	if c := v.Get("closest"); c != "" {
		q.Closest = c
	}
	if q.Closest != "" {
		if _, err := Time(q.Closest); err != nil {
			return q, fmt.Errorf("%w: closest %q", ErrBadQuery, q.Closest)
		}
	}
	if r := strings.ToLower(v.Get("reverse")); r == "1" || r == "true" {
		q.Reverse = true
	}
	fl := v.Get("fl")
	if fl == "" {
		fl = v.Get("fields")
	}
	if fl != "" {
		for _, f := range strings.Split(fl, ",") {
			f = strings.TrimSpace(f)
			if alt, ok := cdxAltFields[f]; ok {
				f = alt
			}
			if !isCDXField(f) {
				return q, fmt.Errorf("%w: unknown field %q in fl (%s)", ErrBadQuery, f, strings.Join(CDXFields, ", "))
			}
			q.Fields = append(q.Fields, f)
		}
	}
	switch q.Output {
	case "", "cdxj", "text":
		q.Output = "cdxj"
	case "json", "link":
	default:
		return q, fmt.Errorf("%w: output %q (cdxj, json, link or text)", ErrBadQuery, q.Output)
	}
	for _, f := range q.Filters {
		if _, err := newCDXFilter(f); err != nil {
			return q, err
		}
	}
	return q, nil
}

func isCDXField(f string) bool {
	for _, g := range CDXFields {
		if f == g {
			return true
		}
	}
	return false
}

// CDXRow is one capture as a CDX line.
type CDXRow struct {
	URLKey    string
	Timestamp string
	Time      time.Time
	fields    [][2]string // the JSON part, in order
	line      string      // the whole CDXJ line: the sort key
}

func newCDXRow(c index.CaptureRow, key string) CDXRow {
	r := CDXRow{URLKey: key, Timestamp: Timestamp(c.Time), Time: c.Time}
	r.fields = warc.CDXJFields{
		URL:       c.URL,
		MIME:      c.MIME,
		Status:    c.Status,
		Digest:    c.Digest,
		Length:    c.Length,
		Offset:    c.Offset,
		Filename:  c.WARC,
		Truncated: c.Truncated,
		Revisit:   c.Revisit,
	}.Pairs()
	r.line = warc.CDXJLine(r.URLKey, r.Timestamp, r.fields)
	return r
}

// Get returns a field's value, "" when the row has none.
func (r CDXRow) Get(name string) string {
	switch name {
	case "urlkey":
		return r.URLKey
	case "timestamp":
		return r.Timestamp
	}
	for _, f := range r.fields {
		if f[0] == name {
			return f[1]
		}
	}
	return ""
}

// CDXJ is the row as `crawl cdx` writes it.
func (r CDXRow) CDXJ() string { return r.line }

// CDX runs a query over the index: the matching captures, sorted as pywb
// sorts a CDXJ index (bytewise by line: SURT key, timestamp, then the
// rest), filtered, and cut to the query's limit (the first rows, the last
// with Reverse, the nearest with Closest). It holds at most Limit rows in
// memory whatever the archive's size.
func (a *Archive) CDX(ctx context.Context, q CDXQuery) ([]CDXRow, error) {
	raw := q.URL
	if !reScheme.MatchString(raw) {
		raw = "http://" + strings.TrimLeft(raw, "/")
	}
	key, err := warc.SURT(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: url %q: %v", ErrBadQuery, q.URL, err)
	}
	hostPart, _, _ := strings.Cut(key, ")")
	var match func(k string) bool
	switch q.MatchType {
	case "exact":
		match = func(k string) bool { return k == key }
	case "prefix":
		start := key
		if strings.HasSuffix(raw, "/") && !strings.HasSuffix(key, "/") {
			start += "/"
		} else if strings.HasSuffix(raw, "?") && !strings.HasSuffix(key, "?") {
			start += "?"
		}
		match = func(k string) bool { return strings.HasPrefix(k, start) }
	case "host":
		match = func(k string) bool { h, _, _ := strings.Cut(k, ")"); return h == hostPart }
	case "domain":
		match = func(k string) bool {
			if !strings.Contains(hostPart, ",") { // a TLD: its domains, not itself
				return strings.HasPrefix(k, hostPart+",")
			}
			return strings.HasPrefix(k, hostPart+")") || strings.HasPrefix(k, hostPart+",")
		}
	}
	var filters []cdxFilter
	for _, f := range q.Filters {
		flt, err := newCDXFilter(f)
		if err != nil {
			return nil, err
		}
		filters = append(filters, flt)
	}
	from := q.From + "10000101000000"[len(q.From):]
	to := q.To + "29991231235959"[len(q.To):]
	var closest time.Time
	if q.Closest != "" {
		closest, _ = Time(q.Closest)
	}
	limit := max(q.Limit, 1)
	best := &rowHeap{less: func(x, y *CDXRow) bool {
		// The heap's top is the row to drop first: the worst kept.
		if q.Closest != "" {
			dx, dy := absDur(x.Time.Sub(closest)), absDur(y.Time.Sub(closest))
			if dx != dy {
				return dx > dy
			}
		} else if q.Reverse {
			return x.line < y.line
		}
		return x.line > y.line
	}}
	scan := func(c index.CaptureRow, k string) error {
		if !match(k) {
			return nil
		}
		r := newCDXRow(c, k)
		if r.Timestamp < from || r.Timestamp > to {
			return nil
		}
		for _, f := range filters {
			if !f.match(r) {
				return nil
			}
		}
		if best.Len() < limit {
			heap.Push(best, &r)
		} else if best.less(best.rows[0], &r) {
			best.rows[0] = &r
			heap.Fix(best, 0)
		}
		return nil
	}
	if q.MatchType == "domain" {
		err = a.scanSURT(ctx, unSURTHost(hostPart), true, scan)
	} else {
		err = a.scanKey(ctx, raw, scan)
	}
	if err != nil {
		return nil, err
	}
	rows := make([]CDXRow, best.Len())
	for i := len(rows) - 1; i >= 0; i-- {
		rows[i] = *heap.Pop(best).(*CDXRow)
	}
	return rows, nil
}

// unSURTHost turns a SURT host part ("kp,a:8080") back into a host name.
func unSURTHost(h string) string {
	h, _, _ = strings.Cut(h, ":")
	labels := strings.Split(h, ",")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

// rowHeap keeps the best rows: its top is the worst of them.
type rowHeap struct {
	rows []*CDXRow
	less func(x, y *CDXRow) bool
}

func (h *rowHeap) Len() int           { return len(h.rows) }
func (h *rowHeap) Less(i, j int) bool { return h.less(h.rows[i], h.rows[j]) }
func (h *rowHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *rowHeap) Push(x any)         { h.rows = append(h.rows, x.(*CDXRow)) }
func (h *rowHeap) Pop() any {
	r := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return r
}

// cdxFilter is one filter= parameter: field:[!][=|~]expression. Without
// a field it applies to the whole line; without = or ~ it is "contains".
type cdxFilter struct {
	field  string
	invert bool
	exact  bool
	re     *regexp.Regexp
	text   string
}

func newCDXFilter(s string) (cdxFilter, error) {
	var f cdxFilter
	if strings.HasPrefix(s, "!") {
		f.invert, s = true, s[1:]
	}
	mode := byte(0)
	if s != "" && (s[0] == '=' || s[0] == '~') {
		mode, s = s[0], s[1:]
	}
	if field, expr, ok := strings.Cut(s, ":"); ok {
		if alt, ok := cdxAltFields[field]; ok {
			field = alt
		}
		f.field, s = field, expr
	}
	switch mode {
	case '=':
		f.exact = true
	case '~':
		re, err := regexp.Compile(`^(?:` + s + `)`) // Python's re.match: anchored at the start
		if err != nil {
			return f, fmt.Errorf("%w: filter %q: %v", ErrBadQuery, s, err)
		}
		f.re = re
	}
	f.text = s
	return f, nil
}

func (f cdxFilter) match(r CDXRow) bool {
	v := r.line
	if f.field != "" {
		v = r.Get(f.field)
	}
	var ok bool
	switch {
	case f.re != nil:
		ok = f.re.MatchString(v)
	case f.exact:
		ok = v == f.text
	default:
		ok = strings.Contains(v, f.text)
	}
	return ok != f.invert
}

// WriteCDX writes rows in the query's output: CDXJ lines (or, with fl,
// the fields' values separated by spaces), JSON lines (pywb's output=json:
// one object per line, urlkey and timestamp first), or link-format
// mementos. m locates replay URLs for the link format.
func WriteCDX(w io.Writer, q CDXQuery, rows []CDXRow, m Memento) error {
	var b bytes.Buffer
	for i, r := range rows {
		b.Reset()
		switch q.Output {
		case "json":
			fields := [][2]string{{"urlkey", r.URLKey}, {"timestamp", r.Timestamp}}
			fields = append(fields, r.fields...)
			if q.Fields != nil {
				fields = fields[:0]
				for _, f := range q.Fields {
					fields = append(fields, [2]string{f, r.Get(f)})
				}
			}
			b.WriteString(warc.JSONObject(fields))
		case "link":
			m.Original = r.Get("url")
			b.WriteString(fmt.Sprintf(`<%s>; rel="memento"; datetime="%s"`, m.Root+Path(m.Prefix, r.Timestamp, "", m.Original), HTTPDate(r.Time)))
			if i < len(rows)-1 {
				b.WriteByte(',')
			}
		default:
			if q.Fields != nil {
				for j, f := range q.Fields {
					if j > 0 {
						b.WriteByte(' ')
					}
					v := r.Get(f)
					if v == "" {
						v = "-"
					}
					b.WriteString(v)
				}
			} else {
				b.WriteString(r.line)
			}
		}
		b.WriteByte('\n')
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// CDXContentType is the media type of a query's output, as pywb sends it.
func CDXContentType(output string) string {
	switch output {
	case "json":
		return "text/x-ndjson"
	case "link":
		return "application/link-format"
	}
	return "text/x-cdxj"
}
