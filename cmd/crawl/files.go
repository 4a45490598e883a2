package main

import (
	"fmt"
	"path/filepath"
	"sort"

	"crawl/internal/archive"
)

// warcFiles lists the finished WARC files of an archive, oldest first.
func warcFiles(l archive.Layout) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(l.WARCDir(), "*.warc.gz"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no WARC files in %s: run 'crawl run ZONE' or 'crawl crawl' first", l.WARCDir())
	}
	sort.Strings(files)
	return files, nil
}
