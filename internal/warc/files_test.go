package warc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFiles: the finished WARC files, gzip and plain, in name order;
// never a file still .open, nor anything else.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	for _, name := range []string{
		"b-2.warc.gz", "a-1.warc.gz", "c-3.warc", // listed
		"d-4.warc.gz.open", "e-5.warc.open", // being written, or left by a crash: Mend's
		"notes.txt", "f.warc.gz.tmp", "g.gz",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "h.warc.gz"), 0o755) // a folder is not a file
	os.WriteFile(filepath.Join(other, "linked.warc.gz"), nil, 0o644)
	os.Symlink(filepath.Join(other, "linked.warc.gz"), filepath.Join(dir, "i-6.warc.gz"))
	os.Symlink(filepath.Join(other, "missing.warc.gz"), filepath.Join(dir, "j-7.warc.gz"))

	got, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, filepath.Base(f))
	}
	want := []string{"a-1.warc.gz", "b-2.warc.gz", "c-3.warc", "i-6.warc.gz"}
	if !slices.Equal(names, want) {
		t.Errorf("Files = %v, want %v", names, want)
	}
	if got, err := Files(filepath.Join(dir, "nope")); err != nil || len(got) != 0 {
		t.Errorf("missing dir: %v %v", got, err)
	}
}

// TestFilesAfterMend: a file a crash left open is listed once Mend has
// repaired it.
func TestFilesAfterMend(t *testing.T) {
	w := newTestWriter(t, WriterOptions{})
	if _, err := w.WriteExchange(Exchange{TargetURI: "http://example.org/", Request: section(getReq), Response: section(resp200)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := Files(w.opts.Dir); len(got) != 0 {
		t.Fatalf("a file being written is listed: %v", got)
	}
	// A crash: the file stays .open, the writer is abandoned, and the next
	// run mends it.
	if _, err := Mend(w.opts.Dir); err != nil {
		t.Fatal(err)
	}
	got, err := Files(w.opts.Dir)
	if err != nil || len(got) != 1 {
		t.Fatalf("after Mend: %v %v", got, err)
	}
}
