package archive

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestLock: one holder at a time; the second is told who holds the archive
// and changes nothing; after Unlock the archive can be taken again. (flock
// locks belong to open files, so two Locks in one process contend as two
// processes do; cmd/crawl's TestArchiveLock runs two real processes.)
func TestLock(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	first, err := l.Lock("crawl crawl --archive x")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(l.LockPath())
	_, err = l.Lock("crawl reindex")
	var inUse *InUseError
	if !errors.Is(err, ErrInUse) || !errors.As(err, &inUse) {
		t.Fatalf("second lock: %v, want ErrInUse", err)
	}
	want := "archive " + l.Root + " in use by process " + strconv.Itoa(os.Getpid()) + " (crawl crawl --archive x)"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if after, _ := os.ReadFile(l.LockPath()); string(after) != string(before) {
		t.Errorf("the failed lock changed the lock file: %q -> %q", before, after)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := l.Lock("crawl run")
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	defer again.Unlock()
	if b, _ := os.ReadFile(l.LockPath()); !strings.HasSuffix(string(b), " crawl run\n") {
		t.Errorf("lock file %q", b)
	}
}

func TestInUseErrorWithoutHolder(t *testing.T) {
	e := &InUseError{Dir: "/a"}
	if e.Error() != "archive /a in use by another process" {
		t.Errorf("%q", e.Error())
	}
}

// TestLockCannotSayWho: a lock file that cannot hold the holder's line (here
// a FIFO, which cannot be truncated) fails Lock with the cause, rather
// than holding the archive without saying who has it.
func TestLockCannotSayWho(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	if err := syscall.Mkfifo(l.LockPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := l.Lock("crawl crawl")
	if err == nil {
		k.Unlock()
		t.Fatal("Lock succeeded on a lock file it cannot write")
	}
	if errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), l.LockPath()) {
		t.Errorf("error %v, want the lock file's own failure", err)
	}
}
