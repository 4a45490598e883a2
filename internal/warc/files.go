package warc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// OpenFiles lists the WARC files of dir still named .open, in name order:
// the one a writer is writing, or those a crash left (which Mend repairs).
// Only a reader that follows a writer as it writes (the index) reads them,
// up to their last complete record.
func OpenFiles(dir string) ([]string, error) {
	var names []string
	for _, pat := range []string{"*.warc.gz.open", "*.warc.open"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, fmt.Errorf("warc: list %s: %w", dir, err)
		}
		names = append(names, m...)
	}
	sort.Strings(names)
	return names, nil
}

// Files lists the finished WARC files of dir (*.warc.gz and *.warc, the
// gzip and plain forms Reader reads) in name order, which is write order:
// names start with a timestamp. A file still named .open is not listed: it
// is either being written by the process that holds the archive (its last
// record may be half-written, and its name changes when it is closed) or
// was left by a crash, and Mend, which every command that writes the
// archive runs first, repairs and closes it. Every reader of a whole
// archive (reindex, cdx) lists files here, so they all read the same set.
// A symbolic link to a regular file counts; a missing dir has no files.
func Files(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("warc: list %s: %w", dir, err)
	}
	var files []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".warc.gz") && !strings.HasSuffix(name, ".warc") {
			continue
		}
		path := filepath.Join(dir, name)
		regular := e.Type().IsRegular()
		if e.Type()&os.ModeSymlink != 0 { // a WARC file linked in from elsewhere
			fi, err := os.Stat(path)
			regular = err == nil && fi.Mode().IsRegular()
		}
		if regular {
			files = append(files, path)
		}
	}
	sort.Strings(files)
	return files, nil
}
