package page

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

// benchPage builds a realistic page of about size bytes: head with
// stylesheets and scripts, a navigation menu, articles of mixed Korean and
// English text with links, images with srcset, inline styles, a footer.
func benchPage(size int) []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>서울특별시 뉴스 | Seoul News</title>
<link rel="stylesheet" href="/css/main.css"><link rel="icon" href="/favicon.ico"><script src="/js/app.js"></script>
<style>.hero{background:url(/img/hero.jpg)}</style></head><body><header><h1>서울 소식</h1><nav><ul>`)
	for i := range 20 {
		fmt.Fprintf(&b, `<li><a href="/section/%d/">메뉴 %d</a></li>`, i, i)
	}
	b.WriteString(`</ul></nav></header><main>`)
	for i := 0; b.Len() < size-400; i++ {
		fmt.Fprintf(&b, `<article><h2>기사 제목 %d: 서울특별시에서 열린 행사</h2>
<p>서울특별시에서 열린 <b>문화 행사</b>에 많은 시민이 참여했습니다. The festival drew visitors from abroad as well.
자세한 내용은 <a href="/news/2026/%d.html?ref=home&amp;p=%d#top">기사 전문</a>을 보세요.</p>
<img src="/img/%d.jpg" srcset="/img/%d-1x.jpg 1x, /img/%d-2x.jpg 2x" alt="사진 %d">
<div style="background:url('/img/bg%d.png')">관련 기사와 사진</div></article>
`, i, i, i, i, i, i, i, i)
	}
	b.WriteString(`</main><footer><p>© 서울특별시 <a href="mailto:a@b.kr">메일</a></p></footer></body></html>`)
	return []byte(b.String())
}

func BenchmarkParse50KB(b *testing.B) {
	body := benchPage(50 << 10)
	base := mustURL(b, "http://www.seoul.example.kr/index.html")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body, "text/html; charset=utf-8", base); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse50KBEUCKR(b *testing.B) {
	body, err := korean.EUCKR.NewEncoder().Bytes(bytes.Replace(bytes.ReplaceAll(benchPage(50<<10), []byte("©"), []byte("(c)")), []byte(`charset="utf-8"`), []byte(`charset="euc-kr"`), 1))
	if err != nil {
		b.Fatal(err)
	}
	base := mustURL(b, "http://www.seoul.example.kr/index.html")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body, "text/html", base); err != nil {
			b.Fatal(err)
		}
	}
}

// Hostile: 10 MB of unclosed nested tags stays linear.
func BenchmarkParseDeepNesting10MB(b *testing.B) {
	body := bytes.Repeat([]byte("<div><span><b>x"), 10<<20/15)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body, "text/html", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	base := mustURL(b, "http://www.example.com/a/b/c.html")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize("../d/%7euser/page.html?q=%e2%82%ac&x=1#frag", base); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDocs parses every .html file of a folder of real pages:
// CRAWL_BENCH_HTML, or the PostgreSQL 15 docs of Debian's
// postgresql-doc-15 (the site scripts/bench crawls) when installed.
func BenchmarkParseDocs(b *testing.B) {
	dir := os.Getenv("CRAWL_BENCH_HTML")
	if dir == "" {
		dir = "/usr/share/doc/postgresql-doc-15/html"
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.html"))
	if len(files) == 0 {
		b.Skipf("no .html files in %s (set CRAWL_BENCH_HTML, or apt-get install postgresql-doc-15)", dir)
	}
	var docs [][]byte
	var bases []*url.URL
	var n int64
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, d)
		bases = append(bases, mustURL(b, "http://docs.example/"+filepath.Base(f)))
		n += int64(len(d))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for i, d := range docs {
			if _, err := Parse(d, "text/html", bases[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
