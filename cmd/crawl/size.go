package main

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
)

// byteSize is a flag.Value for a number of bytes: a plain number, or one
// with an SI or IEC unit ("10MB", "64MiB", "1.5GB", "512 KiB"), parsed by
// go-humanize. It prints the exact value in the largest unit that divides
// it ("64 MiB", "1 GB"), so -h shows defaults as a reader writes them, and
// what it prints parses back to the same number.
type byteSize struct{ p *int64 }

func (e *env) byteSizeVar(p *int64, name string, value int64, usage string) {
	*p = value
	e.fs.Var(byteSize{p}, name, usage)
}

func (b byteSize) Set(s string) error {
	n, err := humanize.ParseBytes(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not a size: want bytes, as 1000000, 10MB or 64MiB")
	}
	if n > math.MaxInt64 {
		return errors.New("too large")
	}
	*b.p = int64(n)
	return nil
}

func (b byteSize) String() string {
	if b.p == nil {
		return "0"
	}
	return formatSize(*b.p)
}

// formatSize writes n in the largest IEC or SI unit that divides it exactly,
// IEC first (sizes in code are mostly powers of two).
func formatSize(n int64) string {
	if n > 0 {
		units := []struct {
			size uint64
			name string
		}{
			{humanize.EiByte, "EiB"}, {humanize.PiByte, "PiB"}, {humanize.TiByte, "TiB"}, {humanize.GiByte, "GiB"},
			{humanize.EByte, "EB"}, {humanize.PByte, "PB"}, {humanize.TByte, "TB"}, {humanize.GByte, "GB"},
			{humanize.MiByte, "MiB"}, {humanize.MByte, "MB"}, {humanize.KiByte, "KiB"}, {humanize.KByte, "kB"},
		}
		for _, u := range units {
			if uint64(n)%u.size == 0 {
				return strconv.FormatUint(uint64(n)/u.size, 10) + " " + u.name
			}
		}
	}
	return strconv.FormatInt(n, 10)
}
