package replay

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"crawl/internal/index"
)

// Memento (RFC 7089) paths, under the server's root: a TimeGate per URL
// (/timegate/URL, and /web/URL does the same) and a link-format TimeMap
// (/timemap/link/URL).
const (
	TimeGatePrefix = "/timegate/"
	TimeMapPrefix  = "/timemap/link/"
)

// Memento locates the replay URLs of one original URL for Memento headers.
type Memento struct {
	// Root is the server's absolute URL without a trailing slash
	// ("http://127.0.0.1:8080"): Memento links are absolute.
	Root string
	// Prefix is the replay prefix ("/web/").
	Prefix string
	// Original is the URL the captures are of.
	Original string
}

// HTTPDate formats a Memento-Datetime (RFC 1123, GMT).
func HTTPDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func (m Memento) memento(c index.CaptureRow) string {
	return m.Root + Path(m.Prefix, Timestamp(c.Time), "", c.URL)
}

func (m Memento) timeGate() string { return m.Root + TimeGatePrefix + m.Original }
func (m Memento) timeMap() string  { return m.Root + TimeMapPrefix + m.Original }

// Link is the Link header of a memento (caps[i], with its first, last,
// previous and next neighbours) or, with i < 0, of a TimeGate's answer
// (original, timemap, first and last).
func (m Memento) Link(caps []index.CaptureRow, i int) string {
	parts := []string{fmt.Sprintf(`<%s>; rel="original"`, m.Original)}
	if i >= 0 { // a TimeGate does not name itself
		parts = append(parts, fmt.Sprintf(`<%s>; rel="timegate"`, m.timeGate()))
	}
	parts = append(parts, fmt.Sprintf(`<%s>; rel="timemap"; type="application/link-format"`, m.timeMap()))
	rel := func(j int) []string {
		var r []string
		if j == 0 {
			r = append(r, "first")
		}
		if j == len(caps)-1 {
			r = append(r, "last")
		}
		if i >= 0 && j == i-1 {
			r = append(r, "prev")
		}
		if i >= 0 && j == i+1 {
			r = append(r, "next")
		}
		return r
	}
	for j, c := range caps {
		r := rel(j)
		if j != i && len(r) == 0 {
			continue
		}
		r = append(r, "memento")
		parts = append(parts, fmt.Sprintf(`<%s>; rel="%s"; datetime="%s"`, m.memento(c), strings.Join(r, " "), HTTPDate(c.Time)))
	}
	return strings.Join(parts, ", ")
}

// WriteTimeMap writes the link-format TimeMap (RFC 7089 §5) of the
// captures (oldest first) to w.
func (m Memento) WriteTimeMap(w io.Writer, caps []index.CaptureRow) error {
	bw := bufio.NewWriter(w)
	self := fmt.Sprintf(`<%s>; rel="self"; type="application/link-format"`, m.timeMap())
	if len(caps) > 0 {
		self += fmt.Sprintf(`; from="%s"; until="%s"`, HTTPDate(caps[0].Time), HTTPDate(caps[len(caps)-1].Time))
	}
	lines := []string{self, fmt.Sprintf(`<%s>; rel="original"`, m.Original), fmt.Sprintf(`<%s>; rel="timegate"`, m.timeGate())}
	for j, c := range caps {
		rel := "memento"
		switch {
		case len(caps) == 1:
			rel = "first last memento"
		case j == 0:
			rel = "first memento"
		case j == len(caps)-1:
			rel = "last memento"
		}
		lines = append(lines, fmt.Sprintf(`<%s>; rel="%s"; datetime="%s"`, m.memento(c), rel, HTTPDate(c.Time)))
	}
	for j, l := range lines {
		bw.WriteString(l)
		if j < len(lines)-1 {
			bw.WriteString(",\n")
		} else {
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

// ParseAcceptDatetime parses an Accept-Datetime header (RFC 1123 date, as
// HTTP dates are).
func ParseAcceptDatetime(v string) (time.Time, error) {
	t, err := http.ParseTime(strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("Accept-Datetime %q is not an HTTP date (RFC 1123)", v)
	}
	return t.UTC(), nil
}
