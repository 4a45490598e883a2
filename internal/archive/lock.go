package archive

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// ErrInUse: another process has the archive open for writing.
var ErrInUse = errors.New("archive in use")

// InUseError says which process holds the archive (or another lock file,
// LockFile). It is ErrInUse.
type InUseError struct {
	What    string // what is locked; "" is "archive"
	Dir     string // the archive, or the lock file
	PID     int    // 0 when the lock file does not say
	Command string // the holder's command line, as it wrote it
}

func (e *InUseError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
	}
	if e.Command != "" {
		who += " (" + e.Command + ")"
	}
	what := e.What
	if what == "" {
		what = "archive"
	}
	return fmt.Sprintf("%s %s in use by %s", what, e.Dir, who)
}

func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// LockPath is the archive's lock file.
func (l Layout) LockPath() string { return filepath.Join(l.Root, "lock") }

// Lock is a process's hold on an archive for writing.
type Lock struct{ f *os.File }

// Lock takes the archive for this process: every command that writes it
// takes the lock first, before it repairs a WARC file (warc.Mend) or opens
// the index or the state, so that two of them never work on one archive.
// It is an exclusive flock on LockPath, which then holds this process's PID
// and command line so that another process can say who has it. When another
// process holds the lock, Lock fails at once with an *InUseError and
// changes nothing. The kernel drops the lock when the process ends, however
// it ends (kill -9 too), so a crash never leaves the archive locked.
// Commands that only read the archive take no lock.
func (l Layout) Lock(command string) (*Lock, error) {
	if err := os.MkdirAll(l.Root, 0o755); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	k, err := LockFile(l.LockPath(), command, 0)
	var inUse *InUseError
	if errors.As(err, &inUse) {
		inUse.What, inUse.Dir = "", l.Root
		return nil, inUse
	}
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return k, nil
}

// LockFile takes an exclusive flock on the file at path (created if need
// be) and writes this process's PID and command line into it, as Lock does
// for the archive; other holders of locks of their own (the index's
// writer) use it too. While another process holds it, LockFile tries again
// until wait has passed, then fails with an *InUseError naming the holder.
func LockFile(path, command string, wait time.Duration) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			defer f.Close()
			return nil, holder(path, f)
		}
		time.Sleep(min(50*time.Millisecond, time.Until(deadline)))
	}
	// Ours now: say who we are. The holder writes only while it holds the
	// lock, so a reader sees a whole line or an empty file.
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+" "+command+"\n"), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// holder reads who holds the lock from its file.
func holder(path string, f *os.File) error {
	e := &InUseError{What: "lock file", Dir: path}
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	line, _, _ := bytes.Cut(b[:n], []byte("\n"))
	pid, cmd, _ := bytes.Cut(line, []byte(" "))
	e.PID, _ = strconv.Atoi(string(pid))
	e.Command = string(cmd)
	return e
}

// Unlock releases the archive (or the file of LockFile). The lock file stays (removing it would race
// with a process about to lock it); its content is cleared.
func (k *Lock) Unlock() error {
	if k == nil || k.f == nil {
		return nil
	}
	k.f.Truncate(0)
	err := k.f.Close() // closing the last descriptor drops the flock
	k.f = nil
	return err
}
