package index

import (
	"context"
	"errors"
	"time"

	"github.com/blevesearch/bleve/v2"

	"crawl/internal/archive"
)

// Searcher serves searches for a long-running reader of an archive (crawl
// serve), and keeps the index up to date with the WARC files in the
// background: index.db when no crawl is writing it (after a kill -9), and
// the search index always, taking turns on it with a crawl's own writer.
// So a search finds what a crawl wrote moments ago, and what a crawl left
// for later. An archive it cannot write (read-only media) is searched as
// it is.
type Searcher struct {
	layout archive.Layout
	opts   Options
	ix     *Index // a search follower (openSearchFollower)
	stop   context.CancelFunc
	done   chan struct{}
}

// searcherEvery is how often a Searcher looks for new records.
const searcherEvery = 2 * time.Second

// OpenSearcher starts a Searcher; Close stops it.
func OpenSearcher(layout archive.Layout, opts Options) *Searcher {
	opts = opts.withDefaults()
	ctx, stop := context.WithCancel(context.Background())
	s := &Searcher{layout: layout, opts: opts, ix: openSearchFollower(layout, opts), stop: stop, done: make(chan struct{})}
	go s.follow(ctx)
	return s
}

func (s *Searcher) follow(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(searcherEvery)
	defer t.Stop()
	for {
		if behind, err := Behind(s.layout); err == nil && behind {
			if err := catchUpDB(ctx, s.layout, s.opts); err != nil && !errors.Is(err, ErrLocked) && ctx.Err() == nil {
				s.opts.Logger.Debug("index: not brought up to date", "err", err)
			}
		}
		if err := s.ix.search.sync(ctx, nil); err != nil && ctx.Err() == nil {
			s.opts.Logger.Debug("search index: not brought up to date", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Search runs a full-text query on the index as it is now.
func (s *Searcher) Search(ctx context.Context, req SearchRequest) (SearchResult, error) {
	var res SearchResult
	err := s.ix.search.withIndex(func(idx bleve.Index) error {
		var err error
		if res, err = search(ctx, idx, req); err == nil {
			res.Behind = behind(s.ix.store, storedCheckpoint(idx))
		}
		return err
	})
	if !errors.Is(err, errTakeIndex) || ctx.Err() != nil {
		return res, err
	}
	// The search index cannot be taken for writing (a read-only
	// archive): search it read-only.
	return searchReadOnly(ctx, s.ix.store, s.layout.SearchDir(), s.opts.LockTimeout, req)
}

// Close stops the background work and lets go of the search index.
func (s *Searcher) Close() error {
	s.stop()
	<-s.done
	return s.ix.Close()
}
