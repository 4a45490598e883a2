package serve

import (
	"bufio"
	"errors"
	"net/http"

	"crawl/internal/index"
	"crawl/internal/replay"
)

// cdx answers pywb's CDX server API (see replay.CDXQuery): CDXJ lines by
// default, JSON lines with output=json, link format with output=link.
func (s *Server) cdx(w http.ResponseWriter, r *http.Request) {
	q, err := replay.ParseCDXQuery(r.URL.Query(), s.cfg.CDXLimit)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rows, err := s.archive.CDX(r.Context(), q)
	switch {
	case errors.Is(err, replay.ErrBadQuery):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case errors.Is(err, index.ErrLocked):
		w.Header().Set("Retry-After", "5")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil:
		if r.Context().Err() == nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", replay.CDXContentType(q.Output)+"; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := replay.WriteCDX(bw, q, rows, replay.Memento{Root: root(r), Prefix: replayPrefix}); err == nil {
		bw.Flush()
	}
}
