package index

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"crawl/internal/archive"
)

// lockWriter takes the index's writer lock at path, waiting up to timeout.
// It keeps a second writer out of an archive's index for the whole life of
// the first: index.db and the search index are let go between batches so
// that readers in other processes get in, so their own file locks cannot
// be what keeps writers apart. The lock file says who holds it (this
// process's command line), as the archive's does.
func lockWriter(path string, timeout time.Duration) (*archive.Lock, error) {
	k, err := archive.LockFile(path, strings.Join(os.Args, " "), timeout)
	if errors.Is(err, archive.ErrInUse) {
		return nil, fmt.Errorf("%w: %w", ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("index %w", err)
	}
	return k, nil
}
