package world

import (
	"encoding/binary"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one HTTP request a web server of the world answered, as the
// server saw it.
type Request struct {
	Time       time.Time
	RemoteAddr string // client "IP:PORT"
	LocalAddr  string // the world's "IP:PORT" that took the connection
	Host       string // the Host header
	Method     string
	Path       string // the request target as sent: path and query
	UserAgent  string
	TLS        bool
	Status     int // the status code answered
}

// requestLog keeps the most recent requests, in order, up to a limit so a
// long-running world (a crawler caught in the trap) cannot grow without bound.
type requestLog struct {
	mu      sync.Mutex
	limit   int
	entries []Request
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= l.limit {
		// Drop the older half at once: amortised O(1) per request.
		half := len(l.entries) / 2
		l.entries = append(l.entries[:0], l.entries[half:]...)
	}
	l.entries = append(l.entries, r)
}

func (l *requestLog) snapshot() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Request(nil), l.entries...)
}

// web is the one HTTP handler behind every web address of the world. The
// Host header picks the site (name-based virtual hosting), and the site must
// be published at the address the request arrived on, as it would be on a
// real shared server.
type web struct {
	hosts map[string]*site // lower-case host name -> site
	slow  time.Duration
	log   *requestLog
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (h *web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw}
	local := ""
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		local = a.String()
	}
	defer func() {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		h.log.add(Request{
			Time: time.Now(), RemoteAddr: r.RemoteAddr, LocalAddr: local, Host: r.Host,
			Method: r.Method, Path: r.RequestURI, UserAgent: r.UserAgent(), TLS: r.TLS != nil, Status: w.status,
		})
	}()
	w.Header().Set("Server", "world/2016")

	host := strings.ToLower(r.Host)
	if hst, _, err := net.SplitHostPort(host); err == nil {
		host = hst
	}
	host = strings.TrimSuffix(host, ".")
	s := h.hosts[host]
	if s == nil || !s.servedAt(local) {
		notFound(w, "no site "+host+" at this address")
		return
	}
	switch {
	case s.HTTPS && r.TLS == nil:
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusMovedPermanently)
		return
	case !s.HTTPS && r.TLS != nil:
		notFound(w, "no site "+host+" over https")
		return
	case s.WWWRedirect && host == "www."+s.Name:
		http.Redirect(w, r, "http://"+s.Name+r.URL.RequestURI(), http.StatusMovedPermanently)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	path := r.URL.Path
	if to, ok := s.Redirects[path]; ok {
		http.Redirect(w, r, to, http.StatusMovedPermanently)
		return
	}
	if code, ok := s.Errors[path]; ok {
		if code == http.StatusNotFound {
			notFound(w, path)
		} else {
			http.Error(w, fmt.Sprintf("%d %s", code, http.StatusText(code)), code)
		}
		return
	}
	switch {
	case s.Trap != "" && path == "/calendar":
		h.calendar(w, r, s)
		return
	case s.Large != "" && path == s.Large:
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "archive.bin", time.Date(2016, 9, 20, 0, 0, 0, 0, time.UTC),
			io.NewSectionReader(largeFile{}, 0, LargeSize))
		return
	case s.Slow != "" && path == s.Slow:
		t := time.NewTimer(h.slow)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	res, ok := s.files[path]
	if !ok {
		notFound(w, path)
		return
	}
	w.Header().Set("Content-Type", res.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(res.body)))
	w.WriteHeader(http.StatusOK)
	w.Write(res.body) // the client going away is not the world's problem
}

// servedAt reports whether the site is published at the local address.
func (s *site) servedAt(local string) bool {
	ip, _, err := net.SplitHostPort(local)
	return err == nil && slices.Contains(s.Addrs, ip)
}

func notFound(w http.ResponseWriter, what string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>%s</p></body></html>\n", html.EscapeString(what))
}

// calendar is the crawler trap: every month links to the month before and
// after, for ever (years are not bounded).
func (h *web) calendar(w http.ResponseWriter, r *http.Request, s *site) {
	var year, month int
	if _, err := fmt.Sscanf(r.URL.Query().Get("month"), "%d-%d", &year, &month); err != nil || month < 1 || month > 12 {
		notFound(w, "no such month")
		return
	}
	prevY, prevM, nextY, nextM := year, month-1, year, month+1
	if prevM == 0 {
		prevY, prevM = year-1, 12
	}
	if nextM == 13 {
		nextY, nextM = year+1, 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Calendar %04d-%02d - %s</title></head><body>\n", year, month, html.EscapeString(s.Title))
	fmt.Fprintf(&b, "<h1>Calendar %04d-%02d</h1>\n<p><a href=\"/calendar?month=%04d-%02d\">previous</a> <a href=\"/calendar?month=%04d-%02d\">next</a></p>\n",
		year, month, prevY, prevM, nextY, nextM)
	b.WriteString("<table><tr>")
	for d := 1; d <= 28; d++ {
		fmt.Fprintf(&b, "<td>%d</td>", d)
		if d%7 == 0 {
			b.WriteString("</tr><tr>")
		}
	}
	b.WriteString("</tr></table>\n</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, b.String())
}

// largeFile is the large download: deterministic bytes computed from their
// offset (splitmix64 of each 8-byte word), so it needs no memory and supports
// ranges.
type largeFile struct{}

func (largeFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= LargeSize {
		return 0, io.EOF
	}
	n := len(p)
	if rest := LargeSize - off; int64(n) > rest {
		n = int(rest)
	}
	var word [8]byte
	for i := 0; i < n; {
		pos := off + int64(i)
		binary.LittleEndian.PutUint64(word[:], splitmix64(uint64(pos/8)))
		i += copy(p[i:n], word[pos%8:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
