package discover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// messages is a slog handler that keeps only the messages, for golden files.
type messages struct {
	mu   sync.Mutex
	list []string
}

func (m *messages) Enabled(context.Context, slog.Level) bool { return true }
func (m *messages) Handle(_ context.Context, r slog.Record) error {
	m.mu.Lock()
	m.list = append(m.list, r.Level.String()+" "+r.Message)
	m.mu.Unlock()
	return nil
}
func (m *messages) WithAttrs([]slog.Attr) slog.Handler { return m }
func (m *messages) WithGroup(string) slog.Handler      { return m }

// TestZoneFiles reads each file under testdata offline and compares the
// hosts (JSON lines), the warnings and the counts with its golden file.
func TestZoneFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.zone")
	txt, _ := filepath.Glob("testdata/*.txt")
	dig, _ := filepath.Glob("testdata/*.dig")
	files = append(append(files, txt...), dig...)
	if len(files) < 4 {
		t.Fatalf("testdata has only %v", files)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var c collector
			msgs := &messages{}
			cfg := c.config(Config{Offline: true, Logger: slog.New(msgs)})
			sum, err := ReadZoneFiles(context.Background(), cfg, file)
			var out bytes.Buffer
			var lines []string
			for _, h := range c.hosts {
				b, _ := json.Marshal(h)
				lines = append(lines, string(b))
			}
			slices.Sort(lines)
			for _, l := range lines {
				out.WriteString(l + "\n")
			}
			for _, m := range msgs.list {
				out.WriteString("# " + m + "\n")
			}
			fmt.Fprintf(&out, "# zones=%d hosts=%d roles=%v problems=%d dropped=%d %v err=%v\n",
				sum.Zones, sum.Hosts, sum.Roles, sum.Errors, sum.Dropped, sum.Drops, err)
			golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%s differs from %s (run with -update after checking):\n%s", file, golden, out.String())
			}
		})
	}
}

// A bad line is reported as FILE:LINE: CAUSE, and every good line after it
// is still read.
func TestZoneFileBadLines(t *testing.T) {
	text := "$ORIGIN z.test.\n" + // 1
		"@ SOA ns h 1 1 1 1 1\n" + // 2
		"@ NS ns\n" + // 3
		"ns A 192.0.2.1\n" + // 4
		"a A 300.1.1.1\n" + // 5
		"b A 192.0.2.2\n" + // 6
		"c AAAA not-an-address\n" + // 7
		"d IN IN IN\n" + // 8
		"e A 192.0.2.3\n" + // 9
		"f A 192.0.2.4 (\n" + // 10: unclosed paren runs to the end
		"g A 192.0.2.5\n" // 11
	msgs := &messages{}
	got, sum, err := readText(t, text, Config{Logger: slog.New(msgs)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"b.z.test", "e.z.test"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want+" ") }) {
			t.Errorf("%s lost after a bad line; got %v", want, got)
		}
	}
	var lines []string
	for _, m := range msgs.list {
		if strings.Contains(m, ErrBadLine.Error()) {
			lines = append(lines, strings.SplitN(strings.TrimPrefix(m, "WARN "), ": ", 2)[0])
		}
	}
	if want := []string{"-:5", "-:7", "-:8"}; len(lines) < 3 || !slices.Equal(lines[:3], want) {
		t.Errorf("bad lines reported at %v, want %v first (messages %q)", lines, want, msgs.list)
	}
	if sum.Dropped < 3 {
		t.Errorf("skipped %d", sum.Dropped)
	}
}

func TestReadZoneFilesErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := ReadZoneFiles(ctx, Config{Offline: true}); err == nil {
		t.Error("no file: no error")
	}
	// A missing file, and "-" without standard input, fail before any
	// work (TestZoneFileMissing has more).
	for _, files := range [][]string{{"testdata/does-not-exist.zone", "testdata/multi.zone"}, {"-", "testdata/multi.zone"}} {
		hosts := 0
		_, err := ReadZoneFiles(ctx, Config{Offline: true, OnHost: func(Host) { hosts++ }}, files...)
		if !errors.Is(err, ErrZoneFile) || !strings.Contains(err.Error(), files[0]) || hosts > 0 {
			t.Errorf("%v: error %v after %d hosts, want it to name %s before any", files, err, hosts, files[0])
		}
	}
	// MaxRecords bounds a zone read from a file too.
	msgs := &messages{}
	sum, _ := ReadZoneFiles(ctx, Config{Offline: true, MaxRecords: 5, Logger: slog.New(msgs)}, "testdata/dig-axfr.txt")
	if sum.Dropped == 0 || !slices.ContainsFunc(msgs.list, func(s string) bool { return strings.Contains(s, ErrTooManyRecords.Error()) }) {
		t.Errorf("max records: %+v %v", sum, msgs.list)
	}
}

// FuzzReadZone feeds arbitrary bytes to the zone-file reader: it must not
// panic, must end, and must report only well-formed hosts.
func FuzzReadZone(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.zone")
	txt, _ := filepath.Glob("testdata/*.txt")
	dig, _ := filepath.Glob("testdata/*.dig")
	bin, _ := filepath.Glob("testdata/*.bin")
	for _, file := range slices.Concat(files, txt, dig, bin) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("$ORIGIN x.\n@ SOA a b 1 2 3 4 5\n( \n"))
	f.Add([]byte("a. NS b.a.\nb.a. A 1.2.3.4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{Offline: true, Stdin: bytes.NewReader(data), MaxRecords: 10000}
		cfg.OnHost = func(h Host) {
			if h.Name == "" || h.Site == "" || h.Addrs == nil || strings.HasSuffix(h.Name, ".") && h.Name != "." {
				t.Errorf("malformed host %+v", h)
			}
			if h.Name != strings.ToLower(h.Name) {
				t.Errorf("host name not lowercase: %q", h.Name)
			}
			switch h.Role {
			case RoleWeb, RoleNameserver, RoleMail, RoleNone:
			default:
				t.Errorf("role %q", h.Role)
			}
		}
		ReadZoneFiles(context.Background(), cfg, "-")
	})
}

// Each zone file is closed once it is read, so a run over thousands of
// files does not run out of descriptors before the hosts are reported.
func TestZoneFilesClosed(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	openFiles := func() int {
		fds, _ := os.ReadDir("/proc/self/fd")
		return len(fds)
	}
	dir := t.TempDir()
	var files []string
	for i := range 50 {
		name := filepath.Join(dir, fmt.Sprintf("z%d.zone", i))
		text := fmt.Sprintf("$ORIGIN z%d.test.\n@ SOA ns h 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n", i)
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	before, most := openFiles(), 0
	cfg := Config{Offline: true, Logger: testLogger(t), OnHost: func(Host) { most = max(most, openFiles()) }}
	sum, err := ReadZoneFiles(context.Background(), cfg, files...)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != len(files) {
		t.Errorf("read %d files, want %d", sum.Files, len(files))
	}
	if most > before+len(files)/2 {
		t.Errorf("%d files open while reporting hosts (%d before): zone files are kept open", most, before)
	}
}

// After a bad line the parser may already have read into the next line;
// that line is read again, not lost. (Found by FuzzDigAnswers.)
func TestBadLineReadPast(t *testing.T) {
	text := "$ORIGIN z.test.\n@ SOA ns host 1 2 3 4 5\nbad SOA\nkept A 192.0.2.9\nwww A 192.0.2.10\n"
	got, sum, err := readText(t, text, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "kept.z.test ") }) || sum.Drops[DropBadLine] != 1 {
		t.Errorf("the line after the bad one was lost: %v %v", got, sum.Drops)
	}
}
