package index

import (
	"context"
	"testing"
)

// TestInterimHeadsSkipped: a response recorded after an interim 103 head
// (as the wire records it) is read as its final response: its page, and a
// revisit of it, have the final response's title.
func TestInterimHeadsSkipped(t *testing.T) {
	layout, ix := emptyArchive(t)
	page := htmlPage("after hints", "body")
	writeExchanges(t, layout, ix, t0, [][2]string{
		{"http://h.test/a", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" + page},
		{"http://h.test/b", page}, // the same payload: a revisit of /a
	}, nil)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	hl, err := ix.Headlines(context.Background(), "h.test")
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	for _, h := range hl {
		if h.Tag == "title" {
			titles[h.URL] = h.Text
		}
	}
	for _, u := range []string{"http://h.test/a", "http://h.test/b"} {
		if titles[u] != "after hints" {
			t.Errorf("%s: title %q, want the final response's; headlines %+v", u, titles[u], hl)
		}
	}
}
