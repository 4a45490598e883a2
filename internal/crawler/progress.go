package crawler

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stats are the live counters behind the progress display.
type stats struct {
	start       time.Time
	sitesDone   atomic.Int64
	sitesActive atomic.Int64
	sitesQueued atomic.Int64
	pages       atomic.Int64
	bytes       atomic.Int64
	errors      atomic.Int64
	revisits    atomic.Int64
	resumed     atomic.Int64 // entries completed from a capture an interrupted run wrote
}

func (s *stats) reset(sites int) {
	s.start = time.Now()
	s.sitesDone.Store(0)
	s.sitesActive.Store(0)
	s.sitesQueued.Store(int64(sites))
	s.pages.Store(0)
	s.bytes.Store(0)
	s.errors.Store(0)
	s.revisits.Store(0)
	s.resumed.Store(0)
}

func (s *stats) line() string {
	el := time.Since(s.start)
	pages := s.pages.Load()
	rate := 0.0
	if el > 0 {
		rate = float64(pages) / el.Seconds()
	}
	return fmt.Sprintf("sites %d done, %d active, %d queued | %d captures (%d revisits), %s, %.1f/s | %d errors | %s",
		s.sitesDone.Load(), s.sitesActive.Load(), s.sitesQueued.Load(), pages, s.revisits.Load(),
		humanBytes(s.bytes.Load()), rate, s.errors.Load(), el.Truncate(time.Second))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// startProgress shows the status until the returned stop is called: on a
// terminal one line redrawn twice a second, otherwise a line every
// ProgressInterval.
func (c *Crawler) startProgress() (stop func()) {
	w := c.cfg.Progress
	if w == nil {
		return func() {}
	}
	every := c.cfg.ProgressInterval
	if c.cfg.ProgressIsTerminal {
		every = 500 * time.Millisecond
	}
	if every <= 0 {
		every = 10 * time.Second
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				if c.cfg.ProgressIsTerminal {
					fmt.Fprintf(w, "\r\033[K%s\n", c.stats.line())
				}
				return
			case <-t.C:
				if c.cfg.ProgressIsTerminal {
					fmt.Fprintf(w, "\r\033[K%s", c.stats.line())
				} else {
					fmt.Fprintf(w, "crawl: %s\n", c.stats.line())
				}
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// printSummary writes one line per site at the end of a run.
func (c *Crawler) printSummary(sum Summary) {
	w := c.cfg.Progress
	if w == nil {
		return
	}
	for _, r := range sum.Sites {
		note := r.Reason
		if r.Skipped {
			note = strings.TrimSpace("finished earlier " + note)
		}
		line := fmt.Sprintf("%-40s %-8s %6d captures %10s %4d errors  %s", r.Name, r.Status, r.Pages, humanBytes(r.Bytes), r.Errors, note)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	stopped := ""
	if sum.Stopped {
		stopped = " (stopped; run again to resume)"
	}
	fmt.Fprintf(w, "%d sites, %d captures, %s, %d errors in %s%s\n", len(sum.Sites), sum.Pages, humanBytes(sum.Bytes), sum.Errors, sum.Elapsed.Truncate(time.Millisecond), stopped)
}
