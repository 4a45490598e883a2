package main

import (
	"errors"
	"fmt"
	"os"

	"crawl/internal/archive"
	"crawl/internal/crawler"
	"crawl/internal/index"
	"crawl/internal/page"
	"crawl/internal/warc"
)

// session is an archive opened for writing: the WARC writer, with the index
// as its observer so that everything written is indexed as it lands.
type session struct {
	layout archive.Layout
	index  *index.Index
	state  *crawler.State // nil unless opened for a crawl
	writer *warc.Writer
}

// warcOptions are the WARC flags shared by discover, crawl and run.
type warcOptions struct {
	prefix   string
	size     int64
	digest   string
	operator string
	contact  string
}

func (e *env) warcFlags() *warcOptions {
	o := &warcOptions{}
	e.fs.StringVar(&o.prefix, "warc-prefix", "crawl", "WARC file name `prefix`")
	e.fs.Int64Var(&o.size, "warc-size", 1_000_000_000, "rotate WARC files at this many `bytes` (between fetches)")
	e.fs.StringVar(&o.digest, "digest", "sha1", "WARC digest `algorithm`: sha1 (Base32) or sha256 (hex)")
	e.fs.StringVar(&o.operator, "operator", "", "operator named in each WARC file's warcinfo record")
	e.fs.StringVar(&o.contact, "contact", "", "`URL or e-mail` for site operators, sent in the User-Agent and recorded in warcinfo")
	return o
}

// openSession opens the archive for writing. withState also opens the
// crawler's state, whose payload digests let the writer make revisit records
// across crawls of the same archive. parse are the limits the index parses
// pages with: the crawler's, so that it takes the crawler's parse.
func openSession(e *env, o *warcOptions, robots string, parse page.Limits, withState bool) (*session, error) {
	s := &session{layout: archive.Layout{Root: e.archive}}
	if err := s.layout.Create(); err != nil {
		return nil, err
	}
	if err := mendWARCs(e, s.layout); err != nil {
		return nil, err
	}
	// A quarter of the index's default queue: decoded batches of discovered
	// hosts weigh several times their raw bytes, and a zone of a million
	// names keeps that queue full.
	ix, err := index.Open(s.layout, index.Options{Logger: e.log, QueueBytes: 16 << 20, Parse: parse})
	if err != nil {
		return nil, err
	}
	s.index = ix
	var dedupe warc.PayloadIndex
	if withState {
		st, err := crawler.OpenState(s.layout.StateDir())
		if err != nil {
			ix.Close()
			return nil, err
		}
		s.state = st
		dedupe = st.Payloads()
	}
	host, _ := os.Hostname()
	s.writer, err = warc.NewWriter(warc.WriterOptions{
		Dir:         s.layout.WARCDir(),
		Prefix:      o.prefix,
		MaxFileSize: o.size,
		Digest:      o.digest,
		Info: warc.Info{
			Software:    "crawl/" + version,
			Operator:    o.operator,
			Contact:     o.contact,
			Robots:      robots,
			Hostname:    host,
			CommandLine: os.Args,
		},
		Observer: ix,
		Dedupe:   dedupe,
	})
	if err != nil {
		s.closeIndexAndState()
		return nil, err
	}
	return s, nil
}

// mendWARCs repairs the WARC files an interrupted run left open.
func mendWARCs(e *env, l archive.Layout) error {
	mended, err := warc.Mend(l.WARCDir())
	if err != nil {
		return fmt.Errorf("repair WARC files left open: %w", err)
	}
	for _, m := range mended {
		e.log.Warn("repaired a WARC file left open by an interrupted run", "report", fmt.Sprintf("%+v", m))
	}
	return nil
}

func (s *session) closeIndexAndState() error {
	var errs []error
	if s.index != nil {
		errs = append(errs, s.index.Close())
	}
	if s.state != nil {
		errs = append(errs, s.state.Close())
	}
	return errors.Join(errs...)
}

// Close closes the WARC file first, then flushes the index.
func (s *session) Close() error {
	return errors.Join(s.writer.Close(), s.closeIndexAndState())
}
