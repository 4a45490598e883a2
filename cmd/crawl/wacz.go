package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"crawl/internal/archive"
	"crawl/internal/bytesize"
	"crawl/internal/wacz"
)

func waczCommand() *command {
	return &command{
		name:    "wacz",
		args:    "OUT.wacz",
		summary: "package the archive as a WACZ file (replayweb.page opens it)",
		detail: `Writes a WACZ 1.1.1 package: the finished WARC files (stored, not compressed
again), a CDXJ index of them, the list of HTML pages with their titles, and
datapackage.json with the size and SHA-256 of every file. It streams: memory
stays small whatever the archive's size. A WARC file still being written by a
crawl (.warc.gz.open) is left for a later package.`,
		run: func(ctx context.Context, e *env, args []string) error {
			title := e.fs.String("title", "", "`TITLE` of the collection (default: crawl archive and the folder's name)")
			desc := e.fs.String("description", "", "a longer `TEXT` (Markdown) about the collection")
			pos, err := e.parse(args)
			if err != nil {
				return err
			}
			if len(pos) != 1 {
				return usagef(e.cmd, "name exactly one OUT.wacz")
			}
			out := pos[0]
			if !strings.HasSuffix(out, ".wacz") {
				return usagef(e.cmd, "the package's name must end in .wacz (got %q)", out)
			}
			r, err := openReader(ctx, e, false)
			if err != nil {
				return err
			}
			defer r.Close()
			start := time.Now()
			st, err := wacz.WriteFile(ctx, archive.Layout{Root: e.archive}, r, out, wacz.Options{
				Title: *title, Description: *desc, Software: "crawl " + version,
			})
			var damaged *wacz.DamagedError
			if err != nil && !errors.As(err, &damaged) {
				return err
			}
			for _, s := range st.Skipped {
				fmt.Fprintf(e.stderr, "wacz: %s is still being written; it is not in this package\n", s)
			}
			abs, _ := filepath.Abs(out)
			fmt.Fprintf(e.stderr, "wacz: %s: %d WARC files (%s), %d pages, in %s\n",
				abs, st.WARCFiles, bytesize.Format(st.WARCBytes), st.Pages, time.Since(start).Round(time.Millisecond))
			return err
		},
	}
}
