package wire

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
)

// spool collects bytes in memory and moves them to a temp file once they pass
// memLimit, so a large body never sits in memory. It is written by one
// goroutine (the connection's reader or writer) and read through ReadAt only
// after writing stopped.
type spool struct {
	mu       sync.Mutex
	dir      string
	memLimit int64
	mem      []byte
	f        *os.File
	bw       *bufio.Writer // batches the small writes of a socket tee into few file writes
	n        int64
	err      error // first write error; later writes are dropped
	refs     int   // release happens when this drops to zero
	released bool
}

func newSpool(dir string, memLimit int64) *spool {
	return &spool{dir: dir, memLimit: memLimit}
}

// Write appends p. A failing temp file is remembered and reported by Err, so a
// full disk cannot disturb the connection the bytes come from.
func (s *spool) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return len(p), nil
	}
	if s.f == nil && s.n+int64(len(p)) > s.memLimit {
		f, err := os.CreateTemp(s.dir, "crawl-wire-*.spool")
		if err != nil {
			s.err = fmt.Errorf("spool to disk: %w", err)
			return len(p), nil
		}
		// Unlinking at once would leak nothing if we crash, but Windows cannot;
		// we remove on release instead and keep the name for the error message.
		if _, err := f.Write(s.mem); err != nil {
			f.Close()
			os.Remove(f.Name())
			s.err = fmt.Errorf("spool to disk: %w", err)
			return len(p), nil
		}
		s.f, s.mem = f, nil
		s.bw = bufio.NewWriterSize(f, 64<<10)
	}
	if s.f != nil {
		if _, err := s.bw.Write(p); err != nil {
			s.err = fmt.Errorf("spool to %s: %w", s.f.Name(), err)
			return len(p), nil
		}
	} else {
		s.mem = append(s.mem, p...)
	}
	s.n += int64(len(p))
	return len(p), nil
}

// reset drops what was written (a retried attempt starts over).
func (s *spool) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.bw.Reset(s.f)
		if err := s.f.Truncate(0); err != nil && s.err == nil {
			s.err = fmt.Errorf("spool to %s: %w", s.f.Name(), err)
		}
		if _, err := s.f.Seek(0, io.SeekStart); err != nil && s.err == nil {
			s.err = fmt.Errorf("spool to %s: %w", s.f.Name(), err)
		}
	}
	s.mem = s.mem[:0]
	s.n = 0
}

// Len is the number of bytes written so far.
func (s *spool) Len() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Err reports a failure to keep the bytes (the record would be incomplete).
func (s *spool) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *spool) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	if s.bw != nil && s.bw.Buffered() > 0 && s.err == nil {
		if err := s.bw.Flush(); err != nil {
			s.err = fmt.Errorf("spool to %s: %w", s.f.Name(), err)
		}
	}
	f, mem, n, released, err := s.f, s.mem, s.n, s.released, s.err
	s.mu.Unlock()
	if released {
		return 0, errReleased
	}
	if err != nil {
		return 0, err
	}
	if off >= n {
		return 0, io.EOF
	}
	if f != nil {
		if int64(len(p)) > n-off {
			p = p[:n-off]
			k, err := f.ReadAt(p, off)
			if err == nil {
				err = io.EOF
			}
			return k, err
		}
		return f.ReadAt(p, off)
	}
	return bytes.NewReader(mem[:n]).ReadAt(p, off)
}

// memory returns bytes [from, to) when the spool holds them in memory, else
// nil. The spool never writes them again once sealed, nor reuses them after
// release: the slice stays valid, read-only, for as long as it is held.
func (s *spool) memory(from, to int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil || s.err != nil || s.released || from > to || to > int64(len(s.mem)) {
		return nil
	}
	return s.mem[from:to:to]
}

// section returns a fresh reader over the first n bytes.
func (s *spool) section(n int64) *io.SectionReader {
	return io.NewSectionReader(s, 0, n)
}

func (s *spool) retain() {
	s.mu.Lock()
	s.refs++
	s.mu.Unlock()
}

// release drops one reference; the last one frees memory and the temp file.
func (s *spool) release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs > 0 {
		return nil
	}
	s.mem, s.released = nil, true
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	err := f.Close()
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	return err
}
