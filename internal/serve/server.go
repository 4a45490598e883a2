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
	// LockTimeout is how long a query waits for a crawl's hold on the
	// index or the search index (default: the index's, 5s). A crawl lets
	// go of both between its batches, at least once a second.
	LockTimeout time.Duration
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
	return c
}

// Server answers the routes of the package doc.
type Server struct {
	cfg      Config
	log      *slog.Logger
	index    *index.Reader
	archive  *replay.Archive
	search   *index.Searcher
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
		search:  index.OpenSearcher(cfg.Layout, opts),
		pages:   pages,
		static:  static,
	}, nil
}

// Close releases the index.
func (s *Server) Close() error {
	return errors.Join(s.search.Close(), s.index.Close())
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
