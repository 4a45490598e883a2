package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"crawl/internal/bytesize"
	"crawl/internal/crawler"
	"crawl/internal/discover"
	"crawl/internal/index"
)

func runCommand() *command {
	return &command{
		name:    "run",
		args:    "ZONE...",
		summary: "discover, then crawl, then index, in one go: the main job",
		detail: `Runs 'crawl discover' on the zones, then 'crawl crawl' on every web host found
(grouped by site), indexing every record as it is written. It takes the flags of
both. Run it again to resume an interrupted crawl.`,
		run: runRun,
	}
}

// runResult is what one main job did, for printing.
type runResult struct {
	discovery *discovery
	crawl     *crawler.Summary
}

func runRun(ctx context.Context, e *env, args []string) error {
	df := e.discoverFlags()
	cfg := e.crawlFlags()
	w := e.warcFlags()
	zones, err := e.parse(args)
	if err != nil {
		return err
	}
	if err := df.check(e, zones); err != nil {
		return err
	}
	res, err := runMainJob(ctx, e, df, cfg, w, zones)
	if res != nil && res.crawl != nil {
		printCrawlSummary(e, res.crawl)
	}
	return err
}

// runMainJob discovers hosts, crawls the web hosts found and indexes all of
// it, in one session of the archive.
func runMainJob(ctx context.Context, e *env, df *discoverFlags, cfg *crawler.Config, w *warcOptions, zones []string) (*runResult, error) {
	e.limitMemory()
	s, err := openSession(e, w, robotsPolicy(cfg), true)
	if err != nil {
		return nil, err
	}
	res := &runResult{}
	res.discovery, err = runDiscovery(ctx, e, s, df, zones, nil)
	if res.discovery != nil {
		printDiscoverySummary(e, res.discovery.summary)
	}
	if err != nil {
		s.Close()
		return res, err
	}
	sites := sitesFromHosts(hostRows(res.discovery.web))
	if len(sites) == 0 {
		s.Close()
		return res, errors.New("discovery found no web host to crawl")
	}
	e.log.Info("crawling", "sites", len(sites))
	res.crawl, err = crawlSites(ctx, e, s, cfg, w, sites)
	if err == nil {
		// The main job ends with everything searchable; the search index
		// trailed the crawl (it never holds it up).
		err = finishSearch(ctx, e, s.index)
	}
	if cerr := s.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return res, err
}

// hostRows turns discovered hosts into the index's row form, so that run
// and crawl group hosts into sites the same way.
func hostRows(hosts []discover.Host) []index.HostRow {
	rows := make([]index.HostRow, 0, len(hosts))
	for _, h := range hosts {
		rows = append(rows, index.HostRow{Host: h.Name, Site: h.Site, Role: h.Role, Addrs: h.Addrs})
	}
	return rows
}

// finishSearch waits for the search index to take in what the crawl wrote,
// saying so when there is much left.
func finishSearch(ctx context.Context, e *env, ix *index.Index) error {
	start := time.Now()
	said := false
	err := ix.FinishSearch(ctx, func(done, total int64) {
		if !said && total > 0 && time.Since(start) > time.Second {
			said = true
			fmt.Fprintf(e.stderr, "crawl: the search index is catching up (%s of records left)\n", bytesize.Format(total-done))
		}
	})
	if err != nil && ctx.Err() != nil {
		return errInterrupted
	}
	return err
}
