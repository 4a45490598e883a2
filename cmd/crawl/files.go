package main

import (
	"fmt"

	"crawl/internal/archive"
	"crawl/internal/warc"
)

// warcFiles lists the finished WARC files of an archive, oldest first
// (warc.Files says which), or says how to make some.
func warcFiles(l archive.Layout) ([]string, error) {
	files, err := warc.Files(l.WARCDir())
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no WARC files in %s: run 'crawl run ZONE' or 'crawl crawl' first", l.WARCDir())
	}
	return files, nil
}
