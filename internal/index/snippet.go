package index

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Snippets are made from the stored text at query time, for the hits shown
// only, not from the term vectors' locations (which the index keeps for
// phrases): a Korean word and its bigrams share one offset, and which of
// them bleve's highlighter marked varied from query to query
// (TestSnippetsAreStable). The query's terms are analysed as the index
// analysed them, the text of each hit is analysed again, and the window
// with the most matching tokens is shown with the matches marked.

// snippetBytes is about how long a snippet is.
const snippetBytes = 200

// analyzeChunk is how much text is analysed at a time: most pages match
// early, and a 1 MiB text is analysed only as far as its first match.
const analyzeChunk = 16 << 10

// highlighter marks the terms of one query.
type highlighter struct {
	an       analysis.Analyzer
	texts    []string                  // match and phrase query texts, to analyse
	terms    map[string]bool           // exact tokens (analysed texts, terms)
	patterns []func(token string) bool // prefix, wildcard, regexp and fuzzy terms
	open     string
	close    string
	escape   func(string) string
}

// newHighlighterFor notes what query q looks for in the text; analyze then
// turns it into tokens.
func newHighlighterFor(q query.Query, style string) *highlighter {
	h := &highlighter{terms: map[string]bool{}, open: "<mark>", close: "</mark>", escape: html.EscapeString}
	if style == "ansi" {
		h.open, h.close, h.escape = "\x1b[43m", "\x1b[0m", func(s string) string { return s }
	}
	h.collect(q)
	return h
}

// analyze turns the query's words into the tokens the index holds.
func (h *highlighter) analyze(an analysis.Analyzer) {
	h.an = an
	for _, text := range h.texts {
		for _, tok := range an.Analyze([]byte(text)) {
			h.terms[string(tok.Term)] = true
		}
	}
}

// textField reports whether a query clause on field may match page text or
// title (host:, lang: and the like mark nothing).
func textField(field string) bool {
	switch field {
	case "", "_all", "text", "title", "headlines":
		return true
	}
	return false
}

// collect walks the parsed query for what it looks for in the text.
func (h *highlighter) collect(q query.Query) {
	switch q := q.(type) {
	case *query.BooleanQuery:
		if q.Must != nil {
			h.collect(q.Must)
		}
		if q.Should != nil {
			h.collect(q.Should)
		}
		// MustNot: nothing shown matches it.
	case *query.ConjunctionQuery:
		for _, c := range q.Conjuncts {
			h.collect(c)
		}
	case *query.DisjunctionQuery:
		for _, c := range q.Disjuncts {
			h.collect(c)
		}
	case *query.MatchQuery:
		if textField(q.Field()) {
			h.addAnalysed(q.Match)
		}
	case *query.MatchPhraseQuery:
		if textField(q.Field()) {
			h.addAnalysed(q.MatchPhrase)
		}
	case *query.TermQuery:
		if textField(q.Field()) {
			h.terms[q.Term] = true
		}
	case *query.PrefixQuery:
		if textField(q.Field()) {
			p := q.Prefix
			h.patterns = append(h.patterns, func(t string) bool { return strings.HasPrefix(t, p) })
		}
	case *query.WildcardQuery:
		if textField(q.Field()) {
			if re, err := regexp.Compile("^" + wildcardRegexp(q.Wildcard) + "$"); err == nil {
				h.patterns = append(h.patterns, re.MatchString)
			}
		}
	case *query.RegexpQuery:
		if textField(q.Field()) {
			if re, err := regexp.Compile("^(?:" + q.Regexp + ")$"); err == nil {
				h.patterns = append(h.patterns, re.MatchString)
			}
		}
	case *query.FuzzyQuery:
		if textField(q.Field()) {
			term, fuzz := q.Term, max(q.Fuzziness, 1)
			h.patterns = append(h.patterns, func(t string) bool { return editDistanceAtMost(term, t, fuzz) })
		}
	}
}

func (h *highlighter) addAnalysed(text string) { h.texts = append(h.texts, text) }

func (h *highlighter) matches(term string) bool {
	if h.terms[term] {
		return true
	}
	for _, p := range h.patterns {
		if p(term) {
			return true
		}
	}
	return false
}

type span struct{ start, end int }

// spans returns the byte spans of matching tokens in the first stretch of
// text that has any (merged where they overlap, as the bigrams of one word
// do). Analysing is the costly part, so it looks for the query's words
// literally first and analyses a window around the first place they appear;
// only when that finds nothing does it analyse the text chunk by chunk.
func (h *highlighter) spans(text string) []span {
	if sp := h.probeSpans(text); sp != nil {
		return sp
	}
	return h.chunkSpans(text)
}

// probeWindow is how much text around a literal find is analysed; maxProbes
// is how many finds are tried before analysing chunk by chunk.
const (
	probeWindow = 512
	maxProbes   = 8
)

// probes are what the query's tokens look like in the text before analysis:
// a Korean or Chinese token as it is, a Latin one by its first four letters
// (stemming changes a word's end: librari finds library). Patterns have no
// literal form.
func (h *highlighter) probes() []string {
	if len(h.patterns) > 0 {
		return nil
	}
	var out []string
	for t := range h.terms {
		if r := []rune(t); len(r) > 4 && r[0] < 0x2E80 {
			t = string(r[:4])
		}
		out = append(out, t)
	}
	return out
}

func (h *highlighter) probeSpans(text string) []span {
	probes := h.probes()
	if len(probes) == 0 {
		return nil
	}
	tries := 0
	for from := 0; from < len(text) && tries < maxProbes; {
		to := min(len(text), from+analyzeChunk)
		lower := strings.ToLower(text[from:to])
		at := -1
		for _, p := range probes {
			if i := strings.Index(lower, p); i >= 0 && (at < 0 || i < at) {
				at = i
			}
		}
		if at < 0 {
			from = to
			continue
		}
		tries++
		at += from // lower case has the same offsets but for rare letters; a window absorbs it
		start, end := max(0, at-probeWindow/4), min(len(text), at+probeWindow*3/4)
		if start > 0 {
			if i := strings.IndexByte(text[start:at], ' '); i >= 0 {
				start += i + 1
			}
		}
		for start < len(text) && !utf8.RuneStart(text[start]) {
			start++
		}
		if end < len(text) {
			if i := strings.LastIndexByte(text[at:end], ' '); i > 0 {
				end = at + i
			}
			for end < len(text) && !utf8.RuneStart(text[end]) {
				end++
			}
		}
		if sp := h.analyzeSpans(text[start:end], start); len(sp) > 0 {
			return sp
		}
		from = at + 1
		for from < len(text) && !utf8.RuneStart(text[from]) {
			from++
		}
	}
	return nil
}

// analyzeSpans analyses one stretch of text (at offset base) for matches.
func (h *highlighter) analyzeSpans(text string, base int) []span {
	var out []span
	for _, tok := range h.an.Analyze([]byte(text)) {
		if !h.matches(string(tok.Term)) {
			continue
		}
		s := span{base + tok.Start, base + tok.End}
		if n := len(out); n > 0 && s.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// chunkSpans analyses text chunk by chunk up to the first with a match.
func (h *highlighter) chunkSpans(text string) []span {
	for from := 0; from < len(text); {
		to := min(len(text), from+analyzeChunk)
		if to < len(text) {
			// End the chunk at a space so no word is cut in two.
			if i := strings.LastIndexAny(text[from:to], " \n\t"); i > 0 {
				to = from + i
			}
		}
		if out := h.analyzeSpans(text[from:to], from); len(out) > 0 {
			return out
		}
		from = to
	}
	return nil
}

// snippet returns the best window of text with the matches marked, or the
// marked title when the text has no match, or the start of the text.
func (h *highlighter) snippet(text, title string) string {
	if sp := h.spans(text); len(sp) > 0 {
		return h.window(text, sp)
	}
	if sp := h.spans(title); len(sp) > 0 {
		return h.mark(title, sp, 0, len(title))
	}
	return h.escape(cutUTF8(text, snippetBytes))
}

// window picks the snippetBytes-long stretch holding the most matches.
func (h *highlighter) window(text string, sp []span) string {
	best, bestN := 0, 0
	for i := range sp {
		n := 0
		for j := i; j < len(sp) && sp[j].end <= sp[i].start+snippetBytes; j++ {
			n++
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	// Start a little before the first match, on a word boundary.
	start := max(0, sp[best].start-snippetBytes/4)
	if start > 0 {
		if i := strings.IndexByte(text[start:sp[best].start], ' '); i >= 0 {
			start += i + 1
		}
	}
	end := min(len(text), start+snippetBytes)
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	for j := best; j < len(sp) && sp[j].start < end; j++ {
		end = max(end, sp[j].end) // never cut a mark
	}
	if end < len(text) {
		if i := strings.LastIndexByte(text[start:end], ' '); i > sp[best].end-start {
			end = start + i
		}
	}
	return h.mark(text, sp, start, end)
}

// mark renders text[start:end] with the spans inside it marked.
func (h *highlighter) mark(text string, sp []span, start, end int) string {
	var b strings.Builder
	if start > 0 {
		b.WriteString("… ")
	}
	at := start
	for _, s := range sp {
		if s.end <= start || s.start >= end {
			continue
		}
		s.start, s.end = max(s.start, start), min(s.end, end)
		b.WriteString(h.escape(text[at:s.start]))
		b.WriteString(h.open)
		b.WriteString(h.escape(text[s.start:s.end]))
		b.WriteString(h.close)
		at = s.end
	}
	b.WriteString(h.escape(text[at:end]))
	if end < len(text) {
		b.WriteString(" …")
	}
	return b.String()
}

// wildcardRegexp turns a bleve wildcard (* and ?) into a regexp.
func wildcardRegexp(w string) string {
	var b strings.Builder
	for _, r := range w {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// editDistanceAtMost reports whether a and b are within k edits
// (Levenshtein over runes).
func editDistanceAtMost(a, b string, k int) bool {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > k || -d > k {
		return false
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)] <= k
}
