// Command crawl finds every website of a DNS zone and archives it: zone
// transfer -> hosts -> polite crawl -> WARC files -> index with full-text
// search. `crawl help` lists the subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
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
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(exitStatus(err, os.Stderr))
}
