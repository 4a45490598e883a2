package index

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// writerLock keeps a second writer out of an archive's index for the whole
// life of the first. index.db and the search index are let go between
// batches so that readers in other processes get in, so their own file
// locks cannot be what keeps writers apart.
type writerLock struct{ f *os.File }

// lockWriter takes the lock file at path, waiting up to timeout.
func lockWriter(path string, timeout time.Duration) (*writerLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("index lock: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("index lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			holder, _ := os.ReadFile(path)
			f.Close()
			who := ""
			if pid, err := strconv.Atoi(strings.TrimSpace(string(holder))); err == nil {
				who = fmt.Sprintf(", held by process %d", pid)
			}
			return nil, fmt.Errorf("%w (%s%s)", ErrLocked, path, who)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &writerLock{f: f}, nil
}

func (l *writerLock) release() {
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
