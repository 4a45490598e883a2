package payloads

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"crawl/internal/warc"
)

// TestStoreKeepsFirstOriginalAcrossOpens: the first capture of a digest is
// its original, in memory at once and on disk after Close.
func TestStoreKeepsFirstOriginalAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "payloads.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 9, 20, 1, 2, 3, 456000, time.UTC)
	first := warc.Original{URI: "http://a.test/", Date: t0, RecordID: "<urn:uuid:1>"}
	s.RememberOriginal("sha1:X", first)
	s.RememberOriginal("sha1:X", warc.Original{URI: "http://b.test/", Date: t0.Add(time.Hour)})
	s.Remember("sha1:Y", "http://c.test/", t0)
	if o, ok := s.SeenOriginal("sha1:X"); !ok || o != first {
		t.Fatalf("before commit: %+v %v", o, ok)
	}
	if _, ok := s.SeenOriginal("sha1:Z"); ok {
		t.Fatal("an unknown digest is seen")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if o, ok := s.SeenOriginal("sha1:X"); !ok || o.URI != first.URI || !o.Date.Equal(t0) || o.RecordID != first.RecordID {
		t.Errorf("after reopen: %+v %v", o, ok)
	}
	if uri, _, ok := s.Seen("sha1:Y"); !ok || uri != "http://c.test/" {
		t.Errorf("Seen Y: %q %v", uri, ok)
	}
	// An import never replaces an original the store has.
	if err := s.Import(map[string]warc.Original{"sha1:X": {URI: "http://old.test/"}, "sha1:W": {URI: "http://w.test/"}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.SeenOriginal("sha1:X"); o.URI != first.URI {
		t.Errorf("import replaced the original: %+v", o)
	}
	if o, ok := s.SeenOriginal("sha1:W"); !ok || o.URI != "http://w.test/" {
		t.Errorf("imported digest: %+v %v", o, ok)
	}
}

func TestStoreFlushesInBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "payloads.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * flushSize {
		s.Remember(fmt.Sprint(i), "http://a.test/", time.Unix(0, 0))
	}
	s.Close()
	s, _ = Open(path)
	defer s.Close()
	for _, d := range []string{"0", fmt.Sprint(3*flushSize - 1)} {
		if _, _, ok := s.Seen(d); !ok {
			t.Errorf("digest %s lost", d)
		}
	}
}

func TestStoreLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "payloads.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
}

// TestStoreAnswersWhileCommitting: digests on their way to the disk are
// still seen (a writer asking then would otherwise write a full response
// where a revisit belongs), and are not remembered a second time.
func TestStoreAnswersWhileCommitting(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "payloads.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := warc.Original{URI: "http://a.test/", RecordID: "<urn:uuid:1>"}
	s.RememberOriginal("sha1:X", first)
	// Hold the file's write lock: the flush takes the batch and waits.
	hold, held := make(chan struct{}), make(chan struct{})
	go s.db.Update(func(*bolt.Tx) error { close(held); <-hold; return nil })
	<-held
	flushed := make(chan struct{})
	go func() { s.flush(); close(flushed) }()
	for {
		s.mu.Lock()
		taken := s.flushing != nil
		s.mu.Unlock()
		if taken {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if o, ok := s.SeenOriginal("sha1:X"); !ok || o != first {
		t.Errorf("while committing: %+v %v", o, ok)
	}
	s.RememberOriginal("sha1:X", warc.Original{URI: "http://later.test/"})
	close(hold)
	<-flushed
	if o, ok := s.SeenOriginal("sha1:X"); !ok || o != first {
		t.Errorf("after the commit: %+v %v", o, ok)
	}
}

// TestStoreReportsFailedCommit: a batch the disk refuses stays answered
// and waiting for the next flush, and Close says it failed.
func TestStoreReportsFailedCommit(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "payloads.db"))
	if err != nil {
		t.Fatal(err)
	}
	first := warc.Original{URI: "http://a.test/", RecordID: "<urn:uuid:1>"}
	s.RememberOriginal("sha1:X", first)
	s.db.Close() // the file is gone from under the store
	s.flush()
	if o, ok := s.SeenOriginal("sha1:X"); !ok || o != first {
		t.Errorf("after a failed commit: %+v %v", o, ok)
	}
	s.mu.Lock()
	_, waiting := s.pending["sha1:X"]
	s.mu.Unlock()
	if !waiting {
		t.Error("the failed batch does not wait for the next flush")
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "commit 1 digests") {
		t.Errorf("Close: %v, want the failed commit", err)
	}
}
