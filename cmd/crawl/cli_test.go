package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"crawl/internal/index"
)

// runCLI runs the program in-process and returns stdout, stderr and the exit status.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	status := exitStatus(err, &stderr)
	return stdout.String(), stderr.String(), status
}

func TestUsageAndExitStatus(t *testing.T) {
	archive := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		status     int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, 2, "", "no command given"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help lists commands", []string{"help"}, 0, "discover ZONE...", ""},
		{"help of a command", []string{"help", "crawl"}, 0, "--host-parallel", ""},
		{"-h shows defaults", []string{"crawl", "-h"}, 0, "(default 1s)", ""},
		{"search -h documents syntax", []string{"search", "-h"}, 0, "--limit", ""},
		{"unknown flag", []string{"hosts", "--frob"}, 2, "", "flag provided but not defined: -frob"},
		{"bad duration", []string{"crawl", "--delay", "soon"}, 2, "", "invalid value \"soon\""},
		{"bad address range", []string{"crawl", "--allow-addresses", "10.0.0.0/33"}, 2, "", "want a CIDR prefix"},
		{"discover needs a zone", []string{"discover", "--archive", archive}, 2, "", "name a ZONE or give --zone-file"},
		{"offline needs a zone file", []string{"discover", "--archive", archive, "--offline", "kp."}, 2, "", "--offline reads zones from --zone-file only"},
		{"hosts takes no arguments", []string{"hosts", "x", "--archive", archive}, 2, "", "hosts takes no arguments"},
		{"captures needs one host", []string{"captures", "--archive", archive}, 2, "", "name exactly one HOST"},
		{"empty archive is a failure", []string{"hosts", "--archive", archive}, 1, "", "crawl: "},
		{"cdx of an empty archive", []string{"cdx", "--archive", archive}, 1, "", "no WARC files"},
		{"serve takes no arguments", []string{"serve", "x", "--archive", archive}, 2, "", "serve takes no arguments"},
		{"serve of an empty archive", []string{"serve", "--archive", archive, "--listen", "127.0.0.1:0"}, 1, "", "no index yet"},
		{"wacz needs OUT.wacz", []string{"wacz", "--archive", archive}, 2, "", "name exactly one OUT.wacz"},
		{"wacz names a .wacz", []string{"wacz", "--archive", archive, "x.zip"}, 2, "", "must end in .wacz"},
		{"version", []string{"version"}, 0, "crawl ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, status := runCLI(t, tc.args...)
			if status != tc.status {
				t.Errorf("exit status %d, want %d (stderr %q)", status, tc.status, stderr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.wantStderr)
			}
			if tc.status == 1 && strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(stderr, "level=") {
				t.Errorf("a failure must be one line, got %q", stderr)
			}
		})
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	e := &env{cmd: &command{name: "x"}, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	e.fs = newFlagSet(e)
	limit := e.fs.Int("limit", 10, "")
	pos, err := e.parse([]string{"a", "--limit", "3", "b", "--json", "--", "--c"})
	if err != nil {
		t.Fatal(err)
	}
	if *limit != 3 || !e.json {
		t.Errorf("flags after arguments not parsed: limit %d json %v", *limit, e.json)
	}
	if got := strings.Join(pos, " "); got != "a b --c" {
		t.Errorf("positional %q, want %q", got, "a b --c")
	}
}

func TestSitesFromTargets(t *testing.T) {
	known := []index.HostRow{
		{Host: "friend.com.test", Addrs: []string{"127.1.0.10"}},
		{Host: "xn--og5b13x.com.test", Addrs: []string{"127.1.0.20"}},
	}
	e := &env{cmd: &command{name: "crawl"}}
	tests := []struct {
		target, site, addrs, seed string
	}{
		{"Friend.COM.test.", "friend.com.test", "127.1.0.10", ""},
		{"HTTP://Friend.Com.Test:80/a/../b#frag", "friend.com.test", "127.1.0.10", "http://friend.com.test/b"},
		{"평양.com.test", "xn--og5b13x.com.test", "127.1.0.20", ""},
		{"http://평양.com.test/", "xn--og5b13x.com.test", "127.1.0.20", "http://xn--og5b13x.com.test/"},
		{"unknown.test", "unknown.test", "", ""},
	}
	for _, tc := range tests {
		sites, err := sitesFromTargets(e, []string{tc.target}, known)
		if err != nil {
			t.Errorf("%s: %v", tc.target, err)
			continue
		}
		s := sites[0]
		if s.Name != tc.site || strings.Join(s.Hosts[0].Addrs, ",") != tc.addrs || strings.Join(s.Seeds, ",") != tc.seed {
			t.Errorf("%s: site %s addrs %v seeds %v; want %s %s %q", tc.target, s.Name, s.Hosts[0].Addrs, s.Seeds, tc.site, tc.addrs, tc.seed)
		}
	}
	for _, bad := range []string{"ftp://friend.com.test/", "friend.com.test/path", "http://"} {
		if _, err := sitesFromTargets(e, []string{bad}, known); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
