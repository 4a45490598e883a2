package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crawl/internal/warc"
)

// metaLog is a MetadataWriter that keeps what it is given.
type metaLog struct {
	uris  []string
	dates []time.Time
	types []string
	body  [][]byte
	fail  error
}

func (m *metaLog) WriteMetadata(uri string, date time.Time, contentType string, body []byte) (warc.Location, error) {
	if m.fail != nil {
		return warc.Location{}, m.fail
	}
	m.uris, m.dates, m.types = append(m.uris, uri), append(m.dates, date), append(m.types, contentType)
	m.body = append(m.body, bytes.Clone(body))
	return warc.Location{}, nil
}

// TestHostLogBatches: hosts are written in records of at most HostBatch
// lines, a new record where the zone changes, every line stamped with the
// discovery's time, and nothing is lost at Close.
func TestHostLogBatches(t *testing.T) {
	m := &metaLog{}
	found := time.Date(2026, 9, 20, 1, 2, 3, 0, time.FixedZone("x", 3600))
	l := NewHostLog(m, found)
	n := HostBatch + 10
	for i := range n {
		if err := l.Add(HostEntry{Name: fmt.Sprintf("h%d.a.test", i), Zone: "a.test", Role: "web"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Add(HostEntry{Name: "b.test", Zone: "b.test"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{HostsURI("a.test"), HostsURI("a.test"), HostsURI("b.test")}
	if strings.Join(m.uris, " ") != strings.Join(want, " ") {
		t.Fatalf("records %v, want %v", m.uris, want)
	}
	var all []HostEntry
	for i, b := range m.body {
		if m.types[i] != ContentTypeLines || !m.dates[i].Equal(found) {
			t.Errorf("record %d: %s at %v", i, m.types[i], m.dates[i])
		}
		hosts, err := DecodeLines(b)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, hosts...)
	}
	if len(all) != n+1 || len(m.body[0]) == 0 || all[n].Name != "b.test" {
		t.Fatalf("%d hosts back, want %d", len(all), n+1)
	}
	for _, h := range all {
		if !h.Found.Equal(found) || h.Found.Location() != time.UTC {
			t.Fatalf("host %s found %v, want %v in UTC", h.Name, h.Found, found)
		}
	}
}

func TestHostLogReportsWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	l := NewHostLog(&metaLog{fail: boom}, time.Now())
	for i := range HostBatch {
		l.Add(HostEntry{Name: fmt.Sprint(i), Zone: "z"})
	}
	if err := l.Add(HostEntry{Name: "x", Zone: "z"}); !errors.Is(err, boom) {
		t.Errorf("Add after a failed batch: %v", err)
	}
	if err := l.Close(); !errors.Is(err, boom) {
		t.Errorf("Close: %v", err)
	}
}

// TestWriteRecords writes each of crawl's own records through a real WARC
// writer and reads them back.
func TestWriteRecords(t *testing.T) {
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: warc.Info{Hostname: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)
	zone := filepath.Join(dir, "z.zone")
	os.WriteFile(zone, []byte("z. 3600 IN SOA a. b. 1 2 3 4 5\n"), 0o644)
	for _, err := range []error{
		WriteAttempt(w, Attempt{Zone: "z", Server: "127.0.0.1:53", Outcome: "refused", Time: now}),
		WriteHostStatus(w, HostStatus{Host: "a.z", Status: StatusDone, Pages: 3, Time: now}),
		WriteFetchError(w, FetchError{URL: "http://a.z/x", Host: "a.z", Error: "refused", Time: now}),
		WriteDNS(w, "dns:a.z?type=A", "127.0.0.1:53", now, strings.NewReader("a.z. 60 IN A 127.0.0.1\n"), 23),
		WriteZoneFile(w, "z", "127.0.0.1", now, zone),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	var got []string
	err = warc.ReadFile(files[0], func(rec warc.Record, _ warc.Location) error {
		b, _ := io.ReadAll(rec.Block)
		if rec.Header.Get("WARC-Type") == "warcinfo" {
			return nil
		}
		got = append(got, rec.Header.Get("WARC-Type")+" "+rec.Header.Get("WARC-Target-URI")+" "+rec.Header.Get("WARC-IP-Address")+" "+Kind(rec.Header.Get("WARC-Target-URI"))+" "+fmt.Sprint(len(b) > 0))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"metadata urn:x-crawl:attempt:z  attempt true",
		"metadata urn:x-crawl:host-status:a.z  host-status true",
		"metadata http://a.z/x   true",
		"resource dns:a.z?type=A 127.0.0.1  true",
		"resource dns:z?type=AXFR 127.0.0.1  true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
