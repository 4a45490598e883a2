package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// RebuildStats says what Rebuild (or a catch-up) read.
type RebuildStats struct {
	Files   int64 // WARC files read
	Records int64 // records that added something to the index
	Pages   int64 // pages put into the search index
	Skipped int64 // records that could not be decoded (logged)
	// BadFiles lists files that stopped being readable part-way; every
	// record before the bad spot was indexed.
	BadFiles []string
}

// catchUp reads, from every WARC file, the records after the file's
// checkpoint (all of them in a new index) and applies them through
// Observe, then flushes. A file still being written is read up to its last
// complete record. It returns the number of records read; a file unreadable
// part-way is read up to the bad spot, logged, and listed in BadFiles (its
// error in fileErrs): it is no reason not to index the rest.
func (ix *Index) catchUp(ctx context.Context) (int64, error) {
	files, err := listWARCs(ix.warcDir)
	if err != nil {
		return 0, err
	}
	ck, err := ix.store.checkpoints()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range files {
		from := ck[f.name]
		if from > f.size {
			ix.opts.Logger.Warn("index: a WARC file is shorter than what was indexed from it (cut after a machine crash?): run crawl reindex",
				"file", f.name, "size", f.size, "indexed", from)
			continue
		}
		if from == f.size {
			continue
		}
		ix.errMu.Lock()
		ix.stats.Files++
		ix.errMu.Unlock()
		_, err := readRecords(ctx, ix.warcDir, f.name, from, -1, func(rec warc.Record, loc warc.Location) error {
			ix.Observe(loc, rec)
			n++
			return nil
		})
		switch {
		case err == nil, errors.Is(err, errTornTail):
		case ctx.Err() != nil:
			return n, ctx.Err()
		default:
			ix.opts.Logger.Warn("index: WARC file unreadable past this point", "err", err)
			ix.errMu.Lock()
			ix.stats.BadFiles = append(ix.stats.BadFiles, f.name)
			ix.fileErrs = append(ix.fileErrs, err)
			ix.errMu.Unlock()
		}
	}
	return n, ix.Flush()
}

// Rebuild recreates index.db and the search index from the archive's WARC
// files alone, through the same path as a live crawl (Observe, from an
// empty checkpoint). It builds beside the live index and swaps it in at the
// end, so a failed or cancelled rebuild leaves the old index as it was. It
// holds the index's writer lock while it works, so no crawl can write
// meanwhile (and it fails with ErrLocked while one does).
//
// A WARC file that is corrupt part-way is indexed up to the bad record; the
// error naming file and offset is returned (joined) after the swap.
func Rebuild(ctx context.Context, layout archive.Layout, opts Options) (RebuildStats, error) {
	opts = opts.withDefaults()
	opts.NoSync = true // the result is fsynced once at the end
	var stats RebuildStats
	files, err := listWARCs(layout.WARCDir())
	if err != nil {
		return stats, err
	}
	if len(files) == 0 {
		return stats, ErrEmpty
	}
	lock, err := lockWriter(layout.IndexPath()+".lock", opts.LockTimeout)
	if err != nil {
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	defer lock.Unlock()

	tmpDB, tmpSearch := layout.IndexPath()+".rebuild", layout.SearchDir()+".rebuild"
	os.Remove(tmpDB)
	if err := removeSearch(tmpSearch); err != nil {
		return stats, err
	}
	cleanup := func() {
		os.Remove(tmpDB)
		removeSearch(tmpSearch)
	}
	ix, err := openAt(tmpDB, tmpSearch, layout.WARCDir(), opts, true, true)
	if err != nil {
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	if _, err := ix.catchUp(ctx); err != nil && ctx.Err() == nil {
		ix.Close()
		cleanup()
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	if err := ix.FinishSearch(ctx, nil); err != nil && ctx.Err() == nil {
		ix.Close()
		cleanup()
		return stats, fmt.Errorf("rebuild: %w", err)
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
	stats, fileErr := ix.stats, errors.Join(ix.fileErrs...)
	ix.errMu.Unlock()
	stats.Pages = ix.search.pages.Load()

	if err := syncFile(tmpDB); err != nil {
		cleanup()
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	if err := removeSearch(layout.SearchDir()); err != nil {
		return stats, fmt.Errorf("rebuild: %w", err)
	}
	if err := os.Rename(tmpSearch, layout.SearchDir()); err != nil {
		return stats, fmt.Errorf("rebuild: install search index: %w", err)
	}
	if err := os.Rename(tmpDB, layout.IndexPath()); err != nil {
		return stats, fmt.Errorf("rebuild: install index: %w", err)
	}
	return stats, fileErr
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Behind reports whether index.db has not yet applied every record of the
// archive's WARC files: a crawl is writing them now, or one was killed
// before its index committed.
func Behind(layout archive.Layout) (bool, error) {
	files, err := listWARCs(layout.WARCDir())
	if err != nil {
		return false, err
	}
	st := &store{path: layout.IndexPath(), lockTimeout: time.Second}
	ck, err := st.checkpoints()
	if errors.Is(err, ErrEmpty) {
		return len(files) > 0, nil
	}
	if errors.Is(err, ErrSchema) {
		return true, nil // to be rebuilt
	}
	if err != nil {
		return false, err
	}
	for _, f := range files {
		if ck[f.name] < f.size {
			return true, nil
		}
	}
	return false, nil
}

// CatchUp brings the index up to date with the archive's WARC files:
// index.db when it is behind and no crawl is writing the archive (a crawl's
// own writer keeps it up to date), and with search the full-text index too,
// telling progress (bytes of records read back) how far that is. The
// full-text part needs no writer lock: its checkpoint lives in the search
// index and is read afresh each time the index is taken, so two processes
// catching it up take turns without adding a page twice.
func CatchUp(ctx context.Context, layout archive.Layout, opts Options, search bool, progress func(done, total int64)) error {
	if files, err := listWARCs(layout.WARCDir()); err != nil || len(files) == 0 {
		return err // nothing to index (and no index to create)
	}
	opts = opts.withDefaults()
	behind, err := Behind(layout)
	if err != nil {
		return err
	}
	if behind {
		err := catchUpDB(ctx, layout, opts)
		if errors.Is(err, ErrLocked) && search {
			// A crawl is writing the archive and keeps index.db up
			// to date; the full-text index may still be behind.
			err = nil
		}
		if err != nil {
			return err
		}
	}
	if !search {
		return nil
	}
	ix := openSearchFollower(layout, opts)
	err = ix.FinishSearch(ctx, progress)
	return errors.Join(err, ix.Close())
}

// catchUpDB brings index.db up to date, if no other process writes it.
func catchUpDB(ctx context.Context, layout archive.Layout, opts Options) error {
	ix, err := openWriter(layout, opts, 0, false)
	if err != nil {
		return err
	}
	_, err = ix.catchUp(ctx)
	return errors.Join(err, ix.Close())
}
