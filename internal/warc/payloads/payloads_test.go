package payloads

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

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
