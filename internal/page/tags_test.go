package page

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzTagReading checks the two shortcuts Parse takes around x/net/html's
// copying accessors against the accessors themselves, token by token:
// tagName gives what TagName gives, and mayHaveWantedAttr is true for every
// tag that has an attribute Parse reads.
func FuzzTagReading(f *testing.F) {
	addFixtureSeeds(f, "*.html", func(b []byte) { f.Add(b) })
	for _, s := range []string{
		`<A HREF=x>y</A>`, "<di\x00v>", `<ünïcode-tag a=b></ünïcode-tag>`, `<x-very-long-custom-element-name-here style=q>`,
		`<p/class=a/HIDDEN>`, `<img SrcSet="a 1x">`, `<div data-ORIGINAL=1>`, `<svg><a xlink:href=q>`, `<br/>`, `</>`, `< a>`,
		`<meta HTTP-Equiv=content-language content=ko>`, `<a	href=x>`, `<a/href=x>`, `<tag`, `<a =href>`,
	} {
		f.Add([]byte(s))
	}
	for k := range wantedAttr { // each alone, in upper case
		f.Add([]byte("<x " + strings.ToUpper(k) + "=v>"))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		fast := html.NewTokenizer(bytes.NewReader(doc))
		slow := html.NewTokenizer(bytes.NewReader(doc))
		for {
			tt := fast.Next()
			if slow.Next() != tt || tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
				continue
			}
			raw := bytes.Clone(fast.Raw())
			got := tagName(fast, tt == html.EndTagToken)
			want, more := slow.TagName()
			if got != string(want) {
				t.Fatalf("tag %q: tagName %q, TagName %q", raw, got, want)
			}
			if tt == html.EndTagToken {
				continue
			}
			for more {
				var k []byte
				k, _, more = slow.TagAttr()
				if wantedAttr[string(k)] && !mayHaveWantedAttr(raw) {
					t.Fatalf("tag %q has %q, which mayHaveWantedAttr misses", raw, k)
				}
			}
		}
	})
}
