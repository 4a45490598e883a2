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

	"crawl/internal/index/korean"
)

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
  site:example.kp      only pages of that site   lang:ko   mime:text/plain
  url:"http://a.kp/x"  one URL
  time:>"2026-01-01"   captured after a date (also <, >=, <=)
  seo*  seo?l  /se.ul/ wildcards and regular expressions; seoul~1 fuzzy
  title:seoul^3 text:seoul   ^N boosts a clause

Results come best first with their score and a snippet with the matches
marked. Only pages fetched with a 2xx status as HTML or plain text are
indexed; robots.txt, errors, redirects and revisits are not.`

// pageDoc is one page's full-text document (the bleve document ID is the
// URL: the latest capture of a URL replaces the earlier one).
type pageDoc struct {
	URL       string    `json:"url"`
	Host      string    `json:"host"`
	Site      string    `json:"site"`
	Title     string    `json:"title"`
	Headlines []string  `json:"headlines"`
	Text      string    `json:"text"`
	Time      time.Time `json:"time"`
	MIME      string    `json:"mime"`
	Lang      string    `json:"lang"`
}

// searchMapping: title and text are stored with term vectors because the
// highlighter needs both; headlines are only searched.
func searchMapping() mapping.IndexMapping {
	text := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = korean.AnalyzerName
		f.Store = store
		f.IncludeTermVectors = store
		f.IncludeInAll = true
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = true
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt("url", kw())
	dm.AddFieldMappingsAt("host", kw())
	dm.AddFieldMappingsAt("site", kw())
	dm.AddFieldMappingsAt("mime", kw())
	dm.AddFieldMappingsAt("lang", kw())
	dm.AddFieldMappingsAt("title", text(true))
	dm.AddFieldMappingsAt("headlines", text(false))
	dm.AddFieldMappingsAt("text", text(true))
	tm := bleve.NewDateTimeFieldMapping()
	tm.IncludeInAll = false
	dm.AddFieldMappingsAt("time", tm)

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
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
	Query string // see SearchHelp
	Host  string // only pages of this host, if set
	Limit int    // at most this many hits; 0 = 20, capped at MaxSearchLimit
	// Style of the snippet marks: "html" (<mark>…</mark>, the default) or
	// "ansi" (terminal colours).
	Style string
}

// MaxSearchLimit bounds one query's hits.
const MaxSearchLimit = 10000

// Hit is one search result.
type Hit struct {
	URL     string  `json:"url"`
	Host    string  `json:"host"`
	Title   string  `json:"title"`
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
}

func search(ctx context.Context, idx bleve.Index, r SearchRequest) ([]Hit, error) {
	qs := strings.TrimSpace(r.Query)
	if qs == "" {
		return nil, fmt.Errorf("search: %w", ErrEmptyQuery)
	}
	var q query.Query = bleve.NewQueryStringQuery(rewriteHangul(qs))
	if r.Host != "" {
		hq := bleve.NewTermQuery(NormalizeHost(r.Host))
		hq.SetField("host")
		q = bleve.NewConjunctionQuery(q, hq)
	}
	limit := r.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, MaxSearchLimit)
	// Two passes: rank without highlighting, then highlight only the hits.
	// Asking for highlights in the ranking pass makes bleve collect term
	// locations for every match (70 ms instead of 12 for a term on every
	// page of 100,000).
	res, err := idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, limit, 0, false))
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", r.Query, err)
	}
	// Equal scores are ordered by URL, so the same archive always answers
	// alike. (Sorting by _id inside bleve would load the ID of every
	// match, not just of the hits.)
	slices.SortStableFunc(res.Hits, func(a, b *bsearch.DocumentMatch) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return strings.Compare(a.ID, b.ID)
	})
	shown := map[string]*bsearch.DocumentMatch{}
	if len(res.Hits) > 0 {
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.ID
		}
		req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(q, bleve.NewDocIDQuery(ids)), len(ids), 0, false)
		style := r.Style
		if style != "ansi" {
			style = "html"
		}
		req.Highlight = bleve.NewHighlightWithStyle(style)
		req.Highlight.AddField("text")
		req.Highlight.AddField("title")
		req.Fields = []string{"url", "host", "title", "text"}
		detail, err := idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("search %q: snippets: %w", r.Query, err)
		}
		for _, h := range detail.Hits {
			shown[h.ID] = h
		}
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, ranked := range res.Hits {
		h := shown[ranked.ID]
		if h == nil {
			h = ranked
		}
		hit := Hit{URL: ranked.ID, Score: ranked.Score}
		hit.Host, _ = h.Fields["host"].(string)
		hit.Title, _ = h.Fields["title"].(string)
		switch {
		case len(h.Fragments["text"]) > 0:
			hit.Snippet = h.Fragments["text"][0]
		case len(h.Fragments["title"]) > 0:
			hit.Snippet = h.Fragments["title"][0]
		default:
			// The match was in headlines or a field filter: show the
			// start of the text.
			text, _ := h.Fields["text"].(string)
			hit.Snippet = cutUTF8(text, 200)
		}
		hits = append(hits, hit)
	}
	return hits, nil
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
