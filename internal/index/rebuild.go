package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blevesearch/bleve/v2"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// RebuildStats says what Rebuild read.
type RebuildStats struct {
	Files   int64 // WARC files read
	Records int64 // records that added something to the index
	Pages   int64 // pages put into the search index
	Skipped int64 // records that could not be decoded (logged)
	// BadFiles lists files that stopped being readable part-way; every
	// record before the bad spot was indexed.
	BadFiles []string
}

// Rebuild recreates index.db and the search index from the archive's WARC
// files alone, through the same Observe path as a live crawl. It builds
// beside the live index and swaps it in at the end, so a failed or
// cancelled rebuild leaves the old index as it was. It holds the search
// index's lock while it works, so no crawl can write meanwhile (and it
// fails with ErrLocked while one does).
//
// A WARC file that is corrupt part-way is indexed up to the bad record; the
// error naming file and offset is returned (joined) after the swap.
func Rebuild(ctx context.Context, layout archive.Layout, opts Options) (RebuildStats, error) {
	opts = opts.withDefaults()
	opts.NoSync = true // the result is fsynced once at the end
	var stats RebuildStats
	files, err := warc.Files(layout.WARCDir())
	if err != nil {
		return stats, err
	}
	if len(files) == 0 {
		return stats, ErrEmpty
	}

	// Keep writers out for the whole rebuild.
	var live bleve.Index
	if _, err := os.Stat(layout.SearchDir()); err == nil {
		live, err = openSearch(layout.SearchDir(), false, false, opts.LockTimeout)
		if err != nil && !errors.Is(err, ErrEmpty) {
			return stats, fmt.Errorf("rebuild: %w", err)
		}
	}
	closeLive := func() {
		if live != nil {
			live.Close()
			live = nil
		}
	}
	defer closeLive()

	tmpDB, tmpSearch := layout.IndexPath()+".rebuild", layout.SearchDir()+".rebuild"
	os.Remove(tmpDB)
	if err := removeSearch(tmpSearch); err != nil {
		return stats, err
	}
	ix, err := openAt(tmpDB, tmpSearch, opts, true)
	if err != nil {
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	cleanup := func() {
		os.Remove(tmpDB)
		removeSearch(tmpSearch)
	}

	var fileErrs []error
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			ix.Close()
			cleanup()
			return stats, err
		}
		stats.Files++
		err := warc.ReadFile(path, func(rec warc.Record, loc warc.Location) error {
			ix.Observe(loc, rec)
			return ctx.Err()
		})
		if err != nil && ctx.Err() == nil {
			opts.Logger.Warn("rebuild: file unreadable past this point", "err", err)
			stats.BadFiles = append(stats.BadFiles, filepath.Base(path))
			fileErrs = append(fileErrs, err)
		}
	}
	if err := ix.Close(); err != nil {
		cleanup()
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	if err := ctx.Err(); err != nil {
		cleanup()
		return stats, err
	}
	ix.errMu.Lock()
	stats.Records, stats.Pages, stats.Skipped = ix.stats.Records, ix.stats.Pages, ix.stats.Skipped
	ix.errMu.Unlock()

	if err := syncFile(tmpDB); err != nil {
		cleanup()
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	closeLive()
	if err := removeSearch(layout.SearchDir()); err != nil {
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	if err := os.Rename(tmpSearch, layout.SearchDir()); err != nil {
		return stats, fmt.Errorf("rebuild: install search index: %w", err)
	}
	if err := os.Rename(tmpDB, layout.IndexPath()); err != nil {
		return stats, fmt.Errorf("rebuild: install index: %w", err)
	}
	return stats, errors.Join(fileErrs...)
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
