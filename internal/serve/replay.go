package serve

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"crawl/internal/index"
	"crawl/internal/page"
	"crawl/internal/replay"
)

// replay serves /web/...: rest is what follows the prefix in the request URI.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, rest string) {
	t, err := replay.ParsePath(rest)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Not a replay URL",
			"A replay URL is /web/TIMESTAMP/URL, e.g. /web/20160920/http://example.kp/ ("+err.Error()+").")
		return
	}
	switch {
	case t.List:
		s.captureList(w, r, t)
		return
	case t.Timestamp == "":
		s.redirectNearest(w, r, t.URL, t.Mod, true)
		return
	}
	ctx := r.Context()
	at, _ := replay.Time(t.Timestamp)
	caps, err := s.archive.Captures(ctx, t.URL)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(caps) == 0 {
		s.notArchived(w, r, t.URL)
		return
	}
	// The nearest capture that can be read; pywb falls back the same way
	// when one is damaged or a revisit's original is missing.
	var (
		resp *replay.Response
		i    int
		errs []error
	)
	for _, i = range replay.ByDistance(caps, at) {
		if resp, err = s.archive.Open(ctx, caps[i]); err == nil {
			break
		}
		errs = append(errs, err)
		s.log.Warn("replay: capture unreadable", "url", caps[i].URL, "warc", caps[i].WARC, "offset", caps[i].Offset, "err", err)
	}
	if resp == nil {
		s.serverError(w, r, fmt.Errorf("no capture of %s could be read: %w", t.URL, errors.Join(errs...)))
		return
	}
	defer resp.Body.Close()
	c := caps[i]
	ts := replay.Timestamp(c.Time)
	isPage := t.Mod == replay.ModPage || t.Mod == replay.ModMain || t.Mod == replay.ModOrigin
	if canon, _ := page.Normalize(c.URL, nil); isPage && (ts != t.Timestamp || canon != t.URL) {
		// A page's URL names its capture exactly, as pywb redirects to
		// it; resources are served from the nearest without a detour.
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="original"`, c.URL))
		redirect(w, r, replay.Path(replayPrefix, ts, t.Mod, c.URL), http.StatusFound)
		return
	}
	base, err := url.Parse(c.URL)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	same := sameURL(caps, c.URL)
	rw := &replay.Rewriter{Prefix: replayPrefix, Timestamp: ts, Base: base, Mod: t.Mod, Banner: banner(same, c)}
	out, err := replay.Render(resp, rw, t.Mod, s.cfg.MaxRewrite)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	for k, v := range out.Header {
		h[k] = v
	}
	m := replay.Memento{Root: root(r), Prefix: replayPrefix, Original: c.URL}
	h.Set("Memento-Datetime", replay.HTTPDate(c.Time))
	h.Set("Link", m.Link(same, indexOf(same, c)))
	h.Set("X-DNS-Prefetch-Control", "off")
	if c.Truncated != "" {
		h.Set("X-Archive-Truncated", c.Truncated)
	}
	status := out.Status
	if status < 200 || status > 999 {
		// An interim or impossible status cannot be replayed as such.
		status = http.StatusBadGateway
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, out.Body); err != nil {
		s.log.Debug("replay: response cut", "url", c.URL, "err", err)
	}
}

// sameURL keeps the captures of one URL (Captures may give the captures
// of several URLs that are the same page by SURT).
func sameURL(caps []index.CaptureRow, u string) []index.CaptureRow {
	var out []index.CaptureRow
	for _, c := range caps {
		if c.URL == u {
			out = append(out, c)
		}
	}
	return out
}

// indexOf finds a capture among caps by its record's place (a WARC file
// and an offset hold one record).
func indexOf(caps []index.CaptureRow, c index.CaptureRow) int {
	for i, o := range caps {
		if o.WARC == c.WARC && o.Offset == c.Offset {
			return i
		}
	}
	return -1
}

// root is the server's own absolute URL, as the client reached it.
func root(r *http.Request) string { return "http://" + r.Host }

// redirectNearest is the TimeGate: a 302 to the capture nearest the
// request's Accept-Datetime, or to the latest without one.
func (s *Server) redirectNearest(w http.ResponseWriter, r *http.Request, u, mod string, negotiate bool) {
	caps, err := s.archive.Captures(r.Context(), u)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(caps) == 0 {
		s.notArchived(w, r, u)
		return
	}
	i := len(caps) - 1
	if v := r.Header.Get("Accept-Datetime"); v != "" && negotiate {
		at, err := replay.ParseAcceptDatetime(v)
		if err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "Bad Accept-Datetime", err.Error())
			return
		}
		i = replay.Nearest(caps, at)
	}
	c := caps[i]
	same := sameURL(caps, c.URL)
	m := replay.Memento{Root: root(r), Prefix: replayPrefix, Original: c.URL}
	w.Header().Set("Vary", "accept-datetime")
	w.Header().Set("Link", m.Link(same, -1))
	redirect(w, r, replay.Path(replayPrefix, replay.Timestamp(c.Time), mod, c.URL), http.StatusFound)
}

func (s *Server) timeGate(w http.ResponseWriter, r *http.Request, rest string) {
	t, err := replay.ParsePath(rest)
	if err != nil || t.Timestamp != "" || t.List {
		s.errorPage(w, r, http.StatusBadRequest, "Not a TimeGate URL", "A TimeGate URL is /timegate/URL.")
		return
	}
	s.redirectNearest(w, r, t.URL, "", true)
}

func (s *Server) timeMap(w http.ResponseWriter, r *http.Request, rest string) {
	t, err := replay.ParsePath(rest)
	if err != nil || t.Timestamp != "" || t.List {
		s.errorPage(w, r, http.StatusBadRequest, "Not a TimeMap URL", "A TimeMap URL is /timemap/link/URL.")
		return
	}
	caps, err := s.archive.Captures(r.Context(), t.URL)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(caps) == 0 {
		s.notArchived(w, r, t.URL)
		return
	}
	same := sameURL(caps, caps[len(caps)-1].URL)
	m := replay.Memento{Root: root(r), Prefix: replayPrefix, Original: same[0].URL}
	w.Header().Set("Content-Type", "application/link-format")
	if r.Method == http.MethodHead {
		return
	}
	if err := m.WriteTimeMap(w, same); err != nil {
		s.log.Debug("timemap: response cut", "err", err)
	}
}

// escaped catches a request a replayed page made outside the replay
// prefix (a root-relative URL built by a script, say): when its Referer is
// a replayed page, it is sent to the same path on the page's site, at the
// page's time, as pywb does. It reports whether it answered.
func (s *Server) escaped(w http.ResponseWriter, r *http.Request) bool {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host || !strings.HasPrefix(ref.Path, replayPrefix) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	t, err := replay.ParsePath(strings.TrimPrefix(ref.RequestURI(), replayPrefix))
	if err != nil || t.Timestamp == "" {
		return false
	}
	page, err := url.Parse(t.URL)
	if err != nil {
		return false
	}
	target := page.Scheme + "://" + page.Host + r.URL.RequestURI()
	redirect(w, r, replay.Path(replayPrefix, t.Timestamp, "", target), http.StatusTemporaryRedirect)
	return true
}

// banner is the bar a replayed page shows: when it was captured, the
// neighbouring captures, all of them, the host's page, the raw bytes. It is
// ASCII only (entities for the rest), so it reads right in any charset,
// and styled inline so that the page's CSS cannot reach it.
func banner(caps []index.CaptureRow, c index.CaptureRow) []byte {
	esc := html.EscapeString
	link := func(href, text string) string {
		return `<a href="` + esc(href) + `" target="_top" style="all:unset;color:#9cf;cursor:pointer;text-decoration:underline">` + text + `</a>`
	}
	i := indexOf(caps, c)
	var b strings.Builder
	b.WriteString(`<div id="crawl-replay-banner" style="all:initial;position:fixed;z-index:2147483647;right:8px;bottom:8px;display:block;` +
		`max-width:calc(100% - 16px);box-sizing:border-box;padding:3px 10px;border-radius:4px;background:#1c2026;color:#eee;opacity:.92;` +
		`font:12px/1.6 system-ui,sans-serif;white-space:nowrap;overflow:hidden;text-overflow:ellipsis">`)
	b.WriteString(link("/", "<b>crawl</b>"))
	b.WriteString(" &#183; captured " + showTime(c.Time) + " UTC")
	if c.Truncated != "" {
		b.WriteString(" (truncated: " + esc(c.Truncated) + ")")
	}
	if len(caps) > 1 && i >= 0 {
		b.WriteString(" &#183; ")
		if i > 0 {
			b.WriteString(link(replay.Path(replayPrefix, replay.Timestamp(caps[i-1].Time), "", c.URL), "&#9664;") + " ")
		}
		b.WriteString(strconv.Itoa(i+1) + " of " + strconv.Itoa(len(caps)))
		if i < len(caps)-1 {
			b.WriteString(" " + link(replay.Path(replayPrefix, replay.Timestamp(caps[i+1].Time), "", c.URL), "&#9654;"))
		}
	}
	b.WriteString(" &#183; " + link(replayPrefix+"*/"+c.URL, "all captures"))
	if u, err := url.Parse(c.URL); err == nil {
		b.WriteString(" &#183; " + link("/host/"+index.NormalizeHost(u.Hostname()), "host"))
	}
	b.WriteString(" &#183; " + link(replay.Path(replayPrefix, replay.Timestamp(c.Time), replay.ModOrigin, c.URL), "raw"))
	b.WriteString("</div>")
	return []byte(b.String())
}

// captureList is /web/*/URL: the captures of a URL, or with URL* the URLs
// under a prefix, like pywb's query page.
func (s *Server) captureList(w http.ResponseWriter, r *http.Request, t replay.Target) {
	ctx := r.Context()
	prefix := strings.HasSuffix(t.Raw, "*")
	q := replay.CDXQuery{URL: strings.TrimSuffix(t.Raw, "*"), MatchType: "exact", Limit: s.cfg.CDXLimit, From: t.Timestamp, To: t.Timestamp}
	if prefix {
		q.MatchType = "prefix"
	}
	rows, err := s.archive.CDX(ctx, q)
	if err != nil {
		if errors.Is(err, replay.ErrBadQuery) {
			s.errorPage(w, r, http.StatusBadRequest, "Bad query", err.Error())
			return
		}
		s.serverError(w, r, err)
		return
	}
	type urlRow struct {
		URL, First, Last string
		Count            int
	}
	data := struct {
		URL, Timestamp string
		Prefix         bool
		Captures       []replay.CDXRow
		URLs           []urlRow
		Limit          int
	}{URL: q.URL, Timestamp: t.Timestamp, Prefix: prefix, Limit: s.cfg.CDXLimit}
	if prefix {
		seen := map[string]int{}
		for _, row := range rows {
			u := row.Get("url")
			j, ok := seen[u]
			if !ok {
				j = len(data.URLs)
				seen[u] = j
				data.URLs = append(data.URLs, urlRow{URL: u, First: row.Timestamp})
			}
			data.URLs[j].Count++
			data.URLs[j].Last = row.Timestamp
		}
	} else {
		data.Captures = rows
	}
	status := http.StatusOK
	if len(rows) == 0 {
		status = http.StatusNotFound
	}
	s.render(w, r, status, "captures", "Captures of "+q.URL, data)
}

// notArchived answers a URL the archive has no capture of.
func (s *Server) notArchived(w http.ResponseWriter, r *http.Request, u string) {
	s.render(w, r, http.StatusNotFound, "notarchived", "Not in the archive", struct{ URL, Host string }{u, hostOf(u)})
}

// redirect answers with a redirect to loc as given: http.Redirect would
// clean the path, and "http://" inside a replay path must stay whole.
func redirect(w http.ResponseWriter, r *http.Request, loc string, status int) {
	w.Header().Set("Location", loc)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, "<a href=\"%s\">%s</a>\n", html.EscapeString(loc), http.StatusText(status))
	}
}
