// Command zonegen writes a large synthetic zone for measuring discovery
// (see package crawl/internal/zonegen) on stdout.
//
//	go run ./cmd/zonegen -n 1000000 -zone test > /tmp/big.zone
//	/usr/bin/time -v crawl discover --zone-file /tmp/big.zone ...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"crawl/internal/zonegen"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of delegations")
	zone := flag.String("zone", "test", "zone apex")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := zonegen.Write(w, *zone, *n); err != nil {
		fmt.Fprintln(os.Stderr, "zonegen:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "zonegen:", err)
		os.Exit(1)
	}
}
