// Package serve is the web side of an archive (`crawl serve`): a browsable
// UI of its sites, hosts, captures, headlines and links; full-text search;
// Wayback-style replay of the captured pages; Memento; and pywb's CDX
// server API. Everything is served from the binary (templates and CSS are
// embedded) and nothing the pages load comes from elsewhere.
//
// # Routes
//
//	/                        sites and hosts: status, captures, bytes, errors
//	/host/NAME               one host: its captures, headlines, outbound links
//	/search?q=Q              full-text search (the syntax of crawl search)
//	/web/TIMESTAMP[MOD]/URL  replay of the capture of URL nearest TIMESTAMP
//	/web/*/URL               the captures of URL (URL* lists URLs by prefix)
//	/web/URL, /timegate/URL  Memento TimeGate (Accept-Datetime, else latest)
//	/timemap/link/URL        Memento TimeMap (application/link-format)
//	/cdx?url=U&output=json   pywb's CDX server API
//	/static/style.css        the UI's only asset
//
// # Data flow
//
// The server holds one index.Reader for the UI, replay and CDX queries;
// each query opens index.db read-only and lets it go, so a crawl can keep
// writing the archive while it serves. Search goes through an
// index.Searcher, which also brings the index up to date with the WARC
// files in the background (what a crawl wrote moments ago, or left for
// later), taking turns on the search index with a crawl's writer. Replay
// reads records straight from the WARC files (package replay), including
// the file a crawl is writing.
package serve
