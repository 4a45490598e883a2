package replay

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

func testRewriter(t testing.TB, base string) *Rewriter {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return &Rewriter{Prefix: "/web/", Timestamp: "20160920123456", Base: u}
}

func TestURL(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/dir/page.html?x=1")
	for _, tc := range []struct{ in, mod, want string }{
		{"http://b.kp/x.png", ModImage, "/web/20160920123456im_/http://b.kp/x.png"},
		{"HTTPS://B.kp/x", "", "/web/20160920123456/HTTPS://B.kp/x"},
		{"//b.kp/x", "", "/web/20160920123456/http://b.kp/x"},
		{"/img/logo.png", ModImage, "/web/20160920123456im_/http://a.kp/img/logo.png"},
		{"logo.png", ModImage, "/web/20160920123456im_/http://a.kp/dir/logo.png"},
		{"?page=2", "", "/web/20160920123456/http://a.kp/dir/page.html?page=2"},
		{"other.html#top", "", "/web/20160920123456/http://a.kp/dir/other.html#top"},
		{"  /x  ", "", "  /web/20160920123456/http://a.kp/x  "},
		{"/a?b=1&amp;c=2", "", "/web/20160920123456/http://a.kp/a?b=1&amp;c=2"},
		// Dot segments may not climb out of the site into the prefix.
		{"../../../../up.html", "", "/web/20160920123456/http://a.kp/up.html"},
		{"./same.html", "", "/web/20160920123456/http://a.kp/dir/same.html"},
		{"http://b.kp/a/../b", "", "/web/20160920123456/http://b.kp/b"},
		{`\back\slash`, "", `/web/20160920123456/http://a.kp\back\slash`},
		// Left alone: fragments, other schemes, empty.
		{"#top", "", "#top"},
		{"javascript:void(0)", "", "javascript:void(0)"},
		{"mailto:x@a.kp", "", "mailto:x@a.kp"},
		{"data:image/png;base64,AAAA", ModImage, "data:image/png;base64,AAAA"},
		{"", "", ""},
		{"ftp://a.kp/file", "", "ftp://a.kp/file"},
		// An escaped first character is resolved.
		{"&#47;x", "", "/web/20160920123456/http://a.kp/x"},
	} {
		if got := string(rw.URL([]byte(tc.in), tc.mod)); got != tc.want {
			t.Errorf("URL(%q, %q) = %q, want %q", tc.in, tc.mod, got, tc.want)
		}
	}
}

func TestHTML(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/news/")
	rw.Banner = []byte(`<div id="banner"></div>`)
	in := `<!DOCTYPE html>
<html><head><meta http-equiv="refresh" content="5; URL='/moved.html'">
<base href="/base/">
<link rel="stylesheet" href="style.css" integrity="sha384-x"><link rel=icon href=/fav.ico>
<style>body { background: url("bg.gif") } @import 'print.css';</style>
<script src="/js/a.js" integrity="sha256-y"></script>
<script>var u = "/not/rewritten"; if (a<b) {}</script>
</head>
<BODY background="/img/bg.gif" class=x>
<a href="/page?a=1&amp;b=2">A</a> <A HREF='http://b.kp/'>B</A> <a href=#x>x</a>
<img src="logo.png" srcset="s.png 1x, l.png 2x,https://c.kp/x,y.png 3x" alt="x">
<div style="background-image:url(&quot;/i.png&quot;)">d</div><p style='color:red'>c</p>
<form action="/search" method="post"><input type="image" src="/go.png"><input type="text" src="/no.png"><button formaction="/b">b</button></form>
<video poster="/p.jpg"><source src="/v.mp4"></video><iframe src="/frame.html"></iframe>
<table background="/t.gif"><tr><td background="/td.gif">t</td></tr></table>
<object data="/o.swf"></object><embed src="/e.swf">
<textarea><a href="/in/textarea">x</a></textarea>
<!-- <a href="/in/comment"> -->
</body></html>`
	want := `<!DOCTYPE html>
<html><head><meta http-equiv="refresh" content="5; URL='/web/20160920123456/http://a.kp/moved.html'">
<base href="/web/20160920123456/http://a.kp/base/">
<link rel="stylesheet" href="/web/20160920123456cs_/http://a.kp/base/style.css" _integrity="sha384-x"><link rel=icon href=/web/20160920123456im_/http://a.kp/fav.ico>
<style>body { background: url("/web/20160920123456im_/http://a.kp/base/bg.gif") } @import '/web/20160920123456cs_/http://a.kp/base/print.css';</style>
<script src="/web/20160920123456js_/http://a.kp/js/a.js" _integrity="sha256-y"></script>
<script>var u = "/not/rewritten"; if (a<b) {}</script>
</head>
<BODY background="/web/20160920123456im_/http://a.kp/img/bg.gif" class=x><div id="banner"></div>
<a href="/web/20160920123456/http://a.kp/page?a=1&amp;b=2">A</a> <A HREF='/web/20160920123456/http://b.kp/'>B</A> <a href=#x>x</a>
<img src="/web/20160920123456im_/http://a.kp/base/logo.png" srcset="/web/20160920123456im_/http://a.kp/base/s.png 1x, /web/20160920123456im_/http://a.kp/base/l.png 2x,/web/20160920123456im_/https://c.kp/x,y.png 3x" alt="x">
<div style="background-image:url(&#34;/web/20160920123456im_/http://a.kp/i.png&#34;)">d</div><p style='color:red'>c</p>
<form action="/web/20160920123456/http://a.kp/search" method="post"><input type="image" src="/web/20160920123456im_/http://a.kp/go.png"><input type="text" src="/no.png"><button formaction="/web/20160920123456/http://a.kp/b">b</button></form>
<video poster="/web/20160920123456im_/http://a.kp/p.jpg"><source src="/web/20160920123456oe_/http://a.kp/v.mp4"></video><iframe src="/web/20160920123456if_/http://a.kp/frame.html"></iframe>
<table background="/web/20160920123456im_/http://a.kp/t.gif"><tr><td background="/web/20160920123456im_/http://a.kp/td.gif">t</td></tr></table>
<object data="/web/20160920123456oe_/http://a.kp/o.swf"></object><embed src="/web/20160920123456oe_/http://a.kp/e.swf">
<textarea><a href="/in/textarea">x</a></textarea>
<!-- <a href="/in/comment"> -->
</body></html>`
	got := string(rw.HTML([]byte(in)))
	if got != want {
		t.Errorf("HTML:\n%s\nwant:\n%s", got, want)
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Logf("first difference at %d: %q", i, got[i:min(i+60, len(got))])
				break
			}
		}
	}
}

// An EUC-KR page keeps every byte that is not a URL, and its non-ASCII
// URLs as they are (the browser encodes them as for the live page).
func TestHTMLKeepsCharset(t *testing.T) {
	enc := func(s string) string {
		b, err := korean.EUCKR.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rw := testRewriter(t, "http://a.kp/")
	in := `<html><head><meta http-equiv="Content-Type" content="text/html; charset=euc-kr"><title>` + enc("인민 대학습당") +
		`</title></head><body><h1>` + enc("과학과 기술") + `</h1><a href="/` + enc("검색") + `?q=` + enc("서울") + `">` + enc("찾기") + `</a></body></html>`
	want := strings.Replace(in, `href="/`, `href="/web/20160920123456/http://a.kp/`, 1)
	if got := string(rw.HTML([]byte(in))); got != want {
		t.Errorf("EUC-KR page:\n%q\nwant\n%q", got, want)
	}
}

// Without URLs to rewrite, a document comes back byte for byte, however
// odd its markup.
func TestHTMLUnchanged(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/")
	for _, in := range []string{
		"", "plain text", "<p>unclosed", "<a name=x>", "<!-- comment", "<script>if (a < b) { x = '</p>' }</script>",
		"<title>a & b</title>", "<p class=\"a\" id='b' data-x=y hidden>", "<a href>x</a>", "<img src=>", "<<>>",
		"\xff\xfe<p>\x00</p>", "<svg><path d='M0 0'/></svg>", "<a\nhref\n=\n#x>",
	} {
		if got := string(rw.HTML([]byte(in))); got != in {
			t.Errorf("HTML(%q) = %q", in, got)
		}
	}
}

func TestCSS(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/css/style.css")
	for _, tc := range []struct{ in, want string }{
		{`body { background: #fff url("/img/bg.gif") repeat; }`, `body { background: #fff url("/web/20160920123456im_/http://a.kp/img/bg.gif") repeat; }`},
		{`.logo { background-image: url(/img/logo.png); }`, `.logo { background-image: url(/web/20160920123456im_/http://a.kp/img/logo.png); }`},
		{`@import url("print.css");`, `@import url("/web/20160920123456cs_/http://a.kp/css/print.css");`},
		{`@import "x.css" screen;`, `@import "/web/20160920123456cs_/http://a.kp/css/x.css" screen;`},
		{`@IMPORT 'x.css';`, `@IMPORT '/web/20160920123456cs_/http://a.kp/css/x.css';`},
		{`@font-face { src: URL( 'f.woff' ) format("woff") }`, `@font-face { src: URL( '/web/20160920123456im_/http://a.kp/css/f.woff' ) format("woff") }`},
		{`a { background: url(data:image/png;base64,AA==) }`, `a { background: url(data:image/png;base64,AA==) }`},
		{`/* url(/in/comment) */ p { content: "url(/in/string)" }`, `/* url(/in/comment) */ p { content: "url(/in/string)" }`},
		{`x { mask: myurl(/no) }`, `x { mask: myurl(/no) }`},
		{`x { background: url() }`, `x { background: url() }`},
		{`unterminated url(/a`, `unterminated url(/web/20160920123456im_/http://a.kp/a`},
	} {
		if got := string(rw.CSS([]byte(tc.in))); got != tc.want {
			t.Errorf("CSS(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
}

func TestLocationAndRefresh(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/old.html")
	for _, tc := range []struct{ in, want string }{
		{"/news/", "/web/20160920123456/http://a.kp/news/"},
		{"https://secure.kp/", "/web/20160920123456/https://secure.kp/"},
		{"new.html?x=1", "/web/20160920123456/http://a.kp/new.html?x=1"},
		{"mailto:x@a.kp", "mailto:x@a.kp"},
	} {
		if got := rw.Location(tc.in); got != tc.want {
			t.Errorf("Location(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	rw.Mod = ModImage
	if got := rw.Location("/moved.png"); got != "/web/20160920123456im_/http://a.kp/moved.png" {
		t.Errorf("an image's redirect: %q", got)
	}
	rw.Mod = ModPage
	for _, tc := range []struct{ in, want string }{
		{"0; url=http://b.kp/", "0; url=/web/20160920123456/http://b.kp/"},
		{"3;URL=/x", "3;URL=/web/20160920123456/http://a.kp/x"},
		{"5", "5"},
		{"1, /y", "1, /web/20160920123456/http://a.kp/y"},
	} {
		if got := string(rw.Refresh([]byte(tc.in))); got != tc.want {
			t.Errorf("Refresh(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFrameLinksStayInFrames(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/frame.html")
	rw.Mod = ModFrame
	got := string(rw.HTML([]byte(`<a href="/x">x</a><img src="/i.png">`)))
	want := `<a href="/web/20160920123456if_/http://a.kp/x">x</a><img src="/web/20160920123456im_/http://a.kp/i.png">`
	if got != want {
		t.Errorf("frame: %q, want %q", got, want)
	}
}

// TestSrcsetParens: a srcset's descriptors end at a comma outside
// parentheses, and parentheses do not nest (the HTML standard's
// tokenizer, which browsers and the crawler follow): the candidate after
// "(b(c)d," is a URL of its own, rewritten like the first.
func TestSrcsetParens(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/")
	got := string(rw.HTML([]byte(`<img srcset="a.png 1x (b(c)d, e.png 2x">`)))
	want := `<img srcset="/web/20160920123456im_/http://a.kp/a.png 1x (b(c)d, /web/20160920123456im_/http://a.kp/e.png 2x">`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBannerWithoutBody(t *testing.T) {
	rw := testRewriter(t, "http://a.kp/")
	rw.Banner = []byte("<b>B</b>")
	if got := string(rw.HTML([]byte("<p>x"))); got != "<p>x<b>B</b>" {
		t.Errorf("no body: %q", got)
	}
	if got := string(rw.HTML([]byte("<body><body>x"))); got != "<body><b>B</b><body>x" {
		t.Errorf("two bodies: %q", got)
	}
}

// reInserted matches what rewriting adds in front of a reference on
// http://a.kp/d/p.html: the prefix, and the part of the base a relative
// reference needs.
var reInserted = regexp.MustCompile(`/web/20160920123456(?:[a-z]{2}_)?/(?:http:(?://a\.kp(?:/d/(?:p\.html)?)?)?)?`)

func FuzzHTML(f *testing.F) {
	for _, s := range []string{`<a href="/x">`, `<img srcset="a 1x, b 2x">`, `<style>url(x)</style>`, `<p style="a:url(&quot;x&quot;)">`,
		`<meta http-equiv=refresh content="0;url=/x">`, `<base href="../x">`, "<a href='\xff'>", `<a href="?q">`, `<a href="//b">`} {
		f.Add([]byte(s))
	}
	rw := testRewriter(f, "http://a.kp/d/p.html")
	f.Fuzz(func(t *testing.T, in []byte) {
		out := rw.HTML(in)
		// What rewriting adds is only a prefix before each reference:
		// without it the document is the same, byte for byte. (References
		// with dot segments, escapes or "http:x" forms are resolved, and
		// <base> moves the base: those inputs are not checked.)
		for _, skip := range []string{".", "&", "\\", "%", "http:", "https:", "base", "/web/"} {
			if bytes.Contains(bytes.ToLower(in), []byte(skip)) {
				return
			}
		}
		if back := reInserted.ReplaceAll(out, nil); !bytes.Equal(back, in) {
			t.Errorf("rewriting changed more than prefixes:\n in %q\nout %q", in, out)
		}
	})
}

func FuzzCSS(f *testing.F) {
	for _, s := range []string{`a{b:url(x)}`, `@import "x";`, `url(`, `"unterminated`, `/* x`} {
		f.Add([]byte(s))
	}
	rw := testRewriter(f, "http://a.kp/d/s.css")
	f.Fuzz(func(t *testing.T, in []byte) {
		out := rw.CSS(in)
		if len(out) < len(in) {
			t.Errorf("CSS shrank: %q -> %q", in, out)
		}
	})
}
