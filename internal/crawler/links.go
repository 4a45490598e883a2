package crawler

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"crawl/internal/archive"
	"crawl/internal/page"
)

// links hands emit the in-scope, trap-free URLs a capture leads to, one
// at a time, in document order. It returns notes (without URL, capture and
// time) on the limits that cut them short: a redirect loop or a chain at
// MaxRedirects, links past the page's cap, links the trap rules dropped.
func (c *Crawler) links(sc *siteCrawl, e *entry, u *url.URL, f *fetched, emit func(*entry)) []archive.Note {
	var (
		notes         []archive.Note
		trap, tooLong dropCount
	)
	// add takes a normalised absolute URL: page.Parse and page.ParseCSS give
	// nothing else, and a redirect's Location is normalised below.
	add := func(n string, requisite bool, depth, hops int, chain []string) {
		nu, err := url.Parse(n)
		if err != nil || !sc.scope.allows(nu, requisite) {
			return
		}
		switch why := trapReason(nu, n, c.cfg.MaxURLLength, c.cfg.MaxSegmentRepeat); why {
		case "":
		case reasonURLTooLong:
			tooLong.add(n)
			return
		default:
			trap.add(n)
			return
		}
		emit(&entry{URL: n, Depth: depth, Requisite: requisite, Hops: hops, Chain: chain, variant: variantKey(nu)})
	}
	dropNotes := func() []archive.Note {
		return append(trap.note(archive.NoteTrap, "by a trap rule (a path segment repeated more than --max-segment-repeat times)"),
			tooLong.note(archive.NoteURLTooLong, fmt.Sprintf("for being longer than %d bytes (--max-url-length)", c.cfg.MaxURLLength))...)
	}
	if f.err != nil {
		return nil
	}
	if f.status >= 300 && f.status < 400 {
		loc := f.header.Get("Location")
		if loc == "" {
			return nil
		}
		n, err := page.Normalize(loc, u)
		if err != nil {
			return nil
		}
		switch {
		case n == e.URL || slices.Contains(e.Chain, n):
			notes = append(notes, archive.Note{Kind: archive.NoteRedirectLoop,
				Detail: fmt.Sprintf("redirects to %s, which led here: a loop of %d hops", n, e.Hops+1)})
		case e.Hops >= c.cfg.MaxRedirects:
			notes = append(notes, archive.Note{Kind: archive.NoteMaxRedirects,
				Detail: fmt.Sprintf("redirect chain cut after %d hops (--max-redirects %d): %s not followed", e.Hops, c.cfg.MaxRedirects, n)})
		default:
			chain := append(slices.Clip(e.Chain), e.URL)
			add(n, e.Requisite, e.Depth, e.Hops+1, chain)
		}
		return append(notes, dropNotes()...)
	}
	for _, l := range f.css {
		add(l.URL, true, e.Depth, 0, nil)
	}
	if p := f.page; p != nil {
		if p.LinksCut {
			notes = append(notes, archive.Note{Kind: archive.NoteLinksCut,
				Detail: fmt.Sprintf("the page has more than %d links: the rest were not followed (--max-links)", c.cfg.Parse.Config.MaxLinks)})
		}
		for _, l := range p.Links {
			if l.Requisite {
				add(l.URL, true, e.Depth, 0, nil)
				continue
			}
			// A requisite (a frame) is fetched for its own requisites only:
			// following its links would leave the page being rendered.
			if e.Requisite {
				continue
			}
			if c.cfg.MaxDepth > 0 && e.Depth+1 > c.cfg.MaxDepth {
				continue
			}
			add(l.URL, false, e.Depth+1, 0, nil)
		}
	}
	return append(notes, dropNotes()...)
}

// dropCount counts the links one rule dropped from a capture, keeping the
// first as an example.
type dropCount struct {
	n       int
	example string
}

func (d *dropCount) add(u string) {
	if d.n == 0 {
		d.example = u
	}
	d.n++
}

// note is the count as a note of kind, or nothing when none was dropped.
func (d *dropCount) note(kind, why string) []archive.Note {
	if d.n == 0 {
		return nil
	}
	return []archive.Note{{Kind: kind, Detail: fmt.Sprintf("%d links dropped %s, such as %s", d.n, why, d.example)}}
}

// parse reads a 2xx body that may hold links, before it is archived: the
// page travels with the record to the index (warc.Exchange.Parsed), which
// then does not parse it again. CSS gives its url()s; anything else goes
// to page.ParseResponse, which sniffs: what is not HTML is ErrNotHTML.
// The body is the decoded one capped at Parse.MaxBody, as the index would
// read it from the record.
func (c *Crawler) parse(u *url.URL, f *fetched) {
	if f.err != nil || f.status < 200 || f.status >= 300 || len(f.body) == 0 {
		return
	}
	ct := f.header.Get("Content-Type")
	if isCSS(ct, u) {
		f.css = page.ParseCSS(f.body, ct, u)
		return
	}
	p, err := page.ParseResponse(f.body, f.header, u, c.cfg.Parse)
	if err != nil {
		if !errors.Is(err, page.ErrNotHTML) {
			c.log.Debug("parse", "url", u.String(), "err", err)
		}
		return
	}
	f.page = p
}

func isCSS(ct string, u *url.URL) bool {
	mt := mediaType(ct)
	if mt == "text/css" {
		return true
	}
	return mt == "" && strings.HasSuffix(strings.ToLower(u.Path), ".css")
}

// mayHoldLinks tells from a Content-Type whether a body is worth reading
// for links: HTML, CSS, XML, any text, or no type at all (then page.Parse
// sniffs). Images, media, archives and the like are not read.
func mayHoldLinks(contentType string) bool {
	mt := mediaType(contentType)
	switch {
	case mt == "", strings.HasPrefix(mt, "text/"), strings.Contains(mt, "html"), strings.Contains(mt, "xml"):
		return true
	}
	return false
}

// mediaType is a Content-Type without its parameters, lowercase.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
