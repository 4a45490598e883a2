package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"crawl/internal/warc"
)

// The index follows the WARC files: for every file it keeps how far it has
// applied (the end offset of the last record it took), in the same
// transaction as what those records changed. Whatever a crash lost between a
// record reaching its file and the index committing it is read back from the
// file on the next open (catch-up); Rebuild is the same catch-up starting
// from nothing. So a live index, one that caught up after kill -9 and a
// rebuilt one have applied the same records in the same order.

// warcFile is one WARC file of the archive: its final base name (how
// Locations and checkpoints name it) and where it is on disk now (the name
// with ".open" while it is being written).
type warcFile struct {
	name string
	path string
	size int64
}

// listWARCs lists the WARC files of a folder in name order (names start
// with a timestamp, so this is write order): the finished ones
// (warc.Files) and, unlike other readers of a whole archive, those still
// being written (warc.OpenFiles), which the index follows as they grow,
// up to their last complete record.
func listWARCs(dir string) ([]warcFile, error) {
	done, err := warc.Files(dir)
	if err != nil {
		return nil, err
	}
	open, err := warc.OpenFiles(dir)
	if err != nil {
		return nil, err
	}
	var files []warcFile
	for _, path := range append(done, open...) {
		info, err := os.Stat(path)
		if err != nil {
			continue // renamed (closed) meanwhile: listed under its new name next time
		}
		name := strings.TrimSuffix(filepath.Base(path), ".open")
		files = append(files, warcFile{name: name, path: path, size: info.Size()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, nil
}

// openWARC opens a file by its final name, or by its ".open" name while it
// is being written (it may be renamed between the two tries).
func openWARC(dir, name string) (*os.File, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.Open(filepath.Join(dir, name+".open"))
		if errors.Is(err, os.ErrNotExist) {
			f, err = os.Open(filepath.Join(dir, name)) // closed between the two opens
		}
	}
	return f, err
}

// errTornTail: the last record of a file still being written is incomplete
// (the writer is writing it, or was killed while writing it). What comes
// before it has been read; the rest is read once it is complete (or once
// Mend has cut it off).
var errTornTail = errors.New("incomplete record at the end of a WARC file being written")

// readRecords calls fn for each record of the file name in dir whose
// offset is in [from, to) (to < 0: to the end), with Locations as the
// writer gave them (absolute offsets, final name). It returns the end
// offset of the last record read. A file being written may end in a torn
// record: that gives errTornTail (wrapped), not a format error.
func readRecords(ctx context.Context, dir, name string, from, to int64, fn func(warc.Record, warc.Location) error) (int64, error) {
	f, err := openWARC(dir, name)
	if err != nil {
		return from, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	beingWritten := strings.HasSuffix(f.Name(), ".open")
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return from, fmt.Errorf("read %s: %w", name, err)
	}
	r, err := warc.NewReader(f)
	if err != nil {
		return from, err
	}
	defer r.Close()
	end := from
	for i := 0; ; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return end, ctx.Err()
		}
		rec, loc, err := r.Next()
		if err == io.EOF {
			return end, nil
		}
		if err != nil {
			var fe *warc.FormatError
			// In a file being written, a bad spot is where the
			// writer is (or was killed): Mend decides what it was.
			if beingWritten && errors.As(err, &fe) {
				return end, fmt.Errorf("%s at offset %d: %w", name, end, errTornTail)
			}
			if errors.As(err, &fe) {
				fe.File, fe.Offset = name, fe.Offset+from
			}
			return end, err
		}
		loc.File, loc.Offset = name, loc.Offset+from
		if to >= 0 && loc.Offset >= to {
			return end, nil
		}
		if err := fn(rec, loc); err != nil {
			return end, err
		}
		// Several records in one gzip member (other tools write that)
		// have Length 0 but the member's last: the end comes with it.
		if loc.Length > 0 {
			end = loc.Offset + loc.Length
		}
	}
}

// readRecordAt reads the one record at loc (a capture's Location).
func readRecordAt(dir string, loc warc.Location, fn func(warc.Record) error) error {
	f, err := openWARC(dir, loc.File)
	if err != nil {
		return fmt.Errorf("read record %s:%d: %w", loc.File, loc.Offset, err)
	}
	defer f.Close()
	length := loc.Length
	if length <= 0 {
		length = 1<<63 - 1 - loc.Offset
	}
	r, err := warc.NewReader(io.NewSectionReader(f, loc.Offset, length))
	if err != nil {
		return fmt.Errorf("read record %s:%d: %w", loc.File, loc.Offset, err)
	}
	defer r.Close()
	rec, _, err := r.Next()
	if err != nil {
		return fmt.Errorf("read record %s:%d: %w", loc.File, loc.Offset, err)
	}
	return fn(rec)
}
