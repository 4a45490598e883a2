// Command crawl finds every website of a DNS zone and archives it: zone
// transfer -> hosts -> polite crawl -> WARC files -> index with full-text
// search. `crawl help` lists the subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "crawl: %v: stopping (finishing fetches in flight; signal again to quit at once)\n", sig)
		cancel()
		<-signals
		// Records are written whole and synchronously, so at most the one
		// being written is cut; the next start mends the .open file.
		fmt.Fprintln(os.Stderr, "crawl: quitting at once; the next run repairs the open WARC file")
		os.Exit(130)
	}()
	stopProfile := startCPUProfile(os.Getenv("CRAWL_CPUPROFILE"))
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	stopProfile()
	os.Exit(exitStatus(err, os.Stderr))
}

// startCPUProfile writes a CPU profile of the whole run to path when it is
// set (the CRAWL_CPUPROFILE environment variable, used by scripts/bench;
// read it with `go tool pprof -top FILE`). The quick exit of a second
// signal loses the profile.
func startCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crawl: CRAWL_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
