package crawler

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"crawl/internal/warc"
	"crawl/internal/warc/payloads"
)

// TestMovePayloads: a state file from before the payload digests moved to
// the WARC writer's store keeps them: MovePayloads hands every one over (in
// batches), drops them from the state only after the store committed them,
// and is a no-op after.
func TestMovePayloads(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2016, 9, 20, 0, 0, 0, 0, time.UTC)
	const n = 25_000 // more than one batch
	err = st.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPayloads) // as an older crawl left it
		if err != nil {
			return err
		}
		for i := range n {
			v, _ := json.Marshal(payloadRecord{URI: fmt.Sprintf("http://a.test/%d", i), Date: t0, RecordID: fmt.Sprintf("<urn:uuid:%d>", i)})
			if err := b.Put([]byte(fmt.Sprintf("sha1:%d", i)), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A store that fails keeps the digests in the state.
	boom := errors.New("disk full")
	if err := st.MovePayloads(func(map[string]warc.Original) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing put: %v", err)
	}

	pl, err := payloads.Open(filepath.Join(dir, "payloads.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	batches := 0
	if err := st.MovePayloads(func(b map[string]warc.Original) error { batches++; return pl.Import(b) }); err != nil {
		t.Fatal(err)
	}
	if batches < 2 {
		t.Errorf("%d batches for %d digests", batches, n)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		o, ok := pl.SeenOriginal(fmt.Sprintf("sha1:%d", i))
		if !ok || o.URI != fmt.Sprintf("http://a.test/%d", i) || !o.Date.Equal(t0) || o.RecordID != fmt.Sprintf("<urn:uuid:%d>", i) {
			t.Errorf("digest %d: %+v %v", i, o, ok)
		}
	}
	st.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPayloads) != nil {
			t.Error("the old bucket is still there")
		}
		return nil
	})
	if err := st.MovePayloads(func(map[string]warc.Original) error { t.Error("called with nothing to move"); return nil }); err != nil {
		t.Fatal(err)
	}
}
