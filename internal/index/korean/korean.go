// Package korean makes bleve find Korean words inside longer Korean words.
//
// Korean writes words (eojeol) with particles and endings attached:
// 서울특별시에서 is "in Seoul Special City". bleve's unicode tokenizer keeps
// such an eojeol whole, and its cjk analyzer only bigrams Han and Kana, so a
// search for 서울 would miss that page. BigramFilter emits, for each all-Hangul
// token, the token itself plus its overlapping syllable bigrams at
// consecutive positions (what Lucene's CJKBigramFilter does for Hangul). Any
// Korean query string of two or more syllables then matches as a phrase of
// bigrams, i.e. as a substring, with no dictionary.
//
// Analyzer (registered with bleve as AnalyzerName) is the one analyzer crawl
// uses for page text: unicode words, width folding, lowercase, English
// possessives, stop words and Porter stemming, CJK bigrams for Han and Kana,
// and Hangul bigrams. The same analyzer runs at index and query time.
package korean

import (
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names under which the filter and the analyzer are registered with bleve.
const (
	FilterName   = "hangul_bigram"
	AnalyzerName = "crawl_text"
)

// BigramFilter adds Hangul syllable bigrams after every all-Hangul token of
// three or more syllables (a two-syllable token is its own only bigram).
// Positions are renumbered so that the bigrams of one word are consecutive
// and the next word follows the last bigram: phrase queries over bigrams then
// mean "these syllables in a row".
type BigramFilter struct{}

// Filter implements analysis.TokenFilter.
func (BigramFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(input))
	shift := 0 // how far later tokens move to make room for bigrams
	for _, tok := range input {
		tok.Position += shift
		out = append(out, tok)
		n := utf8.RuneCount(tok.Term)
		if n < 3 || !allHangul(tok.Term) {
			continue
		}
		// Byte offsets of each syllable (all are 3-byte runes, but do not
		// rely on it).
		offs := make([]int, 0, n+1)
		for i := range string(tok.Term) {
			offs = append(offs, i)
		}
		offs = append(offs, len(tok.Term))
		for i := 0; i+2 < len(offs); i++ {
			out = append(out, &analysis.Token{
				Term:     tok.Term[offs[i]:offs[i+2]],
				Start:    tok.Start + offs[i],
				End:      tok.Start + offs[i+2],
				Position: tok.Position + i,
				Type:     tok.Type,
				KeyWord:  tok.KeyWord,
			})
		}
		shift += n - 2
	}
	return out
}

// IsHangul reports whether r is a Hangul syllable or jamo.
func IsHangul(r rune) bool {
	return (r >= 0xAC00 && r <= 0xD7A3) || // syllables
		(r >= 0x1100 && r <= 0x11FF) || // jamo
		(r >= 0x3130 && r <= 0x318F) || // compatibility jamo
		(r >= 0xA960 && r <= 0xA97F) || (r >= 0xD7B0 && r <= 0xD7FF) // extended jamo
}

func allHangul(b []byte) bool {
	for _, r := range string(b) {
		if !IsHangul(r) {
			return false
		}
	}
	return len(b) > 0
}

func filterConstructor(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
	return BigramFilter{}, nil
}

func analyzerConstructor(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	tokenizer, err := cache.TokenizerNamed(unicode.Name)
	if err != nil {
		return nil, err
	}
	var filters []analysis.TokenFilter
	for _, name := range []string{cjk.WidthName, lowercase.Name, en.PossessiveName, en.StopName, porter.Name, cjk.BigramName, FilterName} {
		f, err := cache.TokenFilterNamed(name)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	return &analysis.DefaultAnalyzer{Tokenizer: tokenizer, TokenFilters: filters}, nil
}

// bleve resolves analyzers by name through its process-wide registry, so
// registration has to happen at init; it holds no state of ours.
func init() {
	if err := registry.RegisterTokenFilter(FilterName, filterConstructor); err != nil {
		panic(err)
	}
	if err := registry.RegisterAnalyzer(AnalyzerName, analyzerConstructor); err != nil {
		panic(err)
	}
}
