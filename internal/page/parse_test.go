package page

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// golden compares got (as indented JSON) with testdata/golden/name.json,
// rewriting it under -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from golden file %s:\ngot:\n%s\nwant:\n%s", name, path, b, want)
	}
}

// The fixtures: each one's Content-Type as served and its URL.
var fixtures = []struct {
	file, contentType, url string
}{
	{"korean_utf8.html", "text/html; charset=utf-8", "http://www.seoul.example.kr/index.html"},
	{"euckr_meta.html", "text/html", "http://busan.example.com/news/"},
	{"euckr_header.html", "text/html; charset=ks_c_5601-1987", "http://daegu.example.com/"},
	{"euckr_undeclared.html", "text/html", "http://gwangju.example.com/"},
	{"euckr_undeclared.html", "", "http://gwangju.example.com/no-header"},
	{"shift_jis.html", "text/html", "http://tokyo.example.jp/news/index.html"},
	{"srcset.html", "text/html; charset=utf-8", "http://img.example.com/gallery/index.html"},
	{"base_href.html", "text/html", "http://www.example.org/dir/page.html"},
}

func TestParseGolden(t *testing.T) {
	for _, f := range fixtures {
		name := strings.TrimSuffix(f.file, ".html")
		if f.contentType == "" {
			name += "_noheader"
		}
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", f.file))
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(body)
			p, err := Parse(body, f.contentType, mustURL(t, f.url))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, orig) {
				t.Error("Parse modified the caller's bytes")
			}
			checkPageInvariants(t, p)
			golden(t, name, p)
		})
	}
}

// checkPageInvariants: what must hold for every page, whatever its input.
func checkPageInvariants(t testing.TB, p *Page) {
	t.Helper()
	strs := []string{p.Title, p.Text, p.Charset, p.Lang}
	for _, h := range p.Headlines {
		strs = append(strs, h.Text)
		if len(h.Text) > DefaultConfig().MaxHeadlineBytes {
			t.Errorf("headline of %d bytes", len(h.Text))
		}
		if h.Text == "" || strings.TrimSpace(h.Text) != h.Text || strings.Contains(h.Text, "  ") {
			t.Errorf("headline %q not collapsed", h.Text)
		}
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 in output: %q", s)
		}
	}
	seen := map[Link]bool{}
	for _, l := range p.Links {
		if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
			t.Errorf("link %q is not http(s)", l.URL)
		}
		if strings.Contains(l.URL, "#") {
			t.Errorf("link %q keeps a fragment", l.URL)
		}
		if seen[Link{URL: l.URL, Requisite: l.Requisite}] {
			t.Errorf("duplicate link %q", l.URL)
		}
		seen[Link{URL: l.URL, Requisite: l.Requisite}] = true
		if n, err := Normalize(l.URL, nil); err != nil || n != l.URL {
			t.Errorf("link %q is not normalised: %q, %v", l.URL, n, err)
		}
	}
}

// Explicit checks of the points the golden files cover, so that a careless
// -update cannot hide a regression in them.
func TestParseFixtureFacts(t *testing.T) {
	parse := func(file, ct, u string) *Page {
		t.Helper()
		body, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(body, ct, mustURL(t, u))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	korean := []Headline{{"h1", "서울특별시 소식"}, {"h2", "교통 안내"}}

	t.Run("euc-kr in meta only", func(t *testing.T) {
		p := parse("euckr_meta.html", "text/html", "http://busan.example.com/news/")
		want := append([]Headline{{"title", "부산광역시 안내"}}, korean...)
		if p.Charset != "euc-kr" || !slices.Equal(p.Headlines, want) || p.Lang != "ko" {
			t.Errorf("got charset %q lang %q headlines %v", p.Charset, p.Lang, p.Headlines)
		}
		if !hasLink(p, "http://busan.example.com/%C7%D1%B1%DB.html", false) {
			t.Errorf("percent-encoded EUC-KR link lost: %v", p.Links)
		}
	})
	t.Run("ks_c_5601-1987 in header only, CP949 extension syllables", func(t *testing.T) {
		p := parse("euckr_header.html", "text/html; charset=ks_c_5601-1987", "http://daegu.example.com/")
		if p.Charset != "euc-kr" || p.Title != "대구 소식 - 똠방각하" || !strings.Contains(p.Text, "똠 똥 뷁 햏") {
			t.Errorf("got charset %q title %q text %q", p.Charset, p.Title, p.Text)
		}
	})
	t.Run("undeclared euc-kr found by the bytes", func(t *testing.T) {
		p := parse("euckr_undeclared.html", "text/html", "http://gwangju.example.com/")
		if p.Charset != "euc-kr" || p.Title != "광주 소식" {
			t.Errorf("got charset %q title %q", p.Charset, p.Title)
		}
	})
	t.Run("shift_jis", func(t *testing.T) {
		p := parse("shift_jis.html", "text/html", "http://tokyo.example.jp/news/index.html")
		if p.Charset != "shift_jis" || p.Title != "東京のニュース" || p.Lang != "ja" {
			t.Errorf("got charset %q title %q lang %q", p.Charset, p.Title, p.Lang)
		}
		if !hasLink(p, "http://tokyo.example.jp/news/%E6%AC%A1.html", false) {
			t.Errorf("links: %v", p.Links)
		}
	})
	t.Run("utf-8 korean: boilerplate, hidden, svg title, requisites", func(t *testing.T) {
		p := parse("korean_utf8.html", "text/html; charset=utf-8", "http://www.seoul.example.kr/index.html")
		wantH := []Headline{{"title", "서울 소식 | 시청"}, {"h1", "서울시청"}, {"h2", "오늘의 소식"}, {"h3", "일정 안내"}}
		if !slices.Equal(p.Headlines, wantH) {
			t.Errorf("headlines %v, want %v", p.Headlines, wantH)
		}
		for _, gone := range []string{"뉴스", "소개", "아이콘", "템플릿", "숨은", "광고", "©", "not a headline", "지도를", "hero"} {
			if strings.Contains(p.Text, gone) {
				t.Errorf("text keeps %q: %q", gone, p.Text)
			}
		}
		for _, kept := range []string{"오늘의 소식", "서울특별시에서 봄 축제가", "4월 1일 개막식", "인라인"} {
			if !strings.Contains(p.Text, kept) {
				t.Errorf("text lacks %q: %q", kept, p.Text)
			}
		}
		for _, l := range []struct {
			url string
			req bool
		}{
			{"http://www.seoul.example.kr/css/main.css", true},
			{"http://www.seoul.example.kr/favicon.ico", true},
			{"http://www.seoul.example.kr/en/", false},
			{"http://www.seoul.example.kr/js/app.js", true},
			{"http://www.seoul.example.kr/news/", false},
			{"http://www.seoul.example.kr/festival/2026?lang=ko&page=1", false},
			{"http://www.seoul.example.kr/img/table-bg.gif", true},
			{"http://www.seoul.example.kr/map.html", true},
			{"http://www.seoul.example.kr/noscript-pixel.gif", true},
			{"http://www.seoul.example.kr/img/hero.jpg", true},
			{"http://www.seoul.example.kr/img/inline.png", true},
		} {
			if !hasLink(p, l.url, l.req) {
				t.Errorf("missing link %s (requisite %v)", l.url, l.req)
			}
		}
		for _, l := range p.Links {
			if strings.Contains(l.URL, "cdn.example.kr") || strings.Contains(l.URL, "mailto") {
				t.Errorf("unwanted link %v", l)
			}
		}
		if p.Lang != "ko" {
			t.Errorf("lang %q", p.Lang)
		}
	})
	t.Run("base href", func(t *testing.T) {
		p := parse("base_href.html", "text/html", "http://www.example.org/dir/page.html")
		want := []Link{
			{"https://static.example.org/assets/v2/before-base.css", true, "link"},
			{"https://static.example.org/assets/v2/page.html", false, "a"},
			{"https://static.example.org/assets/up.html", false, "a"},
			{"https://static.example.org/root.html", false, "a"},
			{"https://other.example.org/x", false, "a"},
			{"https://static.example.org/assets/v2/?q=1", false, "a"},
			{"https://static.example.org/back/slash.html", false, "a"},
			{"http://xn--bcher-kva.example/%C3%A4?x=%C3%BC", false, "a"},
			{"https://example.org/~user/a%2Fb/A", false, "a"},
			{"https://static.example.org/assets/v2/frame.html", true, "frame"},
		}
		if !slices.Equal(p.Links, want) {
			t.Errorf("links:\n%v\nwant:\n%v", p.Links, want)
		}
	})
	t.Run("srcset and media", func(t *testing.T) {
		p := parse("srcset.html", "text/html", "http://img.example.com/gallery/index.html")
		for _, u := range []string{
			"hero-small.jpg", "hero-large.jpg", "gallery/plain.jpg", "gallery/plain-1x.jpg", "gallery/plain-2x.jpg",
			"gallery/comma,in,name.jpg", "gallery/other.jpg", "lazy/real.jpg", "lazy/real-2x.jpg",
			"gallery/wide.webp", "gallery/wide@2x.webp", "gallery/narrow.jpg", "gallery/fallback.jpg",
			"gallery/movie.mp4", "gallery/poster.jpg", "gallery/subs.vtt", "gallery/movie.webm", "gallery/sound.mp3",
			"gallery/button.png", "gallery/movie.swf", "gallery/plugin.swf",
		} {
			if !hasLink(p, "http://img.example.com/"+u, true) {
				t.Errorf("missing requisite %s", u)
			}
		}
		if !hasLink(p, "http://img.example.com/gallery/area.html", false) {
			t.Error("missing area link")
		}
		if hasLink(p, "http://img.example.com/gallery/not-an-image.png", true) {
			t.Error("input type=text src taken")
		}
		if p.Lang != "en" {
			t.Errorf("lang %q", p.Lang)
		}
	})
}

func hasLink(p *Page, u string, requisite bool) bool {
	for _, l := range p.Links {
		if l.URL == u && l.Requisite == requisite {
			return true
		}
	}
	return false
}

func TestParseCSSGolden(t *testing.T) {
	css, err := os.ReadFile("testdata/style.css")
	if err != nil {
		t.Fatal(err)
	}
	links := ParseCSS(css, "text/css", mustURL(t, "http://www.example.org/static/css/site.css"))
	want := []Link{
		{"http://www.example.org/static/css/reset.css", true, "@import"},
		{"http://www.example.org/static/css/theme.css", true, "@import"},
		{"http://www.example.org/static/css/img/bg.png", true, "css"},
		{"http://www.example.org/static/css/img/logo.svg", true, "css"},
		{"http://www.example.org/static/fonts/x.woff2", true, "css"},
		{"http://www.example.org/static/fonts/x.woff", true, "css"},
		{"https://cdn.example.org/a.png", true, "css"},
	}
	if !slices.Equal(links, want) {
		t.Errorf("got\n%v\nwant\n%v", links, want)
	}
	golden(t, "style_css", links)
}

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		name, html, text string
	}{
		{"inline joins words", "<p>Seo<b>ul</b> city</p>", "Seoul city"},
		{"blocks separate words", "<p>one</p><p>two</p><div>three<br>four</div>", "one two three four"},
		{"whitespace collapsed", "<p>  a \n\t b\u00a0\u3000c  </p>", "a b c"},
		{"script style noscript dropped", "<p>a</p><script>x()</script><style>p{}</style><noscript>n</noscript><p>b</p>", "a b"},
		{"nested nav counted", "<nav><nav>x</nav>y</nav><p>z</p>", "z"},
		{"role navigation on div with nested divs", "<div role=navigation><div>m</div><div>n</div></div><p>body</p>", "body"},
		{"header inside article kept", "<header>site</header><article><header>Story</header>text</article>", "Story text"},
		{"footer at page level dropped", "<p>main</p><footer>legal</footer>", "main"},
		{"aside in article kept", "<article>a<aside>quote</aside></article><aside>ads</aside>", "a quote"},
		{"hidden nested", "<div hidden><div>x</div>y</div>z", "z"},
		{"svg self-closing does not swallow", "<svg/><p>after</p>", "after"},
		{"textarea visible", "<textarea>typed &amp; text</textarea>", "typed & text"},
		{"entities", "<p>&lt;tag&gt; &amp; &#xD55C;&#44544;</p>", "<tag> & 한글"},
		{"unclosed heading", "<h1>title<p>para", "title para"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte("<html><body>"+tc.html), "text/html", nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Text != tc.text {
				t.Errorf("text %q, want %q", p.Text, tc.text)
			}
		})
	}
}

func TestParseHeadlines(t *testing.T) {
	long := strings.Repeat("가", 400) // 1200 bytes
	for _, tc := range []struct {
		name, html string
		want       []Headline
	}{
		{"title first even when late", "<h1>A</h1><title>T</title>", []Headline{{"title", "T"}, {"h1", "A"}}},
		{"svg title is not the title", "<svg><title>icon</title></svg><title>Real</title>", []Headline{{"title", "Real"}}},
		{"only the first title", "<title>one</title><title>two</title>", []Headline{{"title", "one"}}},
		{"nested markup", "<h2><a href=/x>Link <em>text</em></a></h2>", []Headline{{"h2", "Link text"}}},
		{"heading closes heading", "<h1>a<h2>b</h2>", []Headline{{"h1", "a"}, {"h2", "b"}}},
		{"empty heading skipped", "<h1> </h1><h3>x</h3>", []Headline{{"h3", "x"}}},
		{"document order", "<h3>c</h3><h1>a</h1><h6>f</h6>", []Headline{{"h3", "c"}, {"h1", "a"}, {"h6", "f"}}},
		{"headline in template skipped", "<template><h1>t</h1></template><h1>r</h1>", []Headline{{"h1", "r"}}},
		{"capped on a rune boundary", "<h1>" + long + "</h1>", []Headline{{"h1", strings.Repeat("가", 170)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.html), "text/html", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Headlines, tc.want) {
				t.Errorf("got %v, want %v", p.Headlines, tc.want)
			}
		})
	}
}

func TestParseLinks(t *testing.T) {
	base := "http://h.example/d/p.html"
	for _, tc := range []struct {
		name, html string
		want       []Link
	}{
		{"refresh", `<meta http-equiv="Refresh" content="0;URL='/moved?a=1'">`, []Link{{"http://h.example/moved?a=1", false, "refresh"}}},
		{"refresh without url=", `<meta http-equiv=refresh content="3, next.html">`, []Link{{"http://h.example/d/next.html", false, "refresh"}}},
		{"refresh without url", `<meta http-equiv=refresh content="30">`, nil},
		{"skipped schemes", `<a href="javascript:x()">a</a><a href="MAILTO:a@b">b</a><a href="tel:1">c</a><img src="data:image/png,x"><a href=" #top">d</a><a href="ftp://x/y">e</a>`, nil},
		{"fragment dropped, deduplicated", `<a href="a#1">x</a><a href="a#2">y</a><a href="a">z</a>`, []Link{{"http://h.example/d/a", false, "a"}}},
		{"same URL as nav and requisite", `<a href="i.png"><img src="i.png"></a>`, []Link{{"http://h.example/d/i.png", false, "a"}, {"http://h.example/d/i.png", true, "img"}}},
		{"link rels", `<link rel="shortcut icon" href=/f.ico><link rel=canonical href=/c><link rel=dns-prefetch href=//cdn.example><link rel=modulepreload href=/m.js>`,
			[]Link{{"http://h.example/f.ico", true, "link"}, {"http://h.example/c", false, "link"}, {"http://h.example/m.js", true, "link"}}},
		{"iframe is a requisite page", `<iframe src="/frame"></iframe>`, []Link{{"http://h.example/frame", true, "iframe"}}},
		{"style attribute", `<div style="background:url('bg.gif')"></div>`, []Link{{"http://h.example/d/bg.gif", true, "css"}}},
		{"svg image and a", `<svg><image xlink:href="s.png"/><a href="/nav"></a></svg>`, []Link{{"http://h.example/d/s.png", true, "image"}, {"http://h.example/nav", false, "a"}}},
		{"script text not parsed", `<script>document.write('<a href="/no">')</script>`, nil},
		{"base with bad scheme ignored", `<base href="javascript:x"><a href="y">y</a>`, []Link{{"http://h.example/d/y", false, "a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.html), "text/html", mustURL(t, base))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Links) == 0 && len(tc.want) == 0 {
				return
			}
			if !slices.Equal(p.Links, tc.want) {
				t.Errorf("got %v, want %v", p.Links, tc.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString(`<h2>head</h2><p>word word word</p><a href="/p` + strings.Repeat("x", i) + `">l</a>`)
	}
	p, err := Parse([]byte(b.String()), "text/html", mustURL(t, "http://h.example/"),
		WithMaxLinks(10), WithMaxText(50), WithConfig(Config{MaxLinks: 10, MaxText: 50, MaxHeadlines: 5}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Links) != 10 || len(p.Text) > 50 || len(p.Headlines) != 5 || !p.Truncated {
		t.Errorf("links %d text %d headlines %d truncated %v", len(p.Links), len(p.Text), len(p.Headlines), p.Truncated)
	}
	if !p.LinksCut {
		t.Error("100 links cut at 10, but LinksCut is false")
	}
	// Text and headlines cut, links all there: LinksCut stays false.
	p, err = Parse([]byte(b.String()), "text/html", mustURL(t, "http://h.example/"), WithConfig(Config{MaxText: 50, MaxHeadlines: 5}))
	if err != nil || !p.Truncated || p.LinksCut || len(p.Links) != 100 {
		t.Errorf("links %d truncated %v links cut %v (%v)", len(p.Links), p.Truncated, p.LinksCut, err)
	}
	p, err = Parse([]byte(`<a href="/`+strings.Repeat("a", 9000)+`">x</a>`), "text/html", mustURL(t, "http://h.example/"))
	if err != nil || len(p.Links) != 0 {
		t.Errorf("overlong URL kept: %v %v", err, len(p.Links))
	}
}

func TestParseLanguage(t *testing.T) {
	for _, tc := range []struct {
		name, html, header, want string
	}{
		{"html lang", `<html lang="ko-KR"><p>English words only here</p>`, "", "ko"},
		{"meta content-language", `<meta http-equiv="Content-Language" content="en-US"><p>한국어 문장입니다 정말로</p>`, "", "en"},
		{"header", `<p>x</p>`, "ja, en", "ja"},
		{"html lang beats header", `<html lang=en><p>x</p>`, "ko", "en"},
		{"detected hangul", `<p>대한민국의 수도는 서울특별시입니다. Seoul.</p>`, "", "ko"},
		{"detected latin", `<p>The capital of Korea is Seoul (서울).</p>`, "", "en"},
		{"too little to tell", `<p>OK</p>`, "", ""},
		{"junk lang ignored", `<html lang="x!"><p>대한민국의 수도는 서울특별시입니다</p>`, "", "ko"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.html), "text/html", nil, WithContentLanguage(tc.header))
			if err != nil {
				t.Fatal(err)
			}
			if p.Lang != tc.want {
				t.Errorf("lang %q, want %q", p.Lang, tc.want)
			}
		})
	}
}

func TestParseNotHTML(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, tc := range []struct {
		name, ct string
		body     []byte
	}{
		{"png served as text/html", "text/html", png},
		{"binary with NULs served as text/html", "text/html; charset=utf-8", []byte("\x00\x01\x02\x03binary\x00")},
		{"image type", "image/png", png},
		{"css type", "text/css", []byte("body{}")},
		{"plain text without header", "", []byte("just words")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.body, tc.ct, nil)
			if !errors.Is(err, ErrNotHTML) {
				t.Errorf("err %v, want ErrNotHTML", err)
			}
		})
	}
}

// Hostile bodies end with a bounded result and no panic; their time is
// measured by the benchmarks, not asserted here.
func TestParseHostile(t *testing.T) {
	deep := bytes.Repeat([]byte("<div><span><b>"), 10<<20/14) // 10 MB of unclosed nesting
	invalid := []byte("<title>\xff\xfe bad \xc3</title><h1>\xed\xa0\x80</h1><p>ok \x80\x81</p>")
	hugeAttr := []byte(`<a href="` + strings.Repeat("%", 1<<20) + `">x</a><img srcset="` + strings.Repeat(",", 1<<20) + `">`)
	manyLinks := []byte(strings.Repeat(`<a href="/a">x</a><a href="/b">y</a>`, 100000))
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"deep nesting", deep},
		{"invalid utf-8", invalid},
		{"huge attributes", hugeAttr},
		{"many duplicate links", manyLinks},
		{"unterminated comment", []byte("<p>a<!-- " + strings.Repeat("x", 1<<20))},
		{"unterminated script", []byte("<script>" + strings.Repeat("<a href=x>", 1<<16))},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.body, "text/html; charset=utf-8", mustURL(t, "http://h.example/"))
			if err != nil {
				t.Fatal(err)
			}
			checkPageInvariants(t, p)
			if len(p.Text) > DefaultConfig().MaxText {
				t.Errorf("text %d bytes", len(p.Text))
			}
		})
	}
}

// A non-UTF-8 page's query strings are percent-encoded in the page's
// encoding, as browsers send them; paths and CSS URLs stay UTF-8.
func TestParseQueryEncoding(t *testing.T) {
	body, err := korean.EUCKR.NewEncoder().Bytes([]byte(`<meta charset="euc-kr"><a href="/검색/?q=서울&amp;x=&#233;#f">서울 검색 결과 페이지</a><div style="background:url(/a?b=서울)"></div>`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(body, "text/html", mustURL(t, "http://h.example.kr/"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{
		{"http://h.example.kr/%EA%B2%80%EC%83%89/?q=%BC%AD%BF%EF&x=%26%23233%3B", false, "a"},
		{"http://h.example.kr/a?b=%EC%84%9C%EC%9A%B8", true, "css"},
	}
	if !slices.Equal(p.Links, want) {
		t.Errorf("got %v\nwant %v", p.Links, want)
	}
}

// TestSkipTextKeepsOutline: a parse with SkipText has no text, and the
// same title, headlines and links as a full parse, on every fixture page:
// the index takes it for those (Limits.SameOutline).
func TestSkipTextKeepsOutline(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.html"))
	if len(files) == 0 {
		t.Fatal("no fixture pages")
	}
	base := mustURL(t, "http://www.example.kr/dir/page.html")
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, err := Parse(body, "text/html", base)
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.SkipText = true
		outline, err := Parse(body, "text/html", base, WithConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if full.Text == "" {
			t.Errorf("%s: the full parse has no text: the fixture tests nothing", f)
		}
		if outline.Text != "" {
			t.Errorf("%s: text %q with SkipText", f, outline.Text)
		}
		if outline.Title != full.Title || !reflect.DeepEqual(outline.Headlines, full.Headlines) ||
			!reflect.DeepEqual(outline.Links, full.Links) || outline.LinksCut != full.LinksCut {
			t.Errorf("%s: SkipText changed the outline:\n%+v\nwant\n%+v", f, outline, full)
		}
	}
}

func TestSameOutline(t *testing.T) {
	d := DefaultLimits()
	with := func(f func(*Limits)) Limits { l := DefaultLimits(); f(&l); return l }
	for _, tc := range []struct {
		l    Limits
		same bool
	}{
		{d, true},
		{Limits{}, true}, // zero fields are the defaults
		{with(func(l *Limits) { l.Config.SkipText = true }), true},
		{with(func(l *Limits) { l.Config.MaxText = 10 }), true},
		{with(func(l *Limits) { l.Config.MaxLinks = 10 }), false},
		{with(func(l *Limits) { l.Config.MaxHeadlines = 3 }), false},
		{with(func(l *Limits) { l.MaxBody = 100 }), false},
	} {
		if got := tc.l.SameOutline(d); got != tc.same {
			t.Errorf("%+v SameOutline(default) = %v, want %v", tc.l, got, tc.same)
		}
		if tc.l.Config.SkipText && tc.l.Same(d) {
			t.Errorf("%+v Same(default): a parse without text is not the default parse", tc.l)
		}
	}
}
