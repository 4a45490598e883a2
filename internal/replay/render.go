package replay

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"crawl/internal/page"
	"crawl/internal/wire"
)

// CSP is the Content-Security-Policy of every replayed response: the page
// may load anything from the replay server itself, inline and data: too,
// and nothing from anywhere else, so a URL the rewriting missed fails in
// the browser instead of reaching the live web. Forms post back to the
// server, and a <base> cannot point elsewhere.
const CSP = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; form-action 'self'; base-uri 'self'"

// keptHeaders pass through as recorded; every other recorded header is
// served as X-Archive-Orig-NAME (as pywb does), so that cookies, caching,
// security policies and the original's framing stay out of the replay but
// remain readable.
var keptHeaders = map[string]bool{
	"Content-Type": true, "Content-Language": true, "Content-Disposition": true, "Last-Modified": true,
	"Etag": true, "Location": true, "Refresh": true, "Content-Encoding": true,
}

// Rendered is what to send for a capture.
type Rendered struct {
	Status int
	Header http.Header
	Body   io.Reader
	// Length is the body's length, or -1 when it is streamed as recorded
	// and its length is not known.
	Length int64
}

// Render prepares a capture's response for the browser. With ModOrigin it
// is the recorded payload as it was (only Location stays inside the
// archive); otherwise HTML and CSS are rewritten by rw (up to maxRewrite
// bytes decoded: a larger document is served as recorded, which the CSP
// keeps inside the archive), their content coding undone (the banner goes
// only into pages, ModPage and ModMain), and an HTML
// document without a declared charset gets the one its bytes have, so that
// the added bytes cannot move a <meta charset> out of the browser's
// 1024-byte prescan. The response's Body is read, not closed.
func Render(resp *Response, rw *Rewriter, mod string, maxRewrite int64) (*Rendered, error) {
	h := http.Header{}
	for name, values := range resp.Header {
		name = http.CanonicalHeaderKey(name)
		if keptHeaders[name] {
			h[name] = values
		} else {
			h["X-Archive-Orig-"+name] = values
		}
	}
	if loc := h.Get("Location"); loc != "" {
		h.Set("Location", rw.Location(loc))
	}
	if ref := h.Get("Refresh"); ref != "" {
		h.Set("Refresh", string(rw.Refresh([]byte(ref))))
	}
	h.Set("Content-Security-Policy", CSP)
	out := &Rendered{Status: resp.Status, Header: h, Body: resp.Body, Length: -1}
	if !resp.HTTP || mod == ModOrigin || bodiless(resp.Status) {
		return out, nil
	}

	ct := resp.Header.Get("Content-Type")
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mediaType, _, _ = strings.Cut(strings.ToLower(ct), ";")
		mediaType = strings.TrimSpace(mediaType)
		params = nil
	}
	isHTML := page.IsHTMLType(mediaType)
	isCSS := mediaType == "text/css" || (mod == ModCSS && (mediaType == "" || strings.HasPrefix(mediaType, "text/")))
	var src io.Reader = resp.Body
	if !isHTML && !isCSS {
		if mediaType != "" || resp.Header.Get("Content-Encoding") != "" {
			return out, nil
		}
		// No type: a browser sniffs, and a page must then be rewritten.
		br := bufio.NewReader(resp.Body)
		start, _ := br.Peek(1024)
		out.Body, src = br, br
		if !page.IsHTML("", start) {
			return out, nil
		}
		isHTML = true
	}

	// Read the decoded body, up to the limit.
	hr := &http.Response{Header: resp.Header, Body: io.NopCloser(src)}
	dec, err := wire.DecodedBody(hr, maxRewrite)
	if err != nil {
		if errors.Is(err, wire.ErrUnsupportedEncoding) {
			return out, nil // served as recorded, coding and all
		}
		return nil, err
	}
	body, err := io.ReadAll(dec)
	if errors.Is(err, wire.ErrDecodedTooLarge) {
		// Too large to rewrite: what was read and the rest, as
		// decoded bytes (the coding is undone already).
		h.Del("Content-Encoding")
		out.Body = io.MultiReader(bytes.NewReader(body), dec)
		return out, nil
	}
	if err != nil && len(body) == 0 {
		return nil, err
	}
	// A body cut short (a truncated capture) is served as far as it goes.
	h.Del("Content-Encoding")
	switch {
	case isHTML:
		if mod != ModPage && mod != ModMain && rw.Banner != nil {
			// Frames, and pages loaded as something else, get no banner.
			noBanner := *rw
			noBanner.Banner = nil
			rw = &noBanner
		}
		if params["charset"] == "" {
			if _, name, err := page.Decode(body, ct); err == nil && name != "" {
				if mediaType == "" {
					mediaType = "text/html"
				}
				h.Set("Content-Type", mime.FormatMediaType(mediaType, mergeParams(params, "charset", name)))
			}
		}
		body = rw.HTML(body)
	case isCSS:
		body = rw.CSS(body)
	}
	out.Body, out.Length = bytes.NewReader(body), int64(len(body))
	out.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return out, nil
}

func mergeParams(p map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for pk, pv := range p {
		if pk != k {
			out[pk] = pv
		}
	}
	return out
}

// bodiless reports whether a status has no body to rewrite.
func bodiless(status int) bool {
	return status < 200 || status == http.StatusNoContent || status == http.StatusNotModified
}
