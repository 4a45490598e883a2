package warc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MendReport says what Mend did to one file left open by a crash.
type MendReport struct {
	File    string // the .open file found
	Renamed string // the readable file it became; "" if removed
	Records int    // complete records kept
	Kept    int64  // bytes kept
	Cut     int64  // bytes cut from the end (a torn record, garbage)
	Removed bool   // no complete record at all: the file was deleted
	Problem string // why bytes were cut, from the reader; "" if none
}

// Mend repairs the *.warc.gz.open (and *.warc.open) files in dir that a
// crashed writer left behind: it keeps every complete record, cuts the
// half-written last gzip member and anything after it, fsyncs, and renames
// the file to its final name, so every file in dir is readable. A file with
// no complete record (a torn warcinfo) holds nothing readable and is
// removed. Run it before writers start in dir: a live writer's .open file
// would be closed under it.
func Mend(dir string) ([]MendReport, error) {
	names, err := OpenFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("warc: mend: %w", err)
	}
	var reports []MendReport
	for _, path := range names {
		rep, err := mendFile(path)
		if err != nil {
			return reports, err
		}
		reports = append(reports, rep)
	}
	if len(reports) > 0 {
		syncDir(dir)
	}
	return reports, nil
}

func mendFile(path string) (MendReport, error) {
	rep := MendReport{File: path}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return rep, fmt.Errorf("warc: mend %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return rep, fmt.Errorf("warc: mend %s: %w", path, err)
	}
	r, err := NewReader(f)
	if err != nil {
		return rep, fmt.Errorf("warc: mend %s: %w", path, err)
	}
	defer r.Close()
	var good int64
	for {
		_, loc, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				return rep, fmt.Errorf("warc: mend %s: %w", path, err)
			}
			rep.Problem = fe.Err.Error()
			break
		}
		rep.Records++
		if loc.Length > 0 { // several records in one member: only whole members can be kept
			good = loc.Offset + loc.Length
		}
	}
	rep.Kept, rep.Cut = good, st.Size()-good
	if good == 0 {
		rep.Records = 0
		if err := os.Remove(path); err != nil {
			return rep, fmt.Errorf("warc: mend %s: %w", path, err)
		}
		rep.Removed = true
		return rep, nil
	}
	if rep.Cut > 0 {
		if err := f.Truncate(good); err != nil {
			return rep, fmt.Errorf("warc: mend %s: cut to %d: %w", path, good, err)
		}
	}
	if err := f.Sync(); err != nil {
		return rep, fmt.Errorf("warc: mend %s: %w", path, err)
	}
	final := strings.TrimSuffix(path, ".open")
	if _, err := os.Lstat(final); err == nil {
		return rep, fmt.Errorf("warc: mend %s: %s already exists", path, final)
	}
	if err := os.Rename(path, final); err != nil {
		return rep, fmt.Errorf("warc: mend %s: %w", path, err)
	}
	rep.Renamed = final
	return rep, nil
}
