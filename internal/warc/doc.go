// Package warc writes and reads WARC 1.1 files: the archive itself.
//
// Data flow: the crawler hands a Writer each HTTP exchange as raw wire bytes
// (warc.Exchange, which the crawler builds from what internal/wire
// recorded); the HTTP framing and payload are read by internal/httpmsg; discovery hands it DNS evidence
// (WriteResource) and crawl's own facts (WriteMetadata). The Writer reads each
// body twice through its *io.SectionReader — once to compute the block and
// payload digests that go into the header, once to compress — so no buffer
// proportional to a body is ever held. Each record is one gzip member,
// appended to PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz.open and flushed before
// the write returns, with its exact (file, offset, length); the Observer
// (the index) is told of it then. Files rotate between exchanges and are
// renamed without ".open" when closed; Mend repairs files a crash left open.
//
// Reader iterates the records of any WARC file (gzip or plain) with their
// locations, for reindexing, CDXJ and replay. SURT and CDXJ derive the
// pywb-style index from the files.
//
// Durability: each record (or request/response pair) is flushed to the OS
// before the call returns, so a crash of the process loses nothing that was
// acknowledged; files are fsynced at rotation and Close, when Sync is
// called (the crawler does before each commit of its state), and after every
// write with WriterOptions.SyncEveryRecord, for power-loss safety at the cost
// of one fsync per fetch. A machine crash can leave a torn last member,
// which Mend cuts off.
package warc
