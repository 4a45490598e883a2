// Package index is what users query after a crawl: every host's captures,
// headlines and outbound links in a bbolt file (index.db), and full-text
// search over the pages in a bleve index (search/).
//
// # Data flow
//
// The index is derived from WARC records only, and follows the WARC files:
// for each file it keeps the end of the last record applied (the
// checkpoint), committed with what those records changed. During a crawl
// warc.Writer calls Index.Observe after each record. Open first reads back
// from the files whatever lies past the checkpoints (what a kill -9 kept
// from being indexed), and Rebuild is the same reading from empty
// checkpoints (follow.go), so a live index, one that caught up after a
// crash and a rebuilt one have applied the same records in the same order.
//
//	Observe (copies the block, bounded queue)
//	  -> decoders (parallel): HTTP head, de-chunk, decompress,
//	     page.ParseResponse, unless the crawler handed its own parse made
//	     with the same limits (page.Parsed): a page is parsed once
//	  -> writer goroutine (record order): one bbolt transaction per batch
//	     (BatchSize updates or BatchDelay) with the checkpoints
//	  -> searchWriter (searchwriter.go): the pages of each committed
//	     batch go to bleve off the crawl's path, through a queue bounded in
//	     bytes that drops rather than waits; what it dropped, or a crash
//	     lost, it reads back from the WARC files from its own checkpoint,
//	     kept in the search index in the same batch as the documents.
//
// response records are captures; 2xx HTML and text pages also give
// headlines, links and a search document; 3xx give their Location as a link.
// revisit records are captures flagged as such, and pages like any other:
// their headlines, links and text are those of the payload they repeat,
// read with their own headers and URL (the crawler hands over its parse;
// read back from a file, the original record is found by
// WARC-Refers-To-Target-URI and -Date, see revisit.go). metadata records (archive
// package) carry the hosts discovery found, either one per record
// (urn:x-crawl:host:NAME, one JSON HostEntry) or batched per zone
// (urn:x-crawl:hosts:ZONE, up to archive.HostBatch JSON lines, each host
// counted as one update toward BatchSize), each host's crawl outcome,
// transfer attempts, failed fetches, and the limits a capture hit
// (urn:x-crawl:note:URL, one archive.Note each, counted per host and listed
// with the capture it names). Everything else is ignored.
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
// index (whose root is a bbolt file too) is shared the same way, so search
// works during a crawl. A lock file (index.db.lock, holding the writer's
// PID) keeps a second writer out for the first one's lifetime.
//
// # Schema of index.db
//
// H is a host key: the host name's labels reversed and joined by commas
// (www.example.kp -> kp,example,www), so a site's hosts sort together. 0 is
// the byte 0x00, T an 8-byte big-endian Unix time in nanoseconds, R the
// 8-byte FNV-1a hash of a WARC-Record-ID.
//
//	meta      "schema"             -> "crawl-index-3"
//	hosts     H                    -> JSON: name, site, role, delegated, addrs, zone, source,
//	                                  nameservers, last HostStatus (status, error,
//	                                  date), captures, bytes, notes, fetch errors,
//	                                  last error
//	captures  H 0 URL 0 T R        -> binary: time, status, mime, payload digest,
//	                                  WARC file, offset, length, block bytes,
//	                                  revisit, truncated
//	pages     H 0 URL              -> JSON: time of the latest page capture and its
//	                                  headlines (title, h1-h6 in document order)
//	links     H 0 e|i 0 TO 0 FROM  -> target host 0 tag  (e: to another host,
//	                                  i: within the host)
//	errors    H 0 T 0 recID        -> JSON archive.FetchError
//	notes     H 0 URL 0 C N        -> JSON archive.Note (C: the R of the capture it
//	                                  is about, N: the R of its own record)
//	attempts  ZONE 0 SERVER        -> JSON archive.Attempt (latest)
//	files     WARC file name       -> 8-byte end offset of the last record applied
//
// One host's captures are the range H 0; one URL's history is H 0 URL 0,
// oldest first. Keys include the record ID (or its hash), so indexing a
// record twice (a reindex over an existing index) changes nothing and
// counts stay exact. Host records of each kind are last-wins by WARC-Date
// (a host line of a batched record and a single host record are the same
// kind); headlines follow the latest capture of each URL (every capture is
// a search document of its own); links accumulate
// (the count of a target is the number of pages linking to it).
//
// # Search index
//
// One bleve document per capture of a page (ID: URL, time and
// WARC-Record-ID, see docID), never replaced: url, host, mime and lang as keywords, site as the host and
// every domain above it; title, headlines and text analysed by the korean
// package's analyzer (English stemming and stop words, Han/Kana and Hangul
// bigrams) with term vectors, whose positions phrases need; time as a
// date. Title and text are stored: snippets are made from them at query
// time (snippet.go). There is no _all field: a clause without a field
// searches title, headlines and text (expandFields). Scoring is BM25 with
// statistics kept beside the documents (bm25.go), so scores do not depend
// on segment layout; a search shows each URL once, with its best capture.
// Query syntax: SearchHelp.
package index
