package page

// Page is what crawl learns from one HTML document (or stylesheet).
type Page struct {
	Charset   string     // the encoding used to decode, e.g. "utf-8", "euc-kr"
	Title     string     // whitespace collapsed
	Headlines []Headline // title first, then h1–h6 in document order
	Links     []Link     // absolute, normalised, fragment dropped, in document order
	Text      string     // visible text: no script, style, noscript; whitespace collapsed
	Lang      string     // declared or detected language, e.g. "ko", "en"; "" when unknown
}

// Headline is one title or h1–h6 element's text.
type Headline struct {
	Tag  string // "title", "h1" … "h6"
	Text string
}

// Link is one URL a document refers to.
type Link struct {
	URL string
	// Requisite is true for what a page needs to render (img, script,
	// stylesheet, CSS url(), icon, media, frame source); false for navigation
	// (a, area, meta refresh).
	Requisite bool
	Tag       string // the element or source: "a", "img", "link", "css", "refresh", …
}
