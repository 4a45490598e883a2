package crawler

import (
	"context"
	"net/http"
	"net/url"
	"sync"

	"github.com/temoto/robotstxt"

	"crawl/internal/page"
)

func robotsPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// robotsSlot serialises the one robots.txt fetch of an origin.
type robotsSlot struct {
	mu     sync.Mutex
	loaded bool
	rules  *robotstxt.RobotsData // nil: everything allowed
}

// robotsFor returns the robots.txt rules of u's origin,
// fetching (and archiving) robots.txt once per origin and run; the answer is
// kept in the state so a resumed crawl does not ask again.
func (c *Crawler) robotsFor(siteCtx, fetchCtx context.Context, sc *siteCrawl, u *url.URL) (*robotstxt.RobotsData, error) {
	origin := u.Scheme + "://" + u.Host
	c.mu.Lock()
	slot := c.robots[origin]
	if slot == nil {
		slot = &robotsSlot{}
		c.robots[origin] = slot
	}
	c.mu.Unlock()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.loaded {
		return slot.rules, nil
	}
	rec, ok, err := c.state.robots(origin)
	if err != nil {
		return nil, err
	}
	if !ok {
		rec, err = c.fetchRobots(siteCtx, fetchCtx, sc, origin)
		if err != nil {
			return nil, err
		}
		if err := c.state.saveRobots(origin, rec); err != nil {
			return nil, err
		}
	}
	var rules *robotstxt.RobotsData
	if rec.Status != 0 {
		data, err := robotstxt.FromStatusAndBytes(rec.Status, rec.Body)
		if err != nil {
			// Unparseable or an odd status: a lenient reader allows all, as
			// browsers and most crawlers do.
			c.log.Debug("robots.txt unusable, allowing all", "origin", origin, "err", err)
		} else {
			rules = data
			if cd := data.FindGroup(robotsAgent).CrawlDelay; cd > 0 && !c.cfg.IgnoreRobots {
				c.polite.setDelay(hostOf(u), min(cd, c.cfg.CrawlDelayCap))
			}
		}
	}
	slot.rules, slot.loaded = rules, true
	return rules, nil
}

// robotsAgent is the product token robots.txt groups are matched against.
const robotsAgent = "crawl"

// robotsMaxRedirects follows RFC 9309 §2.3.1.2 (at least five hops).
const robotsMaxRedirects = 5

// robotsMaxBody: RFC 9309 asks crawlers to parse at least 500 KiB.
const robotsMaxBody = 512 << 10

func (c *Crawler) fetchRobots(siteCtx, fetchCtx context.Context, sc *siteCrawl, origin string) (*robotsRecord, error) {
	target := origin + "/robots.txt"
	var via []string // other origins whose robots.txt redirected here: the answer is theirs too
	answer := func(rec *robotsRecord) (*robotsRecord, error) {
		for _, o := range via {
			if err := c.state.saveRobots(o, rec); err != nil {
				return nil, err
			}
		}
		return rec, nil
	}
	for hop := 0; ; hop++ {
		u, err := url.Parse(target)
		if err != nil {
			return answer(&robotsRecord{Error: err.Error()})
		}
		if hop > 0 && u.Path == "/robots.txt" && u.RawQuery == "" {
			// http -> https or www -> apex: that origin's robots.txt may
			// be known already; fetching it again would be a duplicate.
			o := u.Scheme + "://" + u.Host
			if rec, ok, err := c.state.robots(o); err != nil {
				return nil, err
			} else if ok {
				return answer(rec)
			}
			via = append(via, o)
		}
		host := hostOf(u)
		tk, err := c.polite.acquire(siteCtx, host, c.addressOf(u))
		if err != nil {
			return nil, err
		}
		f := c.fetch(fetchCtx, u)
		c.polite.release(tk, 0)
		if f.aborted && fetchCtx.Err() != nil {
			f.close()
			return nil, fetchCtx.Err()
		}
		werr := c.archive(sc, u, host, f)
		f.close()
		if werr != nil {
			return nil, werr
		}
		if f.err != nil {
			c.polite.outcome(host, f.err, c.cfg.HostMaxErrors)
			return answer(&robotsRecord{Error: f.err.Error()})
		}
		if f.status >= 300 && f.status < 400 && hop < robotsMaxRedirects {
			if loc := f.header.Get("Location"); loc != "" {
				if n, err := page.Normalize(loc, u); err == nil {
					target = n
					continue
				}
			}
		}
		if f.status >= 300 && f.status < 400 {
			return answer(&robotsRecord{Status: http.StatusNotFound}) // unfollowable redirect: no robots.txt
		}
		body := f.body
		if len(body) > robotsMaxBody {
			body = body[:robotsMaxBody]
		}
		return answer(&robotsRecord{Status: f.status, Body: body})
	}
}
