package serve

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/replay"
)

//go:embed templates static
var assets embed.FS

// Config configures a Server. Zero values of the optional fields mean
// their defaults (see withDefaults).
type Config struct {
	Layout archive.Layout
	Logger *slog.Logger
	// MaxRewrite bounds the decoded bytes of one HTML page or style sheet
	// that replay rewrites (default 32 MiB); a larger one is served as
	// recorded, which the replay CSP still keeps inside the archive.
	MaxRewrite int64
	// CDXLimit is the most rows one CDX query returns, and its default
	// (100,000, as pywb's).
	CDXLimit int
	// SearchIdle: the search index is closed after this long without a
	// search (default 2s), so a crawl can open it for writing.
	SearchIdle time.Duration
	// LockTimeout is how long a query waits for a crawl's hold on the
	// index (default: the index's, 5s).
	LockTimeout time.Duration
	// SearchWait is how long a search waits for a crawl's hold on the
	// search index before the page says that a crawl is writing it
	// (default 1.5s): a crawl holds it for its whole run.
	SearchWait time.Duration
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.MaxRewrite <= 0 {
		c.MaxRewrite = 32 << 20
	}
	if c.CDXLimit <= 0 {
		c.CDXLimit = 100_000
	}
	if c.SearchIdle <= 0 {
		c.SearchIdle = 2 * time.Second
	}
	if c.SearchWait <= 0 {
		c.SearchWait = 1500 * time.Millisecond
	}
	return c
}

// Server answers the routes of the package doc.
type Server struct {
	cfg      Config
	log      *slog.Logger
	index    *index.Reader
	archive  *replay.Archive
	search   *searcher
	pages    map[string]*template.Template
	static   fs.FS
	hostsMu  sync.Mutex
	hostsAt  time.Time
	hostsOut []index.HostRow
}

// replayPrefix is where replay lives.
const replayPrefix = "/web/"

// New opens the archive's index for serving. It fails with index.ErrEmpty
// when the archive has no index yet.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	opts := index.Options{Logger: cfg.Logger, LockTimeout: cfg.LockTimeout}
	r, err := index.OpenReaderOptions(cfg.Layout, opts)
	if err != nil {
		return nil, err
	}
	searchOpts := opts
	searchOpts.LockTimeout = cfg.SearchWait
	pages, err := parseTemplates()
	if err != nil {
		r.Close()
		return nil, err
	}
	static, _ := fs.Sub(assets, "static")
	return &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		index:   r,
		archive: &replay.Archive{Layout: cfg.Layout, Index: r},
		search:  &searcher{layout: cfg.Layout, opts: searchOpts, idle: cfg.SearchIdle},
		pages:   pages,
		static:  static,
	}, nil
}

// Close releases the index.
func (s *Server) Close() error {
	return errors.Join(s.search.close(), s.index.Close())
}

// ServeHTTP routes a request. Replay paths are taken from the raw request
// URI: they embed URLs ("http://a.kp/x?q=1") that path cleaning would
// break, so no http.ServeMux sees them.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Service-Worker") == "script" {
		// An archived page must not install a service worker on the
		// replay origin: it would control the whole server in that
		// browser.
		http.Error(w, "service workers are not replayed", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.URL.Path, replayPrefix) {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	uri := r.URL.RequestURI()
	switch {
	case strings.HasPrefix(uri, replayPrefix):
		s.replay(w, r, uri[len(replayPrefix):])
	case strings.HasPrefix(uri, replay.TimeGatePrefix):
		s.timeGate(w, r, uri[len(replay.TimeGatePrefix):])
	case strings.HasPrefix(uri, replay.TimeMapPrefix):
		s.timeMap(w, r, uri[len(replay.TimeMapPrefix):])
	case r.URL.Path == "/":
		s.home(w, r)
	case r.URL.Path == "/search":
		s.searchPage(w, r)
	case strings.HasPrefix(r.URL.Path, "/host/"):
		s.hostPage(w, r, strings.TrimPrefix(r.URL.Path, "/host/"))
	case r.URL.Path == "/cdx":
		s.cdx(w, r)
	case strings.HasPrefix(r.URL.Path, "/static/"):
		w.Header().Set("Cache-Control", "max-age=3600")
		http.StripPrefix("/static/", http.FileServerFS(s.static)).ServeHTTP(w, r)
	default:
		if s.escaped(w, r) {
			return
		}
		s.errorPage(w, r, http.StatusNotFound, "Not found", "There is nothing at "+r.URL.Path+".")
	}
}

// ListenAndServe serves on addr until ctx ends, then shuts down (letting
// requests in flight finish for up to five seconds). ready, if not nil, is
// called with the bound address once the server accepts connections.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if ready != nil {
		ready(ln.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// searcher holds the search index open only while searches come: a crawl
// that starts while the server runs must be able to open it for writing.
type searcher struct {
	layout   archive.Layout
	opts     index.Options
	idle     time.Duration
	mu       sync.Mutex
	r        *index.Reader
	inFlight int
	timer    *time.Timer
}

func (s *searcher) Search(ctx context.Context, req index.SearchRequest) ([]index.Hit, error) {
	s.mu.Lock()
	if s.r == nil {
		r, err := index.OpenReaderOptions(s.layout, s.opts)
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.r = r
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	r := s.r
	s.inFlight++
	s.mu.Unlock()

	hits, err := r.Search(ctx, req)

	s.mu.Lock()
	s.inFlight--
	if s.inFlight == 0 {
		s.timer = time.AfterFunc(s.idle, s.closeIdle)
	}
	s.mu.Unlock()
	return hits, err
}

func (s *searcher) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight == 0 && s.r != nil {
		s.r.Close()
		s.r = nil
	}
}

func (s *searcher) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.r == nil {
		return nil
	}
	err := s.r.Close()
	s.r = nil
	return err
}
