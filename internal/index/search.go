package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	zap "github.com/blevesearch/zapx/v17"

	"crawl/internal/index/korean"
	"crawl/internal/warc"
)

func init() {
	// zapx (v17, the segment format bleve writes) preallocates each new
	// segment's buffer as the previous segment's bytes per document times
	// (documents in the batch + 100): after a batch holding one page of
	// 100,000 links (a segment of several MB for one document), the next
	// batch of one page asked for 600 MB at once, and the crawl's peak RSS
	// went from ~350 MB to 1.5 GB. A zero factor turns the estimate off;
	// the buffer grows as it is written, as any bytes.Buffer does. The
	// variable is zapx's own process-wide knob; nothing else in crawl
	// writes segments.
	zap.NewSegmentBufferAvgBytesPerDocFactor = 0
}

// SearchHelp documents the query syntax; `crawl search -h` prints it.
const SearchHelp = `Query syntax (bleve query strings over title, headlines and page text):

  seoul weather        pages with either word; pages with both rank higher
  +seoul +weather      both words required          -weather   word excluded
  "city hall"          the exact phrase
  서울                 Korean matches inside words too (서울 finds 서울특별시에서);
                       a Korean word of 3+ syllables must appear as written;
                       a single syllable matches only as a word of its own
  running              English is stemmed: finds run, runs, running
  title:서울           only in the title     headlines:news   only in h1-h6
  text:budget          only in the visible text
  host:www.example.kp  only pages of that host (exact name)
  site:example.kp      only pages of example.kp and the hosts under it
  lang:ko   mime:text/plain
  url:"http://a.kp/x"  one URL
  time:>"2026-01-01"   captured after a date (also <, >=, <=)
  seo*  seo?l  /se.ul/ wildcards and regular expressions; seoul~1 fuzzy
  title:seoul^3 text:seoul   ^N boosts a clause

Results come best first with their score and a snippet with the matches
marked. Every capture of a page is searched, a revisit with the text of the
capture it repeats; each URL is listed once, with its best capture. Only
pages fetched with a 2xx status as HTML or plain text are indexed;
robots.txt, errors and redirects are not.`

// pageDoc is the full-text document of one capture of a page. Every capture
// is a document of its own (see docID) and none is ever replaced (see
// applyEntries).
type pageDoc struct {
	URL       string    `json:"url"`
	Host      string    `json:"host"`
	Site      []string  `json:"site"` // the host and every domain above it
	Title     string    `json:"title"`
	Headlines []string  `json:"headlines"`
	Text      string    `json:"text"`
	Time      time.Time `json:"time"`
	MIME      string    `json:"mime"`
	Lang      string    `json:"lang"`

	id  string        // the bleve document ID
	loc warc.Location // the record, for the search index's checkpoint
}

// newPageDoc starts the document of a capture.
func newPageDoc(uri, host string, c *captureValue) *pageDoc {
	return &pageDoc{id: docID(uri, c.Time, c.RecordID), URL: uri, Host: host, Site: domainsOf(host), Time: c.Time, MIME: c.MIME}
}

// docID is a capture's document ID: URL, time and record ID, so that a
// search can rank, order ties and keep each URL's best capture from the IDs
// alone, loading stored fields for the hits it shows only.
func docID(uri string, t time.Time, recordID string) string {
	return uri + "\x00" + t.UTC().Format(docTime) + "\x00" + recordID
}

// docTime sorts as text in time order.
const docTime = "20060102150405.000000000"

// splitDocID returns the URL and time part of a document ID.
func splitDocID(id string) (uri, when string) {
	uri, rest, _ := strings.Cut(id, "\x00")
	when, _, _ = strings.Cut(rest, "\x00")
	return uri, when
}

// domainsOf lists a host and the domains above it (www.a.kp: www.a.kp,
// a.kp, kp), so that site:a.kp finds the pages of every host of that site.
// It depends on the name alone, not on what discovery said: a document is
// the same whenever and however it is indexed.
func domainsOf(host string) []string {
	if isAddress(host) {
		return []string{host}
	}
	var out []string
	for h := host; h != ""; {
		out = append(out, h)
		_, rest, ok := strings.Cut(h, ".")
		if !ok {
			break
		}
		h = rest
	}
	return out
}

// searchMapping: title, headlines and text are analysed with term vectors,
// whose positions phrase queries need (and Korean words of three syllables
// or more are phrases of bigrams); title and text are stored, for the
// snippets (see snippet.go). There is no _all field (see textFields).
func searchMapping() mapping.IndexMapping {
	text := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = korean.AnalyzerName
		f.Store = store
		f.IncludeTermVectors = true // positions, for phrases
		f.IncludeInAll = false      // see textFields
		return f
	}
	kw := func(store bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt("url", kw(true))
	dm.AddFieldMappingsAt("host", kw(true))
	dm.AddFieldMappingsAt("site", kw(false))
	dm.AddFieldMappingsAt("mime", kw(false))
	dm.AddFieldMappingsAt("lang", kw(false))
	dm.AddFieldMappingsAt("title", text(true))
	dm.AddFieldMappingsAt("headlines", text(false))
	dm.AddFieldMappingsAt("text", text(true))
	tm := bleve.NewDateTimeFieldMapping()
	tm.IncludeInAll = false
	tm.Store = true
	dm.AddFieldMappingsAt("time", tm)

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	im.DefaultAnalyzer = korean.AnalyzerName
	im.ScoringModel = "bm25"
	return im
}

// openSearch opens (or, if create, creates) the bleve index. Its root file
// is a bbolt file with the same exclusive lock, so a second writer gets
// ErrLocked instead of waiting forever.
func openSearch(dir string, create, readOnly bool, timeout time.Duration) (bleve.Index, error) {
	cfg := map[string]any{"bolt_timeout": timeout.String()}
	if readOnly {
		cfg["read_only"] = true
	}
	idx, err := bleve.OpenUsing(dir, cfg)
	if err == nil {
		return idx, nil
	}
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) || errors.Is(err, bleve.ErrorIndexMetaMissing) {
		if !create {
			return nil, ErrEmpty
		}
		idx, err = bleve.NewUsing(dir, searchMapping(), bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, cfg)
		if err != nil {
			return nil, fmt.Errorf("create search index %s: %w", dir, err)
		}
		return idx, nil
	}
	if strings.Contains(err.Error(), "timeout") {
		return nil, fmt.Errorf("%w (search index %s)", ErrLocked, dir)
	}
	return nil, fmt.Errorf("open search index %s: %w", dir, err)
}

// SearchRequest is one full-text query.
type SearchRequest struct {
	Query  string // see SearchHelp
	Host   string // only pages of this host, if set
	Limit  int    // at most this many hits; 0 = 20, capped at MaxSearchLimit
	Offset int    // hits to skip first (paging)
	// Style of the snippet marks: "html" (<mark>…</mark>, the default) or
	// "ansi" (terminal colours).
	Style string
}

// MaxSearchLimit bounds one query's hits (Offset + Limit).
const MaxSearchLimit = 10000

// Hit is one search result: the best-scoring capture of one URL.
type Hit struct {
	URL     string    `json:"url"`
	Host    string    `json:"host"`
	Title   string    `json:"title"`
	Time    time.Time `json:"time"` // of the capture that matched
	Score   float64   `json:"score"`
	Snippet string    `json:"snippet"`
}

// SearchResult is one page of hits and how many URLs match in all.
type SearchResult struct {
	Hits  []Hit
	Total int // distinct URLs matching (at least len(Hits)+Offset)
	// Behind is how many bytes of WARC records index.db has and the
	// search index has not taken in yet (it trails a crawl, and catches
	// up): 0 when the answer covers the whole index.
	Behind int64
}

func search(ctx context.Context, idx bleve.Index, r SearchRequest) (SearchResult, error) {
	var out SearchResult
	qs := strings.TrimSpace(r.Query)
	if qs == "" {
		return out, fmt.Errorf("search: %w", ErrEmptyQuery)
	}
	qsq := bleve.NewQueryStringQuery(rewriteHangul(qs))
	parsed, err := qsq.Parse()
	if err != nil {
		return out, fmt.Errorf("search %q: %w", r.Query, err)
	}
	// The highlighter reads the terms before expandFields rewrites the
	// tree in place (the copies it makes would be counted again).
	marks := newHighlighterFor(parsed, r.Style)
	var q query.Query = expandFields(parsed)
	if r.Host != "" {
		hq := bleve.NewTermQuery(NormalizeHost(r.Host))
		hq.SetField("host")
		q = bleve.NewConjunctionQuery(q, hq)
	}
	limit := r.Limit
	if limit <= 0 {
		limit = 20
	}
	offset := max(0, r.Offset)
	want := min(offset+limit, MaxSearchLimit)

	// Every capture is a document, and a URL captured several times
	// (a recrawl) matches several times: rank captures, then keep the
	// best of each URL. Fetch more than wanted, and more again if the
	// duplicates ate into it.
	var ranked []*bsearch.DocumentMatch
	total := 0
	bm25 := storedStats(idx).bm25()
	for size := want*2 + 10; ; size *= 2 {
		req := bleve.NewSearchRequestOptions(q, size, 0, false)
		if bm25 != nil {
			req.PreSearchData = map[string]any{bsearch.BM25PreSearchDataKey: bm25}
		}
		res, err := idx.SearchInContext(ctx, req)
		if err != nil {
			return out, fmt.Errorf("search %q: %w", r.Query, err)
		}
		// Equal scores are ordered by URL, then newest first, so the
		// same archive always answers alike.
		slices.SortStableFunc(res.Hits, func(a, b *bsearch.DocumentMatch) int {
			if a.Score != b.Score {
				return cmp.Compare(b.Score, a.Score)
			}
			au, at := splitDocID(a.ID)
			bu, bt := splitDocID(b.ID)
			if c := strings.Compare(au, bu); c != 0 {
				return c
			}
			if c := strings.Compare(bt, at); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		seen := map[string]bool{}
		ranked = ranked[:0]
		for _, h := range res.Hits {
			if u, _ := splitDocID(h.ID); !seen[u] {
				seen[u] = true
				ranked = append(ranked, h)
			}
		}
		total = len(ranked)
		if len(ranked) >= want || uint64(len(res.Hits)) >= res.Total {
			if uint64(len(res.Hits)) < res.Total {
				// Not every match was read: the count of URLs is
				// at least what was seen, at most every capture.
				total = max(total, int(res.Total)-(len(res.Hits)-len(ranked)))
			}
			break
		}
	}
	if offset >= len(ranked) {
		out.Total = total
		return out, nil
	}
	ranked = ranked[offset:min(len(ranked), offset+limit)]

	// The stored fields of the hits only, then their snippets.
	ids := make([]string, len(ranked))
	for i, h := range ranked {
		ids[i] = h.ID
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(ids), len(ids), 0, false)
	req.Fields = []string{"url", "host", "title", "text", "time"}
	detail, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return out, fmt.Errorf("search %q: %w", r.Query, err)
	}
	stored := map[string]*bsearch.DocumentMatch{}
	for _, h := range detail.Hits {
		stored[h.ID] = h
	}
	an := idx.Mapping().AnalyzerNamed(korean.AnalyzerName)
	if an == nil {
		return out, fmt.Errorf("search: analyzer %s missing", korean.AnalyzerName)
	}
	marks.analyze(an)
	for _, h := range ranked {
		d := stored[h.ID]
		if d == nil {
			d = h
		}
		hit := Hit{URL: field(d, "url"), Host: field(d, "host"), Title: field(d, "title"), Score: h.Score}
		hit.Time, _ = time.Parse(time.RFC3339Nano, field(d, "time"))
		hit.Snippet = marks.snippet(field(d, "text"), hit.Title)
		out.Hits = append(out.Hits, hit)
	}
	out.Total = total
	return out, nil
}

// field is a stored string field of a hit.
func field(h *bsearch.DocumentMatch, name string) string {
	s, _ := h.Fields[name].(string)
	return s
}

// rewriteHangul puts quotes around bare Korean terms (of three syllables or
// more) of a query string, so
// that 서울시청 is searched as the phrase of its bigrams (서울 울시 시청 in a
// row) rather than as any one of them. Terms already quoted, and terms with
// query operators in them (wildcards, fuzziness, regexps, boosts), are left
// alone.
func rewriteHangul(qs string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(qs); {
		c := qs[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			b.WriteByte(c)
			i++
			continue
		case inQuote || c == ' ' || c == '\t':
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(qs) && qs[j] != ' ' && qs[j] != '\t' && qs[j] != '"' {
			j++
		}
		b.WriteString(quoteHangulTerm(qs[i:j]))
		i = j
	}
	return b.String()
}

func quoteHangulTerm(term string) string {
	lead := 0
	for lead < len(term) && (term[lead] == '+' || term[lead] == '-') {
		lead++
	}
	body := term[lead:]
	field := ""
	if k := strings.IndexByte(body, ':'); k > 0 && !strings.ContainsAny(body[:k], "\\/") {
		field, body = body[:k+1], body[k+1:]
	}
	if body == "" || strings.ContainsAny(body, `*?~^/\():><=`) || !utf8.ValidString(body) {
		return term
	}
	// One or two syllables analyse to a single token: a plain term
	// query does, and is much cheaper than a phrase.
	hangul := 0
	for _, r := range body {
		if korean.IsHangul(r) {
			hangul++
		}
	}
	if hangul < 3 {
		return term
	}
	return term[:lead] + field + `"` + body + `"`
}

// removeSearch deletes a search index folder.
func removeSearch(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove search index: %w", err)
	}
	return nil
}

// textFields are what a query clause without a field searches. The index
// has no catch-all _all field: it repeated every token of these fields with
// its positions and made the index half again as large.
var textFields = []string{"title", "headlines", "text"}

// expandFields rewrites, in place, every clause of q that names no field
// into the disjunction of that clause over textFields.
func expandFields(q query.Query) query.Query {
	fielded := func(leaf query.FieldableQuery, copyWith func(field string) query.Query) query.Query {
		if leaf.Field() != "" {
			return leaf
		}
		d := bleve.NewDisjunctionQuery()
		for _, f := range textFields {
			d.AddQuery(copyWith(f))
		}
		return d
	}
	switch q := q.(type) {
	case *query.BooleanQuery:
		if q.Must != nil {
			q.Must = expandFields(q.Must)
		}
		if q.Should != nil {
			q.Should = expandFields(q.Should)
		}
		if q.MustNot != nil {
			q.MustNot = expandFields(q.MustNot)
		}
		return q
	case *query.ConjunctionQuery:
		for i, c := range q.Conjuncts {
			q.Conjuncts[i] = expandFields(c)
		}
		return q
	case *query.DisjunctionQuery:
		for i, c := range q.Disjuncts {
			q.Disjuncts[i] = expandFields(c)
		}
		return q
	case *query.MatchQuery:
		return fielded(q, func(f string) query.Query { c := *q; c.SetField(f); return &c })
	case *query.MatchPhraseQuery:
		return fielded(q, func(f string) query.Query { c := *q; c.SetField(f); return &c })
	case *query.TermQuery:
		return fielded(q, func(f string) query.Query { c := *q; c.SetField(f); return &c })
	case *query.PrefixQuery:
		return fielded(q, func(f string) query.Query { c := *q; c.SetField(f); return &c })
	case *query.WildcardQuery:
		return fielded(q, func(f string) query.Query { c := *q; c.SetField(f); return &c })
	case *query.RegexpQuery:
		return fielded(q, func(f string) query.Query { c := *q; c.SetField(f); return &c })
	case *query.FuzzyQuery:
		return fielded(q, func(f string) query.Query { c := *q; c.SetField(f); return &c })
	}
	return q
}
