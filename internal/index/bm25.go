package index

import (
	"maps"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"

	"crawl/internal/index/korean"
)

// searchStats are the statistics BM25 scores with: how many documents
// there are and, per field, their total length in tokens. bleve's own
// (without these) take the average length from the sum of each segment's
// count of distinct terms, which depends on how the documents were batched
// and merged: a live index and a rebuilt one scored the same page
// differently. These depend on the documents alone.
type searchStats struct {
	Docs   int64            `json:"docs"`
	Tokens map[string]int64 `json:"tokens"`
}

// searchFields are the fields of searchMapping.
var searchFields = []string{"url", "host", "site", "mime", "lang", "title", "headlines", "text", "time"}

func (s *searchStats) add(d *pageDoc) {
	s.Docs++
	s.Tokens["title"] += countTokens(d.Title)
	s.Tokens["text"] += countTokens(d.Text)
	for _, h := range d.Headlines {
		s.Tokens["headlines"] += countTokens(h)
	}
	// Keyword fields hold one term per value.
	s.Tokens["url"]++
	s.Tokens["host"]++
	s.Tokens["mime"]++
	s.Tokens["lang"]++
	s.Tokens["time"]++
	s.Tokens["site"] += int64(len(d.Site))
}

func (s *searchStats) clone() *searchStats {
	c := *s
	c.Tokens = maps.Clone(s.Tokens)
	return &c
}

// bm25 returns the statistics to score a query with, or nil for an index
// written without them.
func (s *searchStats) bm25() *bsearch.BM25Stats {
	if s == nil || s.Docs == 0 {
		return nil
	}
	st := &bsearch.BM25Stats{DocCount: float64(s.Docs), FieldCardinality: map[string]int{}}
	for _, f := range searchFields {
		// bleve wants every field a query names; a field no document
		// has gets an average length of one.
		st.FieldCardinality[f] = int(max(s.Tokens[f], s.Docs))
	}
	return st
}

// storedStats reads the statistics from an open index (none, Docs 0, in an
// index written without them; nil if they do not decode).
func storedStats(idx bleve.Index) *searchStats {
	st := &searchStats{}
	if getInternal(idx, statsKey, st) != nil {
		return nil
	}
	return st
}

// countTokens estimates, in one pass, how many tokens the analyzer makes of
// s: runs of letters and digits, plus the bigrams of Korean, Chinese and
// Japanese runs. It need not be exact (stop words are counted), only the
// same for the same text, so that the average BM25 normalises with is.
func countTokens(s string) int64 {
	var n, run int64
	cjk := false
	flush := func() {
		if run > 0 {
			n++
			if cjk && run >= 3 {
				n += run - 1
			}
		}
		run, cjk = 0, false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r < utf8.RuneSelf {
			if 'a' <= r|0x20 && r|0x20 <= 'z' || '0' <= r && r <= '9' {
				run++
				continue
			}
			flush()
			continue
		}
		if korean.IsHangul(r) || unicode.Is(unicode.Han, r) || unicode.In(r, unicode.Hiragana, unicode.Katakana) {
			if run > 0 && !cjk {
				flush()
			}
			cjk = true
			run++
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if cjk {
				flush()
			}
			run++
			continue
		}
		flush()
	}
	flush()
	return n
}
