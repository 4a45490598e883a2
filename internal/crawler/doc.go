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
//     fetches each when its host's turn comes, then its server address's
//     (politeness: Delay between requests to one host, HostParallel at
//     once per host, 429/503 back off with Retry-After; the limits hold per
//     host, whichever site asks, and Delay and PerAddressParallel hold per
//     address too, for all the hosts one server carries).
//  4. The fetch is a request of a colly Collector (the fetch engine, see
//     below) whose client runs over wire.Transport, which records the raw
//     request and response bytes; the crawler writes them with
//     Writer.WriteExchange (a FetchError metadata record when no response
//     came back).
//  5. The body (decoded, capped at Parse.MaxBody) is parsed once, before it
//     is archived: page.ParseResponse with Config.Parse for HTML (at most
//     Parse.Config.MaxLinks links), page.ParseCSS for style sheets. The
//     parse goes to the writer with the response (warc.Exchange.Parsed),
//     and the index, opened with the same page.Limits, takes it instead of
//     parsing the record again.
//  6. Links from that parse and a redirect's Location are normalised, kept
//     in scope (the site's hosts for pages, any host of the run for
//     requisites, plus Config.Scope), filtered by the trap rules (URL
//     length, repeated path segments, query variants per path), and
//     handed to the committer in chunks of at most frontierChunk URLs,
//     which queues those not seen before.
//  7. The fetch's completion (the entry leaves the frontier, marked seen,
//     with the last discoveries) goes to the committer after its record is
//     written. The committer applies completions in the order they came,
//     many to a transaction, every commitEvery or when the scheduler runs
//     out of queued URLs, and fsyncs the WARC file before each: a kill -9
//     loses at most the fetches in flight or waiting for their group (an
//     entry whose first chunks were queued is fetched again), a power loss
//     never leaves the state ahead of the archive, and the next Run resumes
//     where this one stopped. A fetch whose record was written but not
//     committed is, with Config.Archived, completed from that record
//     instead: the entries an interrupted run can have had in flight or
//     waiting (the first maxSlots + maxUncommitted of the frontier) are looked up
//     first. A failed commit ends the run the same way: Run starts no more
//     sites and returns the error, and the sites it was crawling stay
//     StatusCrawling, as the state last committed them, for the next Run.
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
//	pl, _ := payloads.Open(layout.PayloadsPath())
//	st.MovePayloads(pl.Import)                // digests an older crawl kept in the state
//	w, _ := warc.NewWriter(warc.WriterOptions{Dir: ..., Dedupe: pl, Observer: idx})
//	cfg := crawler.DefaultConfig()
//	cfg.State, cfg.Writer = st, w
//	c, _ := crawler.New(cfg)
//	sum, err := c.Run(ctx, sites)
//	w.Close(); pl.Close(); st.Close()
//
// The payload store (package warc/payloads) keeps the digests the writer
// archived, so revisit records span crawls (Recrawl).
//
// # Files
//
// crawler.go holds the types, New and Run; site.go one site's crawl (the
// scheduler loop, a visit, the results); robots.go robots.txt; links.go
// what a capture leads to; fetch.go one fetch and its archiving; engine.go
// the colly collector; politeness.go, scope.go, state.go and progress.go
// what their names say.
//
// # colly as the fetch engine
//
// Every request, robots.txt included, goes through one colly v2.3.0
// Collector built in New (engine.go):
//
//	fetch -> Collector.Request -> http.Client -> collyShim -> wire.Transport
//
// colly sends the request and reports through OnResponseHeaders and OnError;
// a colly.Context carries the fetch to those callbacks and the tag header
// carries it to the shim and the wire transport. Scheduling, robots, the
// seen set, redirects and archiving stay here, so colly's own versions are
// off: IgnoreRobotsTxt, AllowURLRevisit, a client whose CheckRedirect
// returns the 3xx (each hop is its own capture, and colly's redirect handler
// never marks targets visited), ParseHTTPErrorResponse (colly v2.3.0
// otherwise turns 2xx >= 203, 4xx and 5xx into errors). The options are set
// again after NewCollector because colly applies COLLY_* environment
// variables after its options; the crawl does not depend on them.
//
// collyShim exists because colly v2.3.0's backend gunzips a
// Content-Encoding: gzip body with no size cap (its MaxBodySize bounds the
// compressed bytes only: TestCollyBackendInflatesGzipUnbounded shows 64 KiB
// becoming 64 MiB). The shim decodes a body that may hold links itself,
// capped at Parse.MaxBody, and sets Response.Uncompressed so colly reads those
// bytes as they are (TestCollyShimBoundsGzipBomb). The parser gets the
// shim's bytes; colly gets an empty body (nothing of colly's reads it, and
// it would copy it and rewrite it into UTF-8; page.Parse decodes charsets
// itself from the raw bytes). A
// body that cannot hold links (images, media, archives) is aborted after
// the headers, so colly never reads it; the wire transport has recorded it
// already. The shim also gives each request its fetch's own context
// (colly's is collector-wide), so a stop cancels fetches in flight within
// StopGrace, and the crawler's normalised URL (colly re-parses URLs with a
// WHATWG parser).
package crawler
