// Package wacz packages an archive as WACZ 1.1.1 (Web Archive Collection
// Zipped, webrecorder's format that replayweb.page opens): one ZIP file
// with the WARC files, a CDXJ index of them, the list of pages, and a
// datapackage.json that names every file with its size and SHA-256.
//
// # Layout of the package
//
//	archive/NAME.warc.gz       every finished WARC file, STORED (not
//	                           compressed again): readers fetch records
//	                           by range straight from the ZIP
//	indexes/index.cdx          CDXJ of those files (warc.CDXJ: SURT keys,
//	                           sorted bytewise; filename relative to archive/)
//	pages/pages.jsonl          a header line, then each HTML page (2xx) the
//	                           index knows: id, url, ts (RFC 3339), title
//	datapackage.json           profile data-package, wacz_version 1.1.1,
//	                           resources: name, path, sha256, bytes of each file
//	datapackage-digest.json    the SHA-256 of datapackage.json
//
// # Streaming
//
// Nothing is held whole in memory: each WARC file is copied into the ZIP
// through a SHA-256 tee in one pass (archive/zip writes its CRC and sizes
// after the data), the CDXJ index is sorted by warc.CDXJ within bounded
// memory (spilling sorted runs to temporary files), and pages stream from
// the index. Memory stays the same whatever the archive's size.
package wacz

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"crawl/internal/archive"
	"crawl/internal/index"
	"crawl/internal/page"
	"crawl/internal/warc"
)

// Version is the WACZ specification written.
const Version = "1.1.1"

// ErrNoWARC: the archive has no finished WARC file to package.
var ErrNoWARC = errors.New("no finished WARC file to package")

// Pages lists an archive's pages; *index.Reader has it.
type Pages interface {
	Pages(ctx context.Context, fn func(index.PageRow) error) error
}

// Options describe the package. Zero values get defaults.
type Options struct {
	Title       string    // default: "crawl archive" and the folder's name
	Description string    // Markdown
	Software    string    // the program that wrote the package
	Created     time.Time // default: now
}

// Stats tell what went into a package.
type Stats struct {
	WARCFiles int
	WARCBytes int64
	Pages     int
	// Skipped are WARC files still being written (NAME.open): their
	// records go into a later package.
	Skipped []string
}

// Resource is one file of the package as datapackage.json lists it.
type Resource struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Hash  string `json:"hash"`
	Bytes int64  `json:"bytes"`
}

// DataPackage is datapackage.json.
type DataPackage struct {
	Profile      string     `json:"profile"`
	WACZVersion  string     `json:"wacz_version"`
	Title        string     `json:"title,omitempty"`
	Description  string     `json:"description,omitempty"`
	Created      string     `json:"created"`
	Modified     string     `json:"modified"`
	Software     string     `json:"software,omitempty"`
	MainPageURL  string     `json:"mainPageUrl,omitempty"`
	MainPageDate string     `json:"mainPageDate,omitempty"`
	Resources    []Resource `json:"resources"`
}

// Digest is datapackage-digest.json.
type Digest struct {
	Path string `json:"path"`
	Hash string `json:"hash"`
}

// WriteFile writes the package of the archive to path, atomically: a
// temporary file in the same folder, renamed when complete, so a failed or
// interrupted run leaves no partial package behind. Damaged WARC files go
// in as they are, and their index lines up to the damage; the error then
// names them, after the package is written.
func WriteFile(ctx context.Context, layout archive.Layout, pages Pages, path string, opts Options) (Stats, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return Stats{}, fmt.Errorf("wacz: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	st, err := Write(ctx, layout, pages, tmp, opts)
	var damaged *DamagedError
	if err != nil && !errors.As(err, &damaged) {
		tmp.Close()
		return st, err
	}
	// CreateTemp makes the file private; a package is made to be shared.
	if err2 := tmp.Chmod(0o644); err2 != nil {
		tmp.Close()
		return st, fmt.Errorf("wacz: %w", err2)
	}
	if err2 := tmp.Sync(); err2 != nil {
		tmp.Close()
		return st, fmt.Errorf("wacz: %w", err2)
	}
	if err2 := tmp.Close(); err2 != nil {
		return st, fmt.Errorf("wacz: %w", err2)
	}
	if err2 := os.Rename(tmp.Name(), path); err2 != nil {
		return st, fmt.Errorf("wacz: %w", err2)
	}
	return st, err
}

// DamagedError names WARC files that could only be read up to a bad spot;
// the package holds them and indexes their good records.
type DamagedError struct{ Err error }

func (e *DamagedError) Error() string {
	return "wacz: damaged WARC files packaged as they are: " + e.Err.Error()
}
func (e *DamagedError) Unwrap() error { return e.Err }

// Write writes the package of the archive to w.
func Write(ctx context.Context, layout archive.Layout, pages Pages, w io.Writer, opts Options) (Stats, error) {
	var st Stats
	files, open, err := warcFiles(layout.WARCDir())
	if err != nil {
		return st, err
	}
	st.Skipped = open
	if len(files) == 0 {
		return st, fmt.Errorf("wacz: %s: %w", layout.WARCDir(), ErrNoWARC)
	}
	if opts.Created.IsZero() {
		opts.Created = time.Now()
	}
	if opts.Title == "" {
		opts.Title = "crawl archive " + filepath.Base(filepath.Clean(layout.Root))
	}
	zw := zip.NewWriter(w)
	var resources []Resource
	// add writes one entry through a SHA-256 tee and records it.
	add := func(name string, method uint16, modified time.Time, fill func(io.Writer) error) error {
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: modified})
		if err != nil {
			return fmt.Errorf("wacz: %s: %w", name, err)
		}
		h := sha256.New()
		cw := &countWriter{w: io.MultiWriter(ew, h)}
		if err := fill(cw); err != nil {
			return err
		}
		resources = append(resources, Resource{Name: filepath.Base(name), Path: name, Hash: hashString(h), Bytes: cw.n})
		return nil
	}

	included := map[string]bool{}
	for _, path := range files {
		fi, err := os.Stat(path)
		if err != nil {
			return st, fmt.Errorf("wacz: %w", err)
		}
		base := filepath.Base(path)
		err = add("archive/"+base, zip.Store, fi.ModTime(), func(dst io.Writer) error {
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("wacz: %w", err)
			}
			defer f.Close()
			n, err := io.Copy(dst, ctxReader{ctx, f})
			if err != nil {
				return fmt.Errorf("wacz: copy %s: %w", base, err)
			}
			st.WARCBytes += n
			return nil
		})
		if err != nil {
			return st, err
		}
		included[base] = true
		st.WARCFiles++
	}

	var damaged error
	err = add("indexes/index.cdx", zip.Deflate, opts.Created, func(dst io.Writer) error {
		err := warc.CDXJ(ctx, files, dst)
		var fe *warc.FormatError
		if err != nil && errors.As(err, &fe) && ctx.Err() == nil {
			damaged = err // indexed up to the damage; said at the end
			return nil
		}
		if err != nil {
			return fmt.Errorf("wacz: index: %w", err)
		}
		return nil
	})
	if err != nil {
		return st, err
	}

	var main index.PageRow
	err = add("pages/pages.jsonl", zip.Deflate, opts.Created, func(dst io.Writer) error {
		enc := json.NewEncoder(dst)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]string{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}); err != nil {
			return err
		}
		return pages.Pages(ctx, func(p index.PageRow) error {
			if !page.IsHTMLType(p.MIME) || p.Status < 200 || p.Status > 299 || !included[p.WARC] {
				return nil
			}
			ts := p.Time.UTC().Format(time.RFC3339)
			sum := sha256.Sum256([]byte(p.URL + " " + ts))
			line := struct {
				ID    string `json:"id"`
				URL   string `json:"url"`
				TS    string `json:"ts"`
				Title string `json:"title,omitempty"`
			}{hex.EncodeToString(sum[:5]), p.URL, ts, p.Title}
			st.Pages++
			if main.URL == "" || isHome(p.URL) && !isHome(main.URL) {
				main = p
			}
			return enc.Encode(line)
		})
	})
	if err != nil {
		return st, fmt.Errorf("wacz: pages: %w", err)
	}

	pkg := DataPackage{
		Profile: "data-package", WACZVersion: Version, Title: opts.Title, Description: opts.Description,
		Created: opts.Created.UTC().Format(time.RFC3339), Modified: opts.Created.UTC().Format(time.RFC3339),
		Software: opts.Software, Resources: resources,
	}
	if main.URL != "" {
		pkg.MainPageURL, pkg.MainPageDate = main.URL, main.Time.UTC().Format(time.RFC3339)
	}
	manifest, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		return st, err
	}
	manifest = append(manifest, '\n')
	sum := sha256.Sum256(manifest)
	digest, _ := json.MarshalIndent(Digest{Path: "datapackage.json", Hash: "sha256:" + hex.EncodeToString(sum[:])}, "", "  ")
	for _, f := range []struct {
		name string
		data []byte
	}{{"datapackage.json", manifest}, {"datapackage-digest.json", append(digest, '\n')}} {
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: opts.Created})
		if err != nil {
			return st, fmt.Errorf("wacz: %w", err)
		}
		if _, err := ew.Write(f.data); err != nil {
			return st, fmt.Errorf("wacz: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return st, fmt.Errorf("wacz: %w", err)
	}
	if damaged != nil {
		return st, &DamagedError{Err: damaged}
	}
	return st, nil
}

// warcFiles lists the finished WARC files of a folder (warc.Files, as
// every reader of a whole archive) and the names of those still being
// written (warc.OpenFiles), which are left for a later package.
func warcFiles(dir string) (files, open []string, err error) {
	if files, err = warc.Files(dir); err != nil {
		return nil, nil, fmt.Errorf("wacz: %w", err)
	}
	paths, err := warc.OpenFiles(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("wacz: %w", err)
	}
	for _, p := range paths {
		open = append(open, filepath.Base(p))
	}
	return files, open, nil
}

// isHome reports whether a URL is a site's home page.
func isHome(u string) bool {
	i := strings.Index(u, "://")
	return i >= 0 && strings.Count(u[i+3:], "/") == 1 && strings.HasSuffix(u, "/")
}

func hashString(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
