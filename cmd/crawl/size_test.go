package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
)

// TestByteSizeFlag: every size flag takes plain numbers and SI or IEC
// units, and prints its value so that it parses back the same.
func TestByteSizeFlag(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1000000", 1_000_000, false},
		{"0", 0, false},
		{"10MB", 10_000_000, false},
		{"10 MB", 10_000_000, false},
		{"10mb", 10_000_000, false},
		{"64MiB", 64 << 20, false},
		{"64 MiB", 64 << 20, false},
		{"1.5GB", 1_500_000_000, false},
		{"1.5GiB", 3 << 29, false},
		{"512KiB", 512 << 10, false},
		{"2k", 2000, false},
		{"1,000,000", 1_000_000, false},
		{" 8MiB ", 8 << 20, false},
		{"9223372036854775807", 1<<63 - 1, false},
		{"", 0, true},
		{"-1", 0, true},
		{"-10MB", 0, true},
		{"10XB", 0, true},
		{"MB", 0, true},
		{"1e6", 0, true},
		{"twelve", 0, true},
		{"9223372036854775808", 0, true}, // over int64
		{"20EiB", 0, true},               // over uint64
	}
	for _, c := range cases {
		var v int64 = -7
		err := byteSize{&v}.Set(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("Set(%q) = %d, want an error", c.in, v)
			}
			continue
		}
		if err != nil || v != c.want {
			t.Errorf("Set(%q) = %d, %v; want %d", c.in, v, err, c.want)
			continue
		}
		var back int64
		if err := (byteSize{&back}).Set(byteSize{&v}.String()); err != nil || back != v {
			t.Errorf("%d prints as %q, which parses to %d (%v)", v, byteSize{&v}.String(), back, err)
		}
	}
	for n, want := range map[int64]string{64 << 20: "64 MiB", 1_000_000_000: "1 GB", 8 << 20: "8 MiB", 1536: "1536", 1_024_000: "1000 KiB", 2000: "2 kB", 0: "0", 7: "7"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSizeFlagsOnCommands: the byte-size flags of every command take units,
// show readable defaults in -h, and a bad value is a usage error (exit
// status 2) naming the flag.
func TestSizeFlagsOnCommands(t *testing.T) {
	for _, c := range []struct {
		cmd, flag, def string
	}{
		{"crawl", "max-body", "64 MiB"},
		{"crawl", "max-parse", "8 MiB"},
		{"crawl", "warc-size", "1 GB"},
		{"run", "max-body", "64 MiB"},
		{"run", "max-parse", "8 MiB"},
		{"run", "warc-size", "1 GB"},
		{"discover", "warc-size", "1 GB"},
		{"demo", "max-body", "64 MiB"},
	} {
		stdout, _, status := runCLI(t, c.cmd, "-h")
		line := ""
		for _, l := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "--"+c.flag+" ") {
				line = l
			}
		}
		if status != 0 || !strings.Contains(line, "(default "+c.def+")") {
			t.Errorf("crawl %s -h: --%s shows %q (status %d), want default %s", c.cmd, c.flag, line, status, c.def)
		}
		_, stderr, status := runCLI(t, c.cmd, "--archive", t.TempDir(), "--"+c.flag, "ten megs", "x.test")
		if status != 2 || !strings.Contains(stderr, "-"+c.flag) || !strings.Contains(stderr, "ten megs") {
			t.Errorf("crawl %s --%s 'ten megs': status %d, want 2 naming the flag\n%s", c.cmd, c.flag, status, stderr)
		}
	}
	// A good value reaches the command: it parses, then fails for another
	// reason (no such archive content), not as a usage error.
	e := &env{cmd: &command{name: "crawl"}, stdout: io.Discard, stderr: &bytes.Buffer{}}
	e.fs = flag.NewFlagSet("t", flag.ContinueOnError)
	cfg := e.crawlFlags()
	w := e.warcFlags()
	if _, err := e.parse([]string{"--max-body", "10MB", "--max-parse", "1.5MiB", "--warc-size", "64MiB"}); err != nil {
		t.Fatal(err)
	}
	if cfg.MaxBody != 10_000_000 || cfg.Parse.MaxBody != 3<<19 || w.size != 64<<20 {
		t.Errorf("parsed %d %d %d", cfg.MaxBody, cfg.Parse.MaxBody, w.size)
	}
}
