package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"crawl/internal/archive"
	"crawl/internal/bytesize"
	"crawl/internal/index"
	"crawl/internal/warc"
)

// openReader opens the archive's index for queries, caught up first
// (catchUp).
func openReader(ctx context.Context, e *env, search bool) (*index.Reader, error) {
	if err := catchUp(ctx, e, search); err != nil {
		return nil, err
	}
	return index.OpenReader(archive.Layout{Root: e.archive})
}

// catchUp brings the archive's index up to date with the WARC files when
// no crawl is writing the archive (a crawl killed before its index
// committed, or one that left the search index behind: with search, that
// part too), so a query always answers what 'crawl reindex' would. While a
// crawl runs, its own writer keeps the index up, and queries read what it
// has committed. Only ctx's end is an error.
func catchUp(ctx context.Context, e *env, search bool) error {
	announced := false
	progress := func(done, total int64) {
		if total > 0 && !announced && !e.json {
			announced = true
			fmt.Fprintf(e.stderr, "crawl: indexing %s of records the search index has not seen yet\n", bytesize.Format(total))
		}
	}
	err := index.CatchUp(ctx, archive.Layout{Root: e.archive}, index.Options{Logger: e.log}, search, progress)
	switch {
	case err == nil, errors.Is(err, index.ErrLocked):
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		// A read-only archive, say: answer from the index as it is.
		e.log.Warn("could not bring the index up to date with the WARC files", "err", err)
	}
	return nil
}

// hostQuery builds a read-only command that takes one HOST; flags, when
// set, registers the command's own flags.
func hostQuery(name, summary string, flags func(e *env), run func(ctx context.Context, e *env, r *index.Reader, host string) error) *command {
	c := &command{name: name, args: "HOST", summary: summary}
	c.run = func(ctx context.Context, e *env, args []string) error {
		if flags != nil {
			flags(e)
		}
		pos, err := e.parse(args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef(e.cmd, "name exactly one HOST")
		}
		r, err := openReader(ctx, e, false)
		if err != nil {
			return err
		}
		defer r.Close()
		return run(ctx, e, r, pos[0]) // the index normalises host names
	}
	return c
}

func hostsCommand() *command {
	return &command{
		name:    "hosts",
		summary: "list the hosts in the archive with their crawl status",
		detail: `Works while a crawl is running. Status: pending, partial, done or failed.
NOTES counts the limits the host's captures hit (a redirect loop, a chain cut at
--max-redirects, a body cut, links past --max-links or dropped by a trap rule);
'crawl captures HOST' shows which captures have them.`,
		run: func(ctx context.Context, e *env, args []string) error {
			if err := e.parseNone(args); err != nil {
				return err
			}
			r, err := openReader(ctx, e, false)
			if err != nil {
				return err
			}
			defer r.Close()
			hosts, err := r.Hosts(ctx)
			if err != nil {
				return err
			}
			p := e.rows("host", "site", "role", "addrs", "status", "captures", "bytes", "notes", "error")
			for _, h := range hosts {
				p.add(h, h.Host, h.Site, h.Role, strings.Join(h.Addrs, ","), h.Status,
					fmt.Sprint(h.Captures), bytesize.Format(h.Bytes), fmt.Sprint(h.Notes), clip(h.Error, 60))
			}
			return p.flush()
		},
	}
}

func capturesCommand() *command {
	return hostQuery("captures", "list every capture of HOST", nil, func(ctx context.Context, e *env, r *index.Reader, host string) error {
		rows, err := r.Captures(ctx, host)
		if err != nil {
			return err
		}
		p := e.rows("time", "status", "mime", "url", "warc", "offset", "length", "notes")
		for _, c := range rows {
			p.add(c, c.Time.Format(time.RFC3339), fmt.Sprint(c.Status), c.MIME, c.URL, c.WARC,
				fmt.Sprint(c.Offset), fmt.Sprint(c.Length), strings.Join(c.Notes, ","))
		}
		return p.flush()
	})
}

func headlinesCommand() *command {
	return hostQuery("headlines", "list the titles and h1-h6 headlines of HOST's pages", nil, func(ctx context.Context, e *env, r *index.Reader, host string) error {
		rows, err := r.Headlines(ctx, host)
		if err != nil {
			return err
		}
		p := e.rows("url", "tag", "text")
		for _, h := range rows {
			p.add(h, h.URL, h.Tag, clip(h.Text, 100))
		}
		return p.flush()
	})
}

func linksCommand() *command {
	var internal bool
	flags := func(e *env) {
		e.fs.BoolVar(&internal, "internal", false, "list the links within HOST instead of those leaving it")
	}
	return hostQuery("links", "list the links leaving HOST (--internal: within it)", flags, func(ctx context.Context, e *env, r *index.Reader, host string) error {
		rows, err := r.Links(ctx, host, internal)
		if err != nil {
			return err
		}
		p := e.rows("from", "to", "host")
		for _, l := range rows {
			p.add(l, l.From, l.To, l.Host)
		}
		return p.flush()
	})
}

func searchCommand() *command {
	return &command{
		name:    "search",
		args:    "QUERY",
		summary: "full-text search over the captured pages, best first",
		detail:  index.SearchHelp,
		run: func(ctx context.Context, e *env, args []string) error {
			host := e.fs.String("host", "", "only pages of this `host`")
			limit := e.fs.Int("limit", 10, "at most this many hits")
			pos, err := e.parse(args)
			if err != nil {
				return err
			}
			if len(pos) == 0 {
				return usagef(e.cmd, "give a QUERY")
			}
			if *limit < 1 {
				return usagef(e.cmd, "--limit must be at least 1")
			}
			r, err := openReader(ctx, e, true)
			if err != nil {
				return err
			}
			defer r.Close()
			req := index.SearchRequest{Query: strings.Join(pos, " "), Host: *host, Limit: *limit}
			if !e.json && isTerminal(e.stdout) {
				req.Style = "ansi"
			}
			res, err := r.SearchPage(ctx, req)
			if err != nil {
				return err
			}
			hits := res.Hits
			if res.Behind > 0 {
				// A crawl is writing the archive, and its search index
				// trails it.
				fmt.Fprintf(e.stderr, "crawl: a crawl is writing this archive; %s of its records are not searchable yet\n", bytesize.Format(res.Behind))
			}
			p := e.rows("score", "url", "title", "snippet")
			for _, h := range hits {
				snippet := h.Snippet
				if req.Style != "ansi" {
					snippet = plainSnippet(snippet)
				}
				p.add(h, fmt.Sprintf("%.3f", h.Score), h.URL, clip(h.Title, 40), clip(snippet, 80))
			}
			return p.flush()
		},
	}
}

func cdxCommand() *command {
	return &command{
		name:    "cdx",
		summary: "print a CDXJ index of every WARC file in the archive",
		detail:  "Lines are 'SURT-key timestamp {json}', sorted bytewise, as pywb writes them.",
		run: func(ctx context.Context, e *env, args []string) error {
			if err := e.parseNone(args); err != nil {
				return err
			}
			files, err := warcFiles(archive.Layout{Root: e.archive})
			if err != nil {
				return err
			}
			return warc.CDXJ(ctx, files, e.stdout)
		},
	}
}

func reindexCommand() *command {
	return &command{
		name:    "reindex",
		summary: "rebuild the index and the search index from the archive's WARC files",
		run: func(ctx context.Context, e *env, args []string) error {
			if err := e.parseNone(args); err != nil {
				return err
			}
			layout := archive.Layout{Root: e.archive}
			if _, err := os.Stat(layout.WARCDir()); err != nil {
				_, err := warcFiles(layout) // no archive here: say how to make one
				return err
			}
			// Reindexing writes the archive's index: the lock first, then a
			// WARC file a crash left open is repaired, so that its records
			// are read like the others (warc.Files lists finished files).
			if err := e.lockArchive(); err != nil {
				return err
			}
			if err := mendWARCs(e, layout); err != nil {
				return err
			}
			if _, err := warcFiles(layout); err != nil {
				return err
			}
			start := time.Now()
			st, err := index.Rebuild(ctx, layout, index.Options{Logger: e.log})
			// Damaged files still leave a rebuilt index of every good
			// record; the stats say what was read, the error what was not.
			fmt.Fprintf(e.stderr, "reindex: %d files, %d records, %d pages indexed, %d skipped, %d damaged files, in %s\n",
				st.Files, st.Records, st.Pages, st.Skipped, len(st.BadFiles), time.Since(start).Round(time.Millisecond))
			return err
		},
	}
}
