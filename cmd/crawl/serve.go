package main

import (
	"context"
	"fmt"
	"net"

	"crawl/internal/archive"
	"crawl/internal/serve"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "browse, search and replay the archive in a web browser",
		detail: `Serves the archive on --listen (loopback only by default): the sites and
hosts with their captures, headlines and links; full-text search; replay of
every capture at /web/TIMESTAMP/URL, rewritten so that nothing a page loads
leaves this server; Memento (/timegate/URL, /timemap/link/URL); and pywb's
CDX server API (/cdx?url=URL&output=json). It works while a crawl writes the
archive. Stop it with Ctrl-C.`,
		run: func(ctx context.Context, e *env, args []string) error {
			listen := e.fs.String("listen", "127.0.0.1:8080", "`ADDR:PORT` to listen on (0.0.0.0:PORT shares the archive with the network)")
			if err := e.parseNone(args); err != nil {
				return err
			}
			// index.db caught up first, as every query command does (after
			// a kill -9, or an index of another version); the search index
			// follows in the background while it serves.
			if err := catchUp(ctx, e, false); err != nil {
				return err
			}
			srv, err := serve.New(serve.Config{Layout: archive.Layout{Root: e.archive}, Logger: e.log})
			if err != nil {
				return err
			}
			defer srv.Close()
			return srv.ListenAndServe(ctx, *listen, func(a net.Addr) {
				fmt.Fprintf(e.stdout, "Serving %s at http://%s/ (Ctrl-C to stop)\n", e.archive, a)
			})
		},
	}
}
