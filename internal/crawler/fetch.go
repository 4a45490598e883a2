package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gocolly/colly/v2"

	"crawl/internal/archive"
	"crawl/internal/page"
	"crawl/internal/warc"
	"crawl/internal/wire"
)

// fetched is one fetch's outcome, as the crawler needs it after archiving.
type fetched struct {
	ex      *wire.Exchange
	status  int
	header  http.Header
	body    []byte      // decoded (gzip/deflate) and capped at Parse.MaxBody, for parsing
	page    *page.Page  // the body parsed as HTML (Crawler.parse), nil if it is not
	css     []page.Link // the body's url()s when it is a style sheet
	size    int64       // raw response bytes on the wire
	err     error       // no response
	aborted bool        // cut by cancellation
	// recordID is the WARC-Record-ID of the response (or revisit) record
	// archive wrote.
	recordID string
}

func (f *fetched) close() {
	if f.ex != nil {
		f.ex.Close()
	}
}

// fetch performs one GET through the colly collector, over the recording
// transport (see engine.go).
func (c *Crawler) fetch(ctx context.Context, u *url.URL) *fetched {
	f := &fetched{}
	tag := strconv.FormatUint(c.fetchID.Add(1), 10)
	p := &pending{ctx: ctx, u: u, f: f}
	c.pending.Store(tag, p)
	defer func() {
		c.pending.Delete(tag)
		if f.ex != nil {
			if f.ex.Response != nil {
				f.size = f.ex.Response.Size()
			}
			if f.err == nil && f.ex.Err != nil {
				f.err = f.ex.Err
			}
		}
	}()
	hdr := http.Header{}
	hdr.Set("User-Agent", c.ua)
	hdr.Set("Accept", "text/html,application/xhtml+xml,text/css,*/*;q=0.8")
	hdr.Set("Accept-Encoding", "gzip")
	hdr.Set(tagHeader, tag)
	cctx := colly.NewContext()
	cctx.Put(pendingKey, p)
	err := c.collector.Request(http.MethodGet, u.String(), nil, cctx, hdr)
	if err != nil && !p.got {
		// colly refused before sending (its URL parser, for one).
		f.err = fmt.Errorf("request %s: %w", u, err)
	}
	if f.err != nil {
		f.status, f.header, f.body = 0, nil, nil
	}
	f.aborted = ctx.Err() != nil
	return f
}

// archive writes a fetch as a request/response pair, or a FetchError record
// when no response came back.
func (c *Crawler) archive(sc *siteCrawl, u *url.URL, host string, f *fetched) error {
	now := time.Now().UTC()
	if f.ex != nil && f.ex.Response != nil {
		x := warcExchange(f.ex)
		if f.page != nil {
			x.Parsed = &page.Parsed{Page: f.page, Limits: c.cfg.Parse}
		}
		res, err := c.cfg.Writer.WriteExchange(x)
		if err != nil {
			return fmt.Errorf("archive %s: %w", u, err)
		}
		f.recordID = res.ResponseID
		c.stats.pages.Add(1)
		c.stats.bytes.Add(f.size)
		if res.Revisit {
			c.stats.revisits.Add(1)
		}
		if f.ex.CertError != "" {
			c.log.Info("certificate problem (recorded anyway)", "url", u.String(), "err", f.ex.CertError)
		}
		return nil
	}
	if f.err == nil {
		f.err = errors.New("no response recorded")
	}
	c.stats.errors.Add(1)
	fe := archive.FetchError{URL: u.String(), Host: host, Error: f.err.Error(), Time: now}
	if err := archive.WriteFetchError(c.cfg.Writer, fe); err != nil {
		return err
	}
	c.log.Debug("fetch failed", "url", u.String(), "err", f.err)
	return nil
}

// warcExchange converts a recorded exchange for warc.Writer.WriteExchange,
// with section readers of its own (the writer reads each body twice).
func warcExchange(ex *wire.Exchange) warc.Exchange {
	x := warc.Exchange{TargetURI: ex.URL, IP: ex.IP, Date: ex.Start, Truncated: ex.Truncated}
	if ex.Request != nil {
		x.Request = io.NewSectionReader(ex.Request, 0, ex.Request.Size())
	}
	if ex.Response != nil {
		x.Response = io.NewSectionReader(ex.Response, 0, ex.Response.Size())
	}
	return x
}
