package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"crawl/internal/archive"
	"crawl/internal/bytesize"
	"crawl/internal/index"
	"crawl/internal/world"
)

func demoCommand() *command {
	return &command{
		name:    "demo",
		summary: "start the built-in local world and run the main job on it",
		detail: `Starts a small fictional country on loopback addresses (nameservers for the
TLD test. and its zones, and some thirty web sites), runs 'crawl run test.' on it
into --archive (default: a fresh folder it names), prints what it found and
captured, and stops the world. Nothing leaves this machine. The crawl is polite
but quick (--delay 20ms), since the servers are our own.`,
		run: runDemo,
	}
}

func runDemo(ctx context.Context, e *env, args []string) error {
	df := e.discoverFlags()
	cfg := e.crawlFlags()
	cfg.Delay = 20 * time.Millisecond
	e.fs.Lookup("delay").DefValue = cfg.Delay.String()
	w := e.warcFlags()
	if err := e.parseNone(args); err != nil {
		return err
	}
	archiveSet := false
	e.fs.Visit(func(f *flag.Flag) { archiveSet = archiveSet || f.Name == "archive" })
	if !archiveSet {
		dir, err := os.MkdirTemp("", "crawl-demo-")
		if err != nil {
			return err
		}
		e.archive = dir
	}
	if err := e.lockArchive(); err != nil {
		return err
	}
	start := time.Now()
	wd, err := world.Start(ctx, world.Options{Logger: e.log.With("component", "world")})
	if err != nil {
		return fmt.Errorf("start the local world: %w", err)
	}
	defer wd.Close()
	fmt.Fprintf(e.stdout, "The local world is up: nameserver %s for the TLD %q, %d web sites on 127.1.x.y.\n",
		wd.Nameserver(), wd.TLD()+".", len(wd.Sites()))
	fmt.Fprintf(e.stdout, "Running the main job into %s …\n\n", e.archive)

	df.cfg.Port = wd.DNSPort()
	df.ns = append(df.ns, wd.Nameserver())
	cfg.ConnectTo = append(cfg.ConnectTo, wd.ConnectTo()...)
	// The world lives on loopback, which a crawl refuses unless opened.
	cfg.AllowAddresses = append(cfg.AllowAddresses, netip.MustParsePrefix("127.0.0.0/8"))
	res, err := runMainJob(ctx, e, df, cfg, w, []string{wd.TLD()})
	if err != nil {
		return err
	}
	return printDemoSummary(ctx, e, res, time.Since(start))
}

func printDemoSummary(ctx context.Context, e *env, res *runResult, took time.Duration) error {
	out := e.stdout
	layout := archive.Layout{Root: e.archive}
	files, _ := warcFiles(layout)
	var warcBytes int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			warcBytes += fi.Size()
		}
	}
	d := res.discovery.summary
	fmt.Fprintf(out, "\nFound:    %d zones (%d transferred, %d refused a transfer and were probed), %d hosts, %d of them web hosts\n",
		d.Zones, d.Transferred, d.Probed, d.Hosts, d.Roles["web"])
	c := res.crawl
	fmt.Fprintf(out, "Captured: %d responses (pages, requisites, robots.txt) from %d sites, %s, %d fetch errors, in %s\n",
		c.Pages, len(c.Sites), bytesize.Format(c.Bytes), c.Errors, took.Round(100*time.Millisecond))
	fmt.Fprintf(out, "Written:  %d WARC files (%s) in %s\n", len(files), bytesize.Format(warcBytes), layout.WARCDir())

	r, err := openReader(ctx, e, true)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Fprintln(out, "\nA few headlines (an EUC-KR site, a UTF-8 one, an English one; decoded):")
	for _, site := range []string{"library.edu.test", "portal.gov.test", "airline.com.test"} {
		// Some sites serve their pages on www only.
		for _, host := range []string{site, "www." + site} {
			rows, err := r.Headlines(ctx, host)
			if err != nil || len(rows) == 0 {
				continue
			}
			for _, h := range rows[:min(3, len(rows))] {
				fmt.Fprintf(out, "  %-22s %-5s %s\n", host, h.Tag, clip(h.Text, 60))
			}
			break
		}
	}
	// 서울 sits inside longer words (서울에서): found only thanks to Hangul
	// bigrams. "stations" finds "station": English stemming.
	for _, q := range []string{"서울", "stations"} {
		hits, err := r.Search(ctx, index.SearchRequest{Query: q, Limit: 3})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\nSearch %q: %d best hits\n", q, len(hits))
		for _, h := range hits {
			fmt.Fprintf(out, "  %.2f  %s\n        %s\n", h.Score, h.URL, clip(strings.Join(strings.Fields(plainSnippet(h.Snippet)), " "), 90))
		}
	}
	self := "go run ./cmd/crawl"
	if exe, err := os.Executable(); err == nil && !strings.Contains(exe, "go-build") {
		self = filepath.Base(exe)
	}
	a := e.archive
	fmt.Fprintf(out, `
Explore the archive:
  %[1]s hosts --archive %[2]s
  %[1]s captures --archive %[2]s portal.gov.test
  %[1]s headlines --archive %[2]s library.edu.test
  %[1]s links --archive %[2]s friend.com.test
  %[1]s search --archive %[2]s '평양'
  %[1]s cdx --archive %[2]s > index.cdxj
  %[1]s wacz --archive %[2]s archive.wacz      (a package replayweb.page opens)
The WARC files in %[3]s open in replayweb.page or pywb.

Browse, search and replay the archive in your web browser:
  %[1]s serve --archive %[2]s
and open http://127.0.0.1:8080/
`, self, a, layout.WARCDir())
	return nil
}
