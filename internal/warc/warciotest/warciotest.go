// Package warciotest runs tools/warcio-check, an independent reader of WARC
// files built on webrecorder's warcio.js, from Go tests: Check verifies files
// (parsing, block and payload digests, request/response pairs, warcinfo),
// CDXJ returns warcio's own CDXJ lines for them.
//
// The tool needs Node and `npm ci` in tools/warcio-check. Without them the
// tests skip, except under CI=true, where they fail: CI must never pass
// without the independent check.
package warciotest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tool returns the folder of tools/warcio-check, or skips (fails under
// CI=true) when it cannot run.
func Tool(t testing.TB) string {
	t.Helper()
	unavailable := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("warcio-check unavailable under CI: %s", why)
		}
		t.Skipf("warcio-check unavailable: %s", why)
	}
	root, err := moduleRoot()
	if err != nil {
		unavailable(err.Error())
		return ""
	}
	dir := filepath.Join(root, "tools", "warcio-check")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "warcio")); err != nil {
		unavailable("run `npm ci` in " + dir)
		return ""
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node is not installed")
		return ""
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Run runs the tool's command ("check" or "cdxj") on files and returns its
// stdout, stderr and whether it exited 0.
func Run(t testing.TB, cmd string, files ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	dir := Tool(t)
	abs := make([]string, len(files))
	for i, f := range files {
		a, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		abs[i] = a
	}
	c := exec.Command("node", append([]string{filepath.Join(dir, "check.mjs"), cmd}, abs...)...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			t.Fatalf("run warcio-check: %v", err)
		}
	}
	return out.String(), errb.String(), err == nil
}

// Check fails the test unless warcio-check accepts every file.
func Check(t testing.TB, files ...string) {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("warciotest.Check: no files")
	}
	_, stderr, ok := Run(t, "check", files...)
	if !ok {
		t.Fatalf("warcio-check rejects %s:\n%s", strings.Join(files, " "), stderr)
	}
}

// CDXJ returns warcio's CDXJ lines for files, in warcio's order (file
// order, not sorted). Filenames in the lines are base names.
func CDXJ(t testing.TB, files ...string) []string {
	t.Helper()
	stdout, stderr, ok := Run(t, "cdxj", files...)
	if !ok {
		t.Fatalf("warcio cdxj failed on %s:\n%s", strings.Join(files, " "), stderr)
	}
	var lines []string
	for _, l := range strings.Split(stdout, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
