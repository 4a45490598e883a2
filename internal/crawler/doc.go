// Package crawler archives the web sites discovery found: a polite,
// resumable crawl whose every HTTP exchange goes, byte for byte, into WARC
// files.
//
// # Data flow
//
// Run takes the sites (each a set of hosts with the addresses discovery
// recorded) and crawls up to HostsAtOnce of them side by side. For one site:
//
//  1. The seeds (http://HOST/ for each host unless given) join the site's
//     frontier in the state (a bbolt file under StateDir, crawler-owned).
//  2. robots.txt of each host is fetched once, archived, and kept in the
//     state; Crawl-delay raises the host's delay up to CrawlDelayCap.
//  3. A worker takes frontier entries in the order they were queued and
//     fetches each when its host's turn comes (politeness: Delay between
//     requests to one host, HostParallel at once per host, 429/503 back
//     off with Retry-After; the limits hold per host, whichever site asks).
//  4. The fetch runs through wire.Transport, which records the raw request
//     and response bytes; the crawler writes them with Writer.WriteExchange
//     (a FetchError metadata record when no response came back).
//  5. Links from the page (page.Parse on the raw body, decompressed with a
//     cap; page.ParseCSS for style sheets) and a redirect's Location are
//     normalised, kept in scope (the site's hosts for pages, any host of
//     the run for requisites, plus Config.Scope), filtered by the trap rules
//     (URL length, repeated path segments, query variants per path), and
//     queued if not seen before.
//  6. One bbolt transaction per fetch removes the entry from the frontier,
//     marks it seen and queues the discoveries, after its record is
//     written: a kill -9 loses at most the fetches in flight, and the next
//     Run resumes where this one stopped.
//
// The seen set is per site, so each site's snapshot is complete in itself:
// a requisite two sites share is fetched by both (the second capture is a
// revisit when the payload is unchanged).
//
// At the end of a site, each host's outcome goes to the WARC as an
// archive.HostStatus metadata record; the index reads all of these through
// the writer's Observer.
//
// # Wiring
//
//	warc.Mend(layout.WARCDir())               // repair what a crash left
//	st, _ := crawler.OpenState(layout.StateDir())
//	w, _ := warc.NewWriter(warc.WriterOptions{Dir: ..., Dedupe: st.Payloads(), Observer: idx})
//	cfg := crawler.DefaultConfig()
//	cfg.State, cfg.Writer = st, w
//	c, _ := crawler.New(cfg)
//	sum, err := c.Run(ctx, sites)
//	w.Close(); st.Close()
//
// State.Payloads keeps payload digests in the state file, so revisit
// records span crawls (Recrawl).
//
// # Why not colly's fetch loop
//
// The issue names gocolly/colly/v2; the crawler uses net/http with the
// recording transport instead. colly v2.3.0's backend gunzips a
// Content-Encoding: gzip body with no size cap (its MaxBodySize bounds the
// compressed bytes only, so a gzip bomb inflates in memory:
// TestCollyBackendInflatesGzipUnbounded shows 64 KiB becoming 64 MiB), rewrites
// Response.Body into UTF-8, treats 2xx >= 203 as errors, and has no
// per-host politeness or persistence. With scheduling, robots, the seen set,
// redirects and parsing done here, colly would only add client.Do and
// io.ReadAll, with those hazards on top.
package crawler
