package page

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func addFixtureSeeds(f *testing.F, pattern string, add func([]byte)) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzParse: any body, any Content-Type: no panic, valid UTF-8 out,
// normalised http(s) links, limits held, input untouched.
func FuzzParse(f *testing.F) {
	addFixtureSeeds(f, "*.html", func(b []byte) { f.Add(b, "text/html") })
	f.Add([]byte("<title>\xff</title><h1>a<h2>b"), "text/html; charset=euc-kr")
	f.Add([]byte("<base href=//x><a href=\\y>"), "")
	f.Add([]byte("<svg><title>t</title><a xlink:href=q></a></svg><noscript><img src=n></noscript>"), "text/html; charset=shift_jis")
	base, _ := url.Parse("http://fuzz.example.kr/d/p.html")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		orig := bytes.Clone(body)
		p, err := Parse(body, ct, base, WithMaxText(4096), WithMaxLinks(64))
		if !bytes.Equal(body, orig) {
			t.Fatal("input modified")
		}
		if err != nil {
			if !errors.Is(err, ErrNotHTML) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(p.Text) > 4096 || len(p.Links) > 64 {
			t.Fatalf("limits exceeded: text %d links %d", len(p.Text), len(p.Links))
		}
		for _, s := range []string{p.Title, p.Text} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		for _, h := range p.Headlines {
			if !utf8.ValidString(h.Text) || len(h.Text) > DefaultConfig().MaxHeadlineBytes || h.Text == "" {
				t.Fatalf("bad headline %q", h.Text)
			}
		}
		for _, l := range p.Links {
			if n, err := Normalize(l.URL, nil); err != nil || n != l.URL {
				t.Fatalf("link %q not normalised: %q %v", l.URL, n, err)
			}
		}
	})
}

// FuzzParseCSS: any stylesheet: no panic, only normalised requisites.
func FuzzParseCSS(f *testing.F) {
	addFixtureSeeds(f, "*.css", func(b []byte) { f.Add(b) })
	f.Add([]byte(`@import url(  "a.css" ) ;x{background:url(b\)c)}/* url(d) `))
	f.Add([]byte(`@charset "euc-kr"; a{b:url('\xb0\xa1.png')}`))
	base, _ := url.Parse("http://fuzz.example/css/s.css")
	f.Fuzz(func(t *testing.T, css []byte) {
		for _, l := range ParseCSS(css, "text/css", base) {
			if !l.Requisite || (l.Tag != "css" && l.Tag != "@import") {
				t.Fatalf("bad link %+v", l)
			}
			if n, err := Normalize(l.URL, nil); err != nil || n != l.URL {
				t.Fatalf("link %q not normalised: %q %v", l.URL, n, err)
			}
		}
	})
}

// FuzzNormalize: a result is an http(s) URL that net/url accepts, has no
// fragment, and normalises to itself; failures carry a sentinel.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"http://example.com/a/../b?x=%41#f", "../x", "HTTP://ÉXAMPLE.kr:80/%7e", "//h/p", "\\\\h\\p",
		"http://[::1]:8080/", "javascript:x", "http://a b/", "http://%41.com/", "?q", "http://xn--/",
	} {
		f.Add(s, "http://base.example/dir/page.html")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, baseStr string) {
		var base *url.URL
		if baseStr != "" {
			b, err := url.Parse(baseStr)
			if err != nil {
				return
			}
			base = b
		}
		got, err := Normalize(raw, base)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) && !errors.Is(err, ErrSkippedScheme) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") {
			t.Fatalf("%q -> %q: not http(s)", raw, got)
		}
		if strings.Contains(got, "#") {
			t.Fatalf("%q -> %q: fragment kept", raw, got)
		}
		if _, err := url.Parse(got); err != nil {
			t.Fatalf("%q -> %q: net/url rejects it: %v", raw, got, err)
		}
		again, err := Normalize(got, nil)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", raw, got, again, err)
		}
	})
}

// FuzzPlainRef: where plainRef resolves a link without the WHATWG parser,
// the parser gives the same URL.
func FuzzPlainRef(f *testing.F) {
	for _, ref := range []string{"a.html", "/x/y", "sub/dir/", "a.html#top", "~user/", "-_.~", "a/./b", "../up", "/", "x//y", "..a", "a..", ".hidden"} {
		for _, base := range []string{"http://base.example/dir/page.html", "https://H.example:8443/", "http://base.example", "http://u:p@h.example/d/", "http://h.example/%7e/x", "http://h.example/a/b/c?q#f"} {
			f.Add(ref, base)
		}
	}
	f.Fuzz(func(t *testing.T, ref, baseStr string) {
		base, err := urlParser.Parse(baseStr)
		if err != nil {
			return
		}
		got, ok := plainRef(ref, base)
		if !ok {
			return
		}
		want, err := parseRef(ref, base)
		if err != nil || got != want {
			t.Fatalf("plainRef(%q, %q) = %q; the parser gives %q (%v)", ref, baseStr, got, want, err)
		}
	})
}
