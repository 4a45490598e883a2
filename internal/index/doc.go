// Package index is what users query after a crawl: every host's captures,
// headlines and outbound links in a bbolt file (index.db), and full-text
// search over the pages in a bleve index (search/).
//
// # Data flow
//
// The index is derived from WARC records only. During a crawl warc.Writer
// calls Index.Observe after each record; Rebuild reads every WARC file and
// calls the same Observe, so a live index and a rebuilt one are identical.
//
//	Observe (copies the block, bounded queue)
//	  -> decoders (parallel): HTTP head, de-chunk, decompress, page.Parse
//	  -> writer goroutine (record order): one bbolt transaction per batch
//	     (BatchSize updates or BatchDelay), then one bleve batch per
//	     SearchBatch pages
//	  -> Close: the search index is merged into one segment, so a live
//	     index and a rebuilt one also score alike (see mergeSearch).
//
// response records are captures; 2xx HTML and text pages also give
// headlines, links and a search document; 3xx give their Location as a link.
// revisit records are captures flagged as such. metadata records (archive
// package) carry the hosts discovery found, either one per record
// (urn:x-crawl:host:NAME, one JSON HostEntry) or batched per zone
// (urn:x-crawl:hosts:ZONE, up to archive.HostBatch JSON lines, each host
// counted as one update toward BatchSize), each host's crawl outcome,
// transfer attempts and failed fetches. Everything else is ignored.
//
// # Sharing index.db with a running crawl
//
// bbolt takes an exclusive flock on a read-write open, so a file held open
// by a crawl cannot be opened at all by `crawl hosts`. The writer therefore
// holds index.db only while it has work: it lets go whenever its queue is
// empty, and during a busy stretch at least once a second for 120 ms (more
// than the 50 ms at which bbolt polls a lock), so a reader's read-only open,
// which waits up to LockTimeout, always gets in; readers hold the file for
// one query. ErrLocked comes only when that wait is exceeded. The search
// index stays open for the writer's lifetime, which is also what keeps a
// second writer out; search from another process during a crawl gives
// ErrLocked.
//
// # Schema of index.db
//
// H is a host key: the host name's labels reversed and joined by commas
// (www.example.kp -> kp,example,www), so a site's hosts sort together. 0 is
// the byte 0x00, T an 8-byte big-endian Unix time in nanoseconds.
//
//	meta      "schema"             -> "crawl-index-2"
//	hosts     H                    -> JSON: name, site, role, delegated, addrs, zone, source,
//	                                  nameservers, last HostStatus (status, error,
//	                                  date), captures, bytes, fetch errors, last error
//	captures  H 0 URL 0 T 0 recID  -> binary: time, status, mime, payload digest,
//	                                  WARC file, offset, length, block bytes,
//	                                  revisit, truncated, record ID
//	pages     H 0 URL              -> JSON: time of the latest page capture and its
//	                                  headlines (title, h1-h6 in document order)
//	links     H 0 e|i 0 TO 0 FROM  -> target host 0 tag  (e: to another host,
//	                                  i: within the host)
//	errors    H 0 T 0 recID        -> JSON archive.FetchError
//	attempts  ZONE 0 SERVER        -> JSON archive.Attempt (latest)
//
// One host's captures are the range H 0; one URL's history is H 0 URL 0,
// oldest first. Keys include the record ID, so indexing a record twice (a
// reindex over an existing index) changes nothing and counts stay exact.
// Host records of each kind are last-wins by WARC-Date (a host line of a
// batched record and a single host record are the same kind); headlines and the
// search document follow the latest capture of each URL; links accumulate
// (the count of a target is the number of pages linking to it).
//
// # Search index
//
// One bleve document per page URL (the latest capture): url, host, site,
// mime and lang as keywords; title, headlines and text analysed by the
// korean package's analyzer (English stemming and stop words, Han/Kana and
// Hangul bigrams); time as a date. title and text are stored with term
// vectors for highlighted snippets. Scoring is BM25. Query syntax: SearchHelp.
package index
