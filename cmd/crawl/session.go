package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"crawl/internal/archive"
	"crawl/internal/crawler"
	"crawl/internal/index"
	"crawl/internal/warc"
	"crawl/internal/warc/payloads"
)

// session is an archive opened for writing: the WARC writer, with the index
// as its observer so that everything written is indexed as it lands.
type session struct {
	layout   archive.Layout
	index    *index.Index
	state    *crawler.State  // nil unless opened for a crawl
	payloads *payloads.Store // the writer's payload digests; nil unless opened for a crawl
	writer   *warc.Writer
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
	e.byteSizeVar(&o.size, "warc-size", 1_000_000_000, "rotate WARC files at this `size` (1GB, 512MiB, bytes; between fetches)")
	e.fs.StringVar(&o.digest, "digest", "sha1", "WARC digest `algorithm`: sha1 (Base32) or sha256 (hex)")
	e.fs.StringVar(&o.operator, "operator", "", "operator named in each WARC file's warcinfo record")
	e.fs.StringVar(&o.contact, "contact", "", "`URL or e-mail` for site operators, sent in the User-Agent and recorded in warcinfo")
	return o
}

// openSession opens the archive for writing. withState also opens the
// crawler's state and the writer's payload digests, which let it make
// revisit records across crawls of the same archive.
func openSession(e *env, o *warcOptions, robots string, withState bool) (_ *session, err error) {
	s := &session{layout: archive.Layout{Root: e.archive}}
	// The lock comes first (if the command has not taken it yet): a second
	// writer must fail before it repairs a WARC file the first one is
	// writing, or opens anything.
	if err := e.lockArchive(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.closeIndexAndState()
		}
	}()
	if err := s.layout.Create(); err != nil {
		return nil, err
	}
	if err := mendWARCs(e, s.layout); err != nil {
		return nil, err
	}
	// A quarter of the index's default queue: decoded batches of discovered
	// hosts weigh several times their raw bytes, and a zone of a million
	// names keeps that queue full.
	if s.index, err = index.Open(s.layout, index.Options{Logger: e.log, QueueBytes: 16 << 20, DeferSearch: e.deferSearch()}); err != nil {
		return nil, err
	}
	var dedupe warc.PayloadIndex
	if withState {
		if s.state, err = crawler.OpenState(s.layout.StateDir()); err != nil {
			return nil, err
		}
		if s.payloads, err = payloads.Open(s.layout.PayloadsPath()); err != nil {
			return nil, err
		}
		// An archive crawled before the digests moved out of the crawler's
		// state keeps them: they move over once.
		if err := s.state.MovePayloads(s.payloads.Import); err != nil {
			return nil, err
		}
		dedupe = s.payloads
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
		Observer: s.index,
		Dedupe:   dedupe,
	})
	if err != nil {
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
	if s.payloads != nil {
		errs = append(errs, s.payloads.Close())
	}
	return errors.Join(errs...)
}

// Close closes the WARC file first, then flushes the index. The archive
// stays locked until the command returns.
func (s *session) Close() error {
	return errors.Join(s.writer.Close(), s.closeIndexAndState())
}

// lockArchive takes the archive for this process (see archive.Layout.Lock)
// until the command returns. Every command that writes the archive calls
// it before it touches anything: right after its flags are parsed, or at
// the latest in openSession. A second call is a no-op.
func (e *env) lockArchive() error {
	if e.lock != nil {
		return nil
	}
	cmd := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	lock, err := archive.Layout{Root: e.archive}.Lock(strings.Join(cmd, " "))
	if err != nil {
		return err
	}
	e.lock = lock
	return nil
}
