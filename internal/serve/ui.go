package serve

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"crawl/internal/bytesize"
	"crawl/internal/index"
	"crawl/internal/replay"
)

// uiCSP is the policy of the UI's own pages: nothing but the server, and
// no scripts at all.
const uiCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"

// pageSizes are the page sizes the UI offers; the first is the default.
var pageSizes = []int{50, 20, 100, 500}

// searchSizes are the search result page sizes; the first is the default.
var searchSizes = []int{20, 10, 50, 100}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"bytes":   bytesize.Format,
		"time":    showTime,
		"ts":      replay.Timestamp,
		"tsTime":  tsTime,
		"replay":  func(ts, u string) string { return replay.Path(replayPrefix, ts, "", u) },
		"latest":  func(u string) string { return replayPrefix + u },
		"snippet": snippet,
		"query":   query,
		"host":    hostOf,
		"add":     func(a, b int) int { return a + b },
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"home", "host", "search", "captures", "notarchived", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("serve: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a UI page with its status: the layout around the named
// page's content. The headers are set before the status is written: after
// it, a change to them is not sent.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	var b bytes.Buffer
	err := s.pages[name].Execute(&b, struct {
		Title  string
		Query  string
		Params url.Values // of the request, for links that change one
		Data   any
	}{title, r.URL.Query().Get("q"), r.URL.Query(), data})
	if err != nil {
		s.log.Error("serve: template", "page", name, "err", err)
		http.Error(w, "template error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// errorPage answers with a status and a short explanation.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, "error", title, struct {
		Status  int
		Message string
	}{status, msg})
}

// serverError turns an error from the index into the page that explains it.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, index.ErrLocked):
		w.Header().Set("Retry-After", "5")
		s.errorPage(w, r, http.StatusServiceUnavailable, "The index is busy",
			"A crawl is writing this archive's index right now and did not let go in time. Try again in a few seconds.")
	case errors.Is(err, index.ErrUnknownHost):
		s.errorPage(w, r, http.StatusNotFound, "Unknown host", err.Error())
	case errors.Is(err, r.Context().Err()) && r.Context().Err() != nil:
		// The client went away.
	default:
		s.log.Error("serve", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", err.Error())
	}
}

// paging reads page (1-based) and n (page size, one of sizes) from a query.
type paging struct {
	Page, N, Total int
	Sizes          []int
}

func pagingOf(r *http.Request, sizes []int) paging {
	p := paging{Page: 1, N: sizes[0], Sizes: slices.Sorted(slices.Values(sizes))}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		p.Page = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && slices.Contains(sizes, v) {
		p.N = v
	}
	return p
}

// window is the part of a list of total items the page shows.
func (p *paging) window(total int) (from, to int) {
	p.Total = total
	from = min((p.Page-1)*p.N, total)
	return from, min(from+p.N, total)
}

func (p paging) Prev() int { return p.Page - 1 }
func (p paging) Next() int {
	if p.Page*p.N < p.Total {
		return p.Page + 1
	}
	return 0
}
func (p paging) Pages() int { return max(1, (p.Total+p.N-1)/p.N) }

// hosts lists the archive's hosts, cached for a second: the home page is
// the most visited, and a listing of 100,000 hosts is not free.
func (s *Server) hosts(r *http.Request) ([]index.HostRow, error) {
	s.hostsMu.Lock()
	defer s.hostsMu.Unlock()
	if s.hostsOut != nil && time.Since(s.hostsAt) < time.Second {
		return s.hostsOut, nil
	}
	rows, err := s.index.Hosts(r.Context())
	if err != nil {
		return nil, err
	}
	s.hostsOut, s.hostsAt = rows, time.Now()
	return rows, nil
}

// home lists the sites and hosts, with filters and paging.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	all, err := s.hosts(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	q := r.URL.Query()
	filter := strings.ToLower(strings.TrimSpace(q.Get("host")))
	status := q.Get("status")
	web := q.Get("all") == ""
	type total struct {
		Hosts, Sites, Web  int
		Captures, Bytes    int64
		ByStatus           map[string]int
		Failed, WithErrors int
	}
	tot := total{ByStatus: map[string]int{}}
	sites := map[string]bool{}
	var rows []index.HostRow
	for _, h := range all {
		tot.Hosts++
		tot.Captures += h.Captures
		tot.Bytes += h.Bytes
		tot.ByStatus[h.Status]++
		if h.Role == "web" {
			tot.Web++
		}
		if h.Error != "" {
			tot.WithErrors++
		}
		sites[cmpSite(h)] = true
		if web && h.Role != "web" && h.Captures == 0 {
			continue
		}
		if filter != "" && !strings.Contains(h.Host, filter) && !strings.Contains(h.Site, filter) {
			continue
		}
		if status != "" && h.Status != status {
			continue
		}
		rows = append(rows, h)
	}
	tot.Sites = len(sites)
	slices.SortStableFunc(rows, func(a, b index.HostRow) int {
		if c := strings.Compare(cmpSite(a), cmpSite(b)); c != 0 {
			return c
		}
		return strings.Compare(a.Host, b.Host)
	})
	p := pagingOf(r, pageSizes)
	from, to := p.window(len(rows))
	s.render(w, r, http.StatusOK, "home", "Archive", struct {
		Total    total
		Rows     []index.HostRow
		Paging   paging
		Host     string
		Status   string
		All      bool
		Statuses []string
	}{tot, rows[from:to], p, filter, status, !web, []string{"done", "partial", "failed", "pending"}})
}

func cmpSite(h index.HostRow) string {
	if h.Site != "" {
		return h.Site
	}
	return h.Host
}

// hostPage shows one host: its captures, headlines or links.
func (s *Server) hostPage(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	name = index.NormalizeHost(name)
	all, err := s.hosts(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var host *index.HostRow
	for i := range all {
		if all[i].Host == name {
			host = &all[i]
		}
	}
	if host == nil {
		s.errorPage(w, r, http.StatusNotFound, "Unknown host", name+" was neither discovered nor crawled in this archive.")
		return
	}
	tab := r.URL.Query().Get("tab")
	p := pagingOf(r, pageSizes)
	data := struct {
		Host      index.HostRow
		Tab       string
		Paging    paging
		Captures  []index.CaptureRow
		Headlines []pageHeadlines
		Links     []index.LinkRow
		Internal  bool
	}{Host: *host, Tab: tab, Paging: p}
	switch tab {
	case "headlines":
		rows, err := s.index.Headlines(ctx, name)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		pages := groupHeadlines(rows)
		from, to := data.Paging.window(len(pages))
		data.Headlines = pages[from:to]
	case "links":
		data.Internal = r.URL.Query().Get("internal") != ""
		rows, err := s.index.Links(ctx, name, data.Internal)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		from, to := data.Paging.window(len(rows))
		data.Links = rows[from:to]
	default:
		data.Tab = "captures"
		rows, err := s.index.Captures(ctx, name)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		from, to := data.Paging.window(len(rows))
		data.Captures = rows[from:to]
	}
	s.render(w, r, http.StatusOK, "host", name, data)
}

// pageHeadlines is one page's title and headlines.
type pageHeadlines struct {
	URL       string
	Title     string
	Headlines []index.HeadlineRow
}

func groupHeadlines(rows []index.HeadlineRow) []pageHeadlines {
	var out []pageHeadlines
	for _, h := range rows {
		if len(out) == 0 || out[len(out)-1].URL != h.URL {
			out = append(out, pageHeadlines{URL: h.URL})
		}
		p := &out[len(out)-1]
		if h.Tag == "title" && p.Title == "" {
			p.Title = h.Text
		} else {
			p.Headlines = append(p.Headlines, h)
		}
	}
	return out
}

// searchPage runs a full-text query and shows a page of its hits.
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	host := strings.TrimSpace(r.URL.Query().Get("host"))
	p := pagingOf(r, searchSizes)
	data := struct {
		Q, Host string
		Hits    []index.Hit
		Paging  paging
		From    int
		More    bool
		Error   string
		Help    string
		Behind  string // the search index trails the archive by this much
	}{Q: q, Host: host, Paging: p, Help: index.SearchHelp}
	if q == "" {
		s.render(w, r, http.StatusOK, "search", "Search", data)
		return
	}
	from := (p.Page - 1) * p.N
	if from+p.N > index.MaxSearchLimit {
		s.errorPage(w, r, http.StatusBadRequest, "Too far", fmt.Sprintf("Search shows the best %d hits; narrow the query.", index.MaxSearchLimit))
		return
	}
	res, err := s.search.Search(r.Context(), index.SearchRequest{Query: q, Host: host, Limit: p.N, Offset: from})
	switch {
	case errors.Is(err, index.ErrLocked):
		w.Header().Set("Retry-After", "2")
		data.Error = "The search index was busy for too long (a crawl writes it between searches); try again in a moment. " +
			"Browsing the hosts and replaying pages work meanwhile."
		s.render(w, r, http.StatusServiceUnavailable, "search", "Search", data)
		return
	case errors.Is(err, index.ErrEmpty):
		data.Error = "This archive has no search index yet (run crawl reindex)."
		s.render(w, r, http.StatusServiceUnavailable, "search", "Search", data)
		return
	case err != nil:
		if r.Context().Err() != nil {
			return
		}
		data.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "search", "Search", data)
		return
	}
	data.More = res.Total > from+len(res.Hits)
	data.Hits, data.From = res.Hits, from
	if res.Behind > 0 {
		data.Behind = bytesize.Format(res.Behind)
	}
	s.render(w, r, http.StatusOK, "search", q+" - Search", data)
}

// snippet makes a search snippet safe to show: the index marks hits with
// <mark>; every other character is escaped, whatever the snippet holds.
func snippet(s string) template.HTML {
	var b strings.Builder
	for s != "" {
		i := strings.Index(s, "<mark>")
		if i < 0 {
			b.WriteString(html.EscapeString(html.UnescapeString(s)))
			break
		}
		b.WriteString(html.EscapeString(html.UnescapeString(s[:i])))
		s = s[i+len("<mark>"):]
		j := strings.Index(s, "</mark>")
		if j < 0 {
			j = len(s)
		}
		b.WriteString("<mark>" + html.EscapeString(html.UnescapeString(s[:j])) + "</mark>")
		s = strings.TrimPrefix(s[j:], "</mark>")
	}
	return template.HTML(b.String())
}

// query builds a link to the current page with some parameters changed
// (an empty value removes one).
func query(params url.Values, kv ...any) string {
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := fmt.Sprint(kv[i])
		val := fmt.Sprint(kv[i+1])
		if val == "" || val == "0" && k == "page" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
	}
	if len(v) == 0 {
		return "?"
	}
	return "?" + v.Encode()
}

func hostOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return index.NormalizeHost(pu.Hostname())
}

func tsTime(ts string) string {
	t, err := replay.Time(ts)
	if err != nil {
		return ts
	}
	return showTime(t)
}

// showTime is how the UI and the replay banner write a moment: UTC, to
// the second.
func showTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
