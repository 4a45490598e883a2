package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"crawl/internal/archive"
	"crawl/internal/crawler"
)

// version names crawl in warcinfo records and `crawl version`; the crawler
// names itself with the same in its default User-Agent.
const version = crawler.Version

// command is one subcommand of crawl.
type command struct {
	name    string
	args    string // the synopsis after the flags, e.g. "ZONE..."
	summary string
	detail  string // more help, shown by `crawl CMD -h`
	run     func(ctx context.Context, e *env, args []string) error
}

// env is what every subcommand gets: its flag set, the common flags and the
// output streams.
type env struct {
	cmd    *command
	fs     *flag.FlagSet
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger

	archive     string
	json        bool
	verbose     bool
	memoryLimit int64 // --memory-limit of crawl, run and demo

	// liveSearch is --live-search of crawl, run and demo (auto, on, off);
	// delay is their --delay, which auto goes by.
	liveSearch string
	delay      *time.Duration

	// lock is this process's hold on the archive, taken by a command that
	// writes it (lockArchive) and let go when the command returns.
	lock *archive.Lock
}

func commands() []*command {
	return []*command{
		discoverCommand(),
		crawlCommand(),
		runCommand(),
		hostsCommand(),
		capturesCommand(),
		headlinesCommand(),
		linksCommand(),
		searchCommand(),
		cdxCommand(),
		serveCommand(),
		waczCommand(),
		reindexCommand(),
		demoCommand(),
	}
}

// usageError is a mistake in the command line: exit status 2, with the usage.
type usageError struct {
	cmd *command
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd *command, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned after help was printed on request: exit status 0.
var errHelp = errors.New("help shown")

// errInterrupted ends a run stopped by a signal: exit status 130, as a
// shell reports SIGINT, so that scripts know the work is not finished.
var errInterrupted = errors.New("interrupted: run the same command again to resume")

// exitStatus prints err's one-line cause and maps it to the exit status:
// 0 success, 2 usage error, 1 any other failure.
func exitStatus(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(stderr, "crawl: %v\n", err)
		return 130
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "crawl: %s\n", ue.msg)
		if ue.cmd != nil {
			fmt.Fprintf(stderr, "usage: crawl %s [flags] %s\nrun 'crawl %s -h' for the flags\n", ue.cmd.name, ue.cmd.args, ue.cmd.name)
		} else {
			fmt.Fprintln(stderr, "run 'crawl help' for the commands")
		}
		return 2
	default:
		fmt.Fprintf(stderr, "crawl: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printHelp(stderr)
		return usagef(nil, "no command given")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				return runCommand0(ctx, c, []string{"-h"}, stdout, stderr)
			}
			return usagef(nil, "unknown command %q", args[1])
		}
		printHelp(stdout)
		return errHelp
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "crawl %s\n", version)
		return nil
	}
	c := lookup(name)
	if c == nil {
		return usagef(nil, "unknown command %q", name)
	}
	return runCommand0(ctx, c, args[1:], stdout, stderr)
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// runCommand0 builds the flag set of c, parses args and runs it.
func runCommand0(ctx context.Context, c *command, args []string, stdout, stderr io.Writer) error {
	// Logs and the crawler's progress write to stderr from several
	// goroutines; run accepts any writer, so serialise them.
	e := &env{cmd: c, stdout: stdout, stderr: &lockedWriter{w: stderr}}
	e.fs = newFlagSet(e)
	// Each command registers its own flags on e.fs, then calls e.parse.
	err := c.run(ctx, e, args)
	if uerr := e.lock.Unlock(); uerr != nil && err == nil {
		err = uerr
	}
	return err
}

// newFlagSet makes a command's flag set with the flags every command has.
func newFlagSet(e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("crawl "+e.cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.archive, "archive", "./archive", "archive `DIR` shared by discover, crawl and the index")
	fs.BoolVar(&e.json, "json", false, "print JSON lines instead of a table")
	fs.BoolVar(&e.verbose, "v", false, "log details (debug level) on stderr")
	return fs
}

// parse parses args with flags allowed before and after the positional
// arguments, and sets up logging. It returns the positional arguments.
func (e *env) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := e.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				e.printUsage(e.stdout)
				return nil, errHelp
			}
			return nil, usagef(e.cmd, "%v", err)
		}
		rest := e.fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stops at the first non-flag; a literal "--" ends flags for good.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	level := slog.LevelInfo
	if e.verbose {
		level = slog.LevelDebug
	}
	e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	return positional, nil
}

// parseNone parses the flags of a command that takes no arguments.
func (e *env) parseNone(args []string) error {
	pos, err := e.parse(args)
	if err == nil && len(pos) != 0 {
		err = usagef(e.cmd, "%s takes no arguments", e.cmd.name)
	}
	return err
}

func (e *env) printUsage(w io.Writer) {
	c := e.cmd
	fmt.Fprintf(w, "usage: crawl %s [flags] %s\n\n%s\n", c.name, c.args, c.summary)
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.detail))
	}
	fmt.Fprintln(w, "\nflags:")
	var names []string
	e.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, n := range names {
		f := e.fs.Lookup(n)
		typ, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(n) == 1 {
			dash = "-"
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s%s %s\t%s%s\n", dash, n, typ, usage, def)
	}
	tw.Flush()
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, `crawl %s: find every website of a DNS zone and archive it as WARC files.

usage: crawl COMMAND [flags] [arguments]

commands:
`, version)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Every command takes --archive DIR (default ./archive), --json for JSON lines
on stdout, and -v for debug logs on stderr. Flags may come before or after the
arguments. 'crawl COMMAND -h' describes every flag with its default.
Exit status: 0 success, 1 failure (with a one-line cause), 2 usage error.
`)
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// isTerminal reports whether w is a terminal, for live progress.
func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		w = l.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
