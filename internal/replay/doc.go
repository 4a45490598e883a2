// Package replay turns an archive's captures back into web pages, as pywb
// does: it finds the capture of a URL nearest a time, reads its record from
// the WARC files, resolves revisits to the payload they stand for, and
// rewrites what it serves so that a browser stays inside the archive. It
// also answers Memento (RFC 7089) and pywb's CDX query API over the index.
//
// # Data flow
//
//	/web/TIMESTAMP[MOD]/URL  --ParsePath-->  Target
//	Archive.Captures(URL)    --index: URLCaptures, else a SURT match over
//	                            the host's captures-->  []index.CaptureRow
//	Nearest(captures, time)  --> the capture to serve
//	Archive.Open(capture)    --warc record (NAME or NAME.open), HTTP parse,
//	                            revisit -> original payload-->  *Response
//	Rewriter.HTML / CSS      --URLs prefixed with /web/TIMESTAMP[MOD]/-->  bytes
//
// # Rewriting
//
// Rewriting is server-side and byte-level: the HTML tokenizer of x/net/html
// finds the tags, and only the ASCII spans that begin a URL change. A URL is
// kept as written and given a prefix that makes it absolute inside the
// archive ("/x.png" on http://a.kp/ becomes "/web/20160920000000im_/http://a.kp/x.png"),
// so a page in EUC-KR keeps its bytes, its charset and its non-ASCII URLs
// (which the browser encodes exactly as it would have for the live page).
// Attributes that load or navigate (href, src, srcset, action, poster,
// background, data, formaction, meta refresh), CSS url() and @import in
// style sheets, <style> and style attributes, and redirect Locations are
// rewritten. Modifiers name what a URL is for, as pywb's do: none for a page
// (with the banner), if_ for a frame, im_ images, cs_ style sheets, js_
// scripts, oe_ other embeds, and id_ for the original bytes untouched.
// Whatever a rewrite misses cannot leave the server either: replayed
// responses carry a Content-Security-Policy that allows only the server
// itself (see CSP).
//
// # Memento and CDX
//
// Replayed captures carry Memento-Datetime and a Link header (original,
// timegate, timemap, memento; first, last, prev and next); LinkHeader and
// WriteTimeMap build them. CDX answers pywb's CDX server API (url with
// wildcards, matchType exact|prefix|host|domain, from, to, limit, sort,
// closest, filter, fl, output cdxj|json|link|text) from the index: rows
// are keyed by SURT as `crawl cdx` writes them and sorted the same way.
package replay
