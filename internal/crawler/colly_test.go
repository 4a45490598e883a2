package crawler

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gocolly/colly/v2"
)

// TestCollyBackendInflatesGzipUnbounded records why the crawler fetches
// through net/http and not colly v2.3.0's backend (see the package doc):
// with MaxBodySize at 1 MiB, colly still hands the callback the whole
// inflated gzip bomb, because the limit applies to the compressed bytes.
// If a colly upgrade caps it, the test skips with a note to revisit the
// choice.
func TestCollyBackendInflatesGzipUnbounded(t *testing.T) {
	bomb := gzipBomb(t) // 64 KiB on the wire, 64 MiB inflated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	}))
	defer srv.Close()
	c := colly.NewCollector(colly.MaxBodySize(1 << 20))
	c.Headers = &http.Header{"Accept-Encoding": {"gzip"}} // set by hand, as a recording transport requires
	var got int
	c.OnResponse(func(r *colly.Response) { got = len(r.Body) })
	if err := c.Visit(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	if got <= 1<<20 {
		t.Skipf("colly now bounds the inflated body (%d bytes): reconsider using its backend", got)
	}
	t.Logf("colly handed over %d inflated bytes with MaxBodySize 1 MiB", got)
}
