package korean

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/registry"
)

func analyze(t testing.TB, text string) string {
	t.Helper()
	a, err := registry.NewCache().AnalyzerNamed(AnalyzerName)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, tok := range a.Analyze([]byte(text)) {
		parts = append(parts, fmt.Sprintf("%s@%d", tok.Term, tok.Position))
	}
	return strings.Join(parts, " ")
}

func TestAnalyzer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"서울특별시에서 열린 회의", "서울특별시에서@1 서울@1 울특@2 특별@3 별시@4 시에@5 에서@6 열린@7 회의@8"},
		{"서울", "서울@1"},
		{"집", "집@1"},
		{"The Running Dogs", "run@1 dog@2"},
		{"東京都", "東京@1 京都@2"},
		{"서울2024 KOREA", "서울2024@1 korea@2"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := analyze(t, tt.in); got != tt.want {
			t.Errorf("analyze(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func FuzzBigramFilter(f *testing.F) {
	f.Add("서울특별시에서 열린 회의")
	f.Add("mixed 한국어 and English")
	f.Add("\xff\xfe한")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			// Page text is always valid UTF-8; bleve's own lowercase filter
			// rewrites invalid bytes, which moves offsets.
			t.Skip()
		}
		a, err := registry.NewCache().AnalyzerNamed(AnalyzerName)
		if err != nil {
			t.Fatal(err)
		}
		toks := a.Analyze([]byte(s))
		for i, tok := range toks {
			if tok.Start < 0 || tok.End > len(s) || tok.Start > tok.End {
				t.Fatalf("token %d %q has bad offsets %d-%d", i, tok.Term, tok.Start, tok.End)
			}
			if i > 0 && tok.Position < toks[i-1].Position {
				t.Fatalf("positions go backwards at %d", i)
			}
		}
	})
}
