package world

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"hash/fnv"
	"html"
	"math/rand/v2"
	"sort"
	"strings"

	"golang.org/x/text/encoding/korean"
)

// content holds the text the pages are made of, the images, and the script.
//
//go:embed site
var content embed.FS

// seed makes the world the same on every start.
const seed = 20160920

// LargeSize is the size of the large download (20 MiB).
const LargeSize = 20 << 20

// Site is the ground truth about one web site of the world: what a perfect
// crawl of it would find.
type Site struct {
	Name    string   // the domain, e.g. "friend.com.test"
	Title   string   // the site's name, in its language
	Home    string   // URL of its home page, e.g. "http://friend.com.test/"
	Hosts   []string // host names that answer for it (apex and/or www; with WWWRedirect www only redirects), sorted
	Addrs   []string // its IPv4 web addresses, sorted
	HTTPS   bool     // HTTPS only: http:// answers 301 to the https:// URL
	Lang    string   // "ko" or "en"
	Charset string   // "utf-8" or "euc-kr", declared in Content-Type and in a meta tag

	// WWWRedirect: www.Name answers 301 to the same path on Name.
	WWWRedirect bool

	Robots   string   // robots.txt body; "" when the site has none (404)
	Disallow []string // path prefixes robots.txt disallows in its "User-agent: *" group

	// Pages lists the path of every HTML page served with 200 and linked
	// from the home page (directly or not), sorted: disallowed pages and the
	// slow page included, the endless calendar not.
	Pages  []string
	Assets []string // style sheets, scripts and images the pages use, sorted

	Trap      string            // path and query of the endless calendar's first page, "" if none
	Large     string            // path of the LargeSize download, "" if none
	Slow      string            // path of the page that answers after Options.SlowPage, "" if none
	Redirects map[string]string // path -> Location of the site's 301 answers (relative to the site)
	Errors    map[string]int    // path -> status of linked pages that fail (404, 500)
	Links     []string          // absolute URLs of other sites this site links to (in the world and outside), sorted
	Headlines []string          // text of every h1-h3 over Pages, in page order then document order (UTF-8)
}

// resource is one static answer of a site.
type resource struct {
	contentType string
	body        []byte
}

// site is a Site with the bodies it serves.
type site struct {
	Site
	files map[string]resource
}

// corpus is the embedded text pages are written from.
type corpus struct {
	sentences map[lang][]string
	titles    map[lang][]string
	logo, bg  []byte
	script    []byte
}

func loadCorpus() (*corpus, error) {
	c := &corpus{sentences: map[lang][]string{}, titles: map[lang][]string{}}
	lines := func(name string) ([]string, error) {
		data, err := content.ReadFile("site/" + name)
		if err != nil {
			return nil, fmt.Errorf("world: %w", err)
		}
		var out []string
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out, nil
	}
	var err error
	if c.sentences[langKorean], err = lines("ko.txt"); err != nil {
		return nil, err
	}
	if c.sentences[langEnglish], err = lines("en.txt"); err != nil {
		return nil, err
	}
	if c.titles[langKorean], err = lines("ko-titles.txt"); err != nil {
		return nil, err
	}
	if c.titles[langEnglish], err = lines("en-titles.txt"); err != nil {
		return nil, err
	}
	c.sentences[langEUCKR] = c.sentences[langKorean]
	c.titles[langEUCKR] = c.titles[langKorean]
	for _, f := range []struct {
		into *[]byte
		name string
	}{{&c.logo, "logo.png"}, {&c.bg, "bg.gif"}, {&c.script, "site.js"}} {
		if *f.into, err = content.ReadFile("site/" + f.name); err != nil {
			return nil, fmt.Errorf("world: %w", err)
		}
	}
	return c, nil
}

// buildSites writes every site of the country: the pages' text comes from
// the corpus through a random source seeded by the site's name, so the world
// is the same on every start.
func buildSites(c *corpus) ([]*site, error) {
	var specs []domainSpec
	for _, d := range country {
		if len(d.addrs) > 0 {
			specs = append(specs, d)
		}
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].name < specs[j].name })
	homes := make([]string, len(specs))
	for i, d := range specs {
		homes[i] = homeURL(d)
	}

	sites := make([]*site, 0, len(specs))
	for i, d := range specs {
		// Every site links to the next three in name order (one of them by
		// its www name when it has one), so the world is one connected web;
		// every third site also links outside the world.
		var links []string
		for k := 1; k <= 3; k++ {
			j := (i + k) % len(specs)
			link := homes[j]
			if k == 2 && (specs[j].www == wwwCNAME || specs[j].www == wwwA || specs[j].www == wwwRedirect) && !specs[j].https {
				link = "http://www." + specs[j].name + "/"
			}
			if specs[j].https && k == 3 {
				link = "http://" + specs[j].name + "/" // through the redirect to https
			}
			links = append(links, link)
		}
		if i%3 == 0 {
			links = append(links, externalLinks[(i/3)%len(externalLinks)])
		}
		s, err := buildSite(c, d, links)
		if err != nil {
			return nil, err
		}
		sites = append(sites, s)
	}
	return sites, nil
}

func homeURL(d domainSpec) string {
	scheme, host := "http", d.name
	if d.https {
		scheme = "https"
	}
	if d.www == wwwOnly {
		host = "www." + d.name
	}
	return scheme + "://" + host + "/"
}

// page is an HTML page before it is rendered.
type page struct {
	path   string
	title  string
	links  [][2]string // href, text
	blocks int         // sections of text
}

func buildSite(c *corpus, d domainSpec, links []string) (*site, error) {
	h := fnv.New64a()
	h.Write([]byte(d.name))
	rng := rand.New(rand.NewPCG(seed, h.Sum64()))

	s := &site{Site: Site{
		Name:        d.name,
		Title:       d.title,
		Home:        homeURL(d),
		Addrs:       append([]string(nil), d.addrs...),
		HTTPS:       d.https,
		Lang:        "ko",
		Charset:     "utf-8",
		WWWRedirect: d.www == wwwRedirect,
		Robots:      d.robots,
		Redirects:   map[string]string{},
		Errors:      map[string]int{"/missing.html": 404},
		Links:       append([]string(nil), links...),
	}, files: map[string]resource{}}
	sort.Strings(s.Addrs)
	sort.Strings(s.Links)
	switch d.lang {
	case langEnglish:
		s.Lang = "en"
	case langEUCKR:
		s.Charset = "euc-kr"
	}
	switch d.www {
	case wwwNone:
		s.Hosts = []string{d.name}
	case wwwOnly:
		s.Hosts = []string{"www." + d.name}
	default:
		s.Hosts = []string{d.name, "www." + d.name}
	}
	if d.disallow != "" {
		s.Disallow = []string{d.disallow}
	}

	// The page plan: home, about, contact, the news list, then whatever
	// the site has, then as many articles as it takes to reach d.pages.
	titles := c.titles[d.lang]
	pick := func() string { return titles[rng.IntN(len(titles))] }
	home := &page{path: "/", title: d.title, blocks: 2}
	about := &page{path: "/about.html", title: pick(), blocks: 2}
	contact := &page{path: "/contact.html", title: pick(), blocks: 1}
	news := &page{path: "/news/", title: pick(), blocks: 1}
	pages := []*page{home, about, contact, news}
	nav := [][2]string{{"/", d.title}, {"/about.html", about.title}, {"/news/", news.title}, {"/contact.html", contact.title}}
	contact.links = append(contact.links, [2]string{"/missing.html", "404"})

	if d.disallow != "" {
		for k := 1; k <= 2; k++ {
			p := &page{path: fmt.Sprintf("%s%d.html", d.disallow, k), title: pick(), blocks: 2}
			pages = append(pages, p)
			home.links = append(home.links, [2]string{p.path, p.title})
		}
	}
	if d.slow {
		s.Slow = "/slow.html"
		p := &page{path: s.Slow, title: pick(), blocks: 1}
		pages = append(pages, p)
		about.links = append(about.links, [2]string{p.path, p.title})
	}
	if d.trap {
		s.Trap = "/calendar?month=2016-09"
		home.links = append(home.links, [2]string{s.Trap, "Calendar 2016-09"})
	}
	if d.large {
		s.Large = "/files/archive.bin"
		about.links = append(about.links, [2]string{s.Large, "archive.bin (20 MB)"})
	}
	if d.moved {
		s.Redirects["/old.html"] = "/news/"
		about.links = append(about.links, [2]string{"/old.html", "old news"})
	}
	if d.broken {
		s.Errors["/broken.html"] = 500
		home.links = append(home.links, [2]string{"/broken.html", "broken"})
	}
	articles := d.pages - len(pages)
	if articles < 1 {
		return nil, fmt.Errorf("world: site %s: %d pages leave no room for articles", d.name, d.pages)
	}
	for k := 1; k <= articles; k++ {
		p := &page{path: fmt.Sprintf("/news/%d.html", k), title: pick(), blocks: 1 + rng.IntN(3)}
		news.links = append(news.links, [2]string{p.path, p.title})
		if k > 1 {
			p.links = append(p.links, [2]string{fmt.Sprintf("/news/%d.html", k-1), "<"})
		}
		if k < articles {
			p.links = append(p.links, [2]string{fmt.Sprintf("/news/%d.html", k+1), ">"})
		}
		if k <= 5 {
			home.links = append(home.links, [2]string{p.path, p.title})
		}
		pages = append(pages, p)
	}
	for _, l := range links {
		home.links = append(home.links, [2]string{l, l})
	}

	for _, p := range pages {
		body, heads := renderPage(c, rng, s, d, p, nav)
		s.Headlines = append(s.Headlines, heads...)
		if err := s.addText(p.path, "text/html", body); err != nil {
			return nil, err
		}
		s.Pages = append(s.Pages, p.path)
	}
	sort.Strings(s.Pages)

	css := "body { font-family: sans-serif; background: #fff url(\"/img/bg.gif\") repeat; }\nh1 { color: #1f3a93; }\n.logo { background-image: url(/img/logo.png); }\n"
	if d.imports {
		css = "@import url(\"/css/print.css\");\n" + css
		s.files["/css/print.css"] = resource{"text/css; charset=utf-8", []byte("@media print { nav, footer { display: none; } }\n")}
	}
	s.files["/css/style.css"] = resource{"text/css; charset=utf-8", []byte(css)}
	s.files["/js/site.js"] = resource{"text/javascript; charset=utf-8", c.script}
	s.files["/img/logo.png"] = resource{"image/png", c.logo}
	s.files["/img/bg.gif"] = resource{"image/gif", c.bg}
	for path := range s.files {
		if !strings.HasSuffix(path, ".html") && !strings.HasSuffix(path, "/") {
			s.Assets = append(s.Assets, path)
		}
	}
	sort.Strings(s.Assets)
	if d.robots != "" {
		s.files["/robots.txt"] = resource{"text/plain; charset=utf-8", []byte(d.robots)}
	}
	return s, nil
}

// addText stores a text resource in the site's charset.
func (s *site) addText(path, mediaType, text string) error {
	body := []byte(text)
	if s.Charset == "euc-kr" {
		enc, err := korean.EUCKR.NewEncoder().String(text)
		if err != nil {
			return fmt.Errorf("world: site %s: encode %s as EUC-KR: %w", s.Name, path, err)
		}
		body = []byte(enc)
	}
	s.files[path] = resource{mediaType + "; charset=" + s.Charset, body}
	return nil
}

// metaCharset is the charset declaration inside the page, in the style of
// the era: HTML5's short form for UTF-8, http-equiv for EUC-KR.
func metaCharset(charset string) string {
	if charset == "utf-8" {
		return `<meta charset="utf-8">`
	}
	return fmt.Sprintf(`<meta http-equiv="Content-Type" content="text/html; charset=%s">`, charset)
}

// renderPage writes one page of s and returns it with its headlines.
func renderPage(c *corpus, rng *rand.Rand, s *site, d domainSpec, p *page, nav [][2]string) (string, []string) {
	sentences, titles := c.sentences[d.lang], c.titles[d.lang]
	paragraph := func() string {
		n := 2 + rng.IntN(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = sentences[rng.IntN(len(sentences))]
		}
		return strings.Join(parts, " ")
	}
	var b strings.Builder
	var heads []string
	esc := html.EscapeString
	head := func(level int, text string) {
		heads = append(heads, text)
		fmt.Fprintf(&b, "<h%d>%s</h%d>\n", level, esc(text), level)
	}
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=%q>\n<head>\n%s\n", s.Lang, metaCharset(s.Charset))
	title := p.title
	if p.path != "/" {
		title = p.title + " - " + d.title
	}
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title))
	b.WriteString("<link rel=\"stylesheet\" href=\"/css/style.css\">\n<script src=\"/js/site.js\"></script>\n</head>\n<body>\n<nav>")
	for _, l := range nav {
		fmt.Fprintf(&b, " <a href=%q>%s</a>", l[0], esc(l[1]))
	}
	b.WriteString(" </nav>\n<div class=\"logo\"><img src=\"/img/logo.png\" alt=\"logo\" width=\"16\" height=\"16\"></div>\n")
	head(1, p.title)
	for i := range p.blocks {
		head(2, titles[rng.IntN(len(titles))])
		fmt.Fprintf(&b, "<p>%s</p>\n", esc(paragraph()))
		if i == 0 {
			head(3, titles[rng.IntN(len(titles))])
			fmt.Fprintf(&b, "<p>%s</p>\n", esc(paragraph()))
		}
	}
	if len(p.links) > 0 {
		b.WriteString("<ul>\n")
		for _, l := range p.links {
			fmt.Fprintf(&b, "<li><a href=%q>%s</a></li>\n", l[0], esc(l[1]))
		}
		b.WriteString("</ul>\n")
	}
	fmt.Fprintf(&b, "<footer>%s &copy; 2016</footer>\n</body>\n</html>\n", esc(d.title))
	return b.String(), heads
}
