package world

// The country: every domain of the world, written down once. Zones, sites and
// the map in the package documentation are all derived from this table, so a
// change here changes DNS and web together.

// Serial is the SOA serial of every zone in the world (the date of the .kp leak).
const Serial = 2016092001

// tld is the world's top-level domain.
const tld = "test"

// sharedA and sharedB are the two "hosting boxes": many sites on one address,
// told apart only by the Host header, as on the real .kp's 175.45.176.x.
const (
	sharedA = "127.1.0.10"
	sharedB = "127.1.0.20"
)

// unservedIPv6 is the AAAA address some names carry. It is a unique-local
// address (fd00::/8) that nothing in the world listens on, so a client that
// prefers IPv6 must fall back to the A records.
const unservedIPv6 = "fd7e:57::1"

// wwwKind says how a domain's www name is published and served.
type wwwKind int

const (
	wwwNone     wwwKind = iota // no www name at all
	wwwCNAME                   // www CNAME apex
	wwwA                       // www has the apex's A records and serves the same site
	wwwRedirect                // www has the apex's A records and answers 301 to the apex
	wwwOnly                    // only www has A records; the apex has none
)

// lang is the language and charset a site's pages are written in.
type lang int

const (
	langKorean  lang = iota // Korean, UTF-8
	langEUCKR               // Korean, EUC-KR
	langEnglish             // English, UTF-8
)

// domainSpec is one leaf domain: its DNS shape and, when it has web
// addresses, its site.
type domainSpec struct {
	name  string   // fully qualified without the trailing dot
	ns    int      // number of its own nameservers (1 or 2)
	addrs []string // web addresses of the apex (or of www with wwwOnly); none: no web site
	www   wwwKind
	ipv6  bool // the web name also carries an AAAA (unservedIPv6)
	mx    bool // an MX record and an SPF TXT record at the apex
	txt   string

	title    string // the site's name, in its language
	lang     lang
	pages    int    // HTML pages served with 200, counting every kind
	robots   string // robots.txt body; "" means the site has none (404)
	disallow string // the path prefix robots.txt disallows, linked from the home page
	https    bool   // HTTPS only: port 80 answers 301 to https://
	trap     bool   // an endless calendar under /calendar
	large    bool   // a 20 MB download under /files/
	slow     bool   // a page that answers after Options.SlowPage
	moved    bool   // /old.html answers 301 to /news/
	broken   bool   // /broken.html answers 500
	imports  bool   // the style sheet has an @import
}

// slds are the second-level zones the TLD delegates. They allow AXFR, like
// the .kp zones did in 2016.
var slds = []struct {
	name string
	ns   int
}{
	{"com.test", 2},
	{"org.test", 2},
	{"gov.test", 1},
	{"edu.test", 1},
	{"net.test", 1},
	{"rep.test", 1},
}

// country lists every leaf domain, grouped by parent zone. Order matters only
// for the nameserver addresses it hands out, which are stable because the
// table is.
var country = []domainSpec{
	// com.test
	{name: "friend.com.test", ns: 2, addrs: []string{sharedA}, www: wwwCNAME, mx: true, txt: "friendship with every country",
		title: "조선 친선 협회", lang: langKorean, pages: 40, robots: "User-agent: *\nDisallow: /private/\n", disallow: "/private/", trap: true},
	{name: "airline.com.test", ns: 1, addrs: []string{"127.1.1.1", "127.1.1.2"}, www: wwwA,
		title: "National Airline", lang: langEnglish, pages: 12, robots: "User-agent: *\nDisallow:\n"},
	{name: "film.com.test", ns: 1, addrs: []string{sharedA}, www: wwwCNAME,
		title: "조선 영화", lang: langEUCKR, pages: 20, large: true},
	{name: "trade.com.test", ns: 1, addrs: []string{sharedA}, www: wwwRedirect, mx: true,
		title: "Foreign Trade Corporation", lang: langEnglish, pages: 15, moved: true},
	{name: "xn--og5b13x.com.test", ns: 1, addrs: []string{sharedB}, www: wwwCNAME,
		title: "평양 안내", lang: langKorean, pages: 8},
	{name: "shop.com.test", ns: 1, addrs: []string{sharedB}, www: wwwCNAME,
		title: "평양 상점", lang: langEUCKR, pages: 10, robots: "User-agent: *\nDisallow: /cart/\n", disallow: "/cart/", broken: true},
	{name: "energy.com.test", ns: 1, addrs: []string{sharedB}, www: wwwNone,
		title: "Energy Company", lang: langEnglish, pages: 6},

	// org.test
	{name: "cooks.org.test", ns: 1, addrs: []string{sharedB}, www: wwwCNAME,
		title: "조선 료리 협회", lang: langKorean, pages: 25, imports: true},
	{name: "party.org.test", ns: 2, addrs: []string{"127.1.2.1"}, www: wwwCNAME, mx: true,
		title: "당 소식", lang: langEUCKR, pages: 30, robots: "User-agent: *\nDisallow: /archive/\n", disallow: "/archive/"},
	{name: "fund.org.test", ns: 1, addrs: []string{sharedA}, www: wwwA,
		title: "Relief Fund", lang: langEnglish, pages: 6},
	{name: "sports.org.test", ns: 1, addrs: []string{sharedB}, www: wwwCNAME,
		title: "조선 체육", lang: langKorean, pages: 15, slow: true},
	{name: "culture.org.test", ns: 1, addrs: []string{"127.1.2.2", "127.1.2.3"}, www: wwwCNAME,
		title: "문화 교류", lang: langKorean, pages: 10},
	{name: "hospital.org.test", ns: 1, addrs: []string{sharedA}, www: wwwNone,
		title: "평양 병원", lang: langKorean, pages: 8, broken: true},

	// gov.test
	{name: "secure.gov.test", ns: 1, addrs: []string{"127.1.3.1"}, www: wwwCNAME,
		title: "Government Portal (Secure)", lang: langEnglish, pages: 10, https: true},
	{name: "portal.gov.test", ns: 2, addrs: []string{"127.1.3.2"}, www: wwwCNAME, ipv6: true, mx: true,
		title: "정부 종합 안내", lang: langKorean, pages: 60, robots: "User-agent: *\nDisallow: /private/\n", disallow: "/private/"},
	{name: "stats.gov.test", ns: 1, addrs: []string{sharedA}, www: wwwA,
		title: "Statistics Bureau", lang: langEnglish, pages: 8},

	// edu.test
	{name: "university.edu.test", ns: 2, addrs: []string{"127.1.4.1"}, www: wwwCNAME, mx: true,
		title: "김일성 종합 대학", lang: langKorean, pages: 30, robots: "User-agent: *\nDisallow: /private/\n", disallow: "/private/", moved: true},
	{name: "tech.edu.test", ns: 1, addrs: []string{sharedB}, www: wwwA,
		title: "University of Technology", lang: langEnglish, pages: 10},
	{name: "library.edu.test", ns: 1, addrs: []string{"127.1.4.2"}, www: wwwCNAME,
		title: "인민 대학습당", lang: langEUCKR, pages: 20},
	{name: "museum.edu.test", ns: 1, addrs: []string{"127.1.4.3"}, www: wwwCNAME, ipv6: true,
		title: "력사 박물관", lang: langKorean, pages: 10},

	// net.test
	{name: "bank.net.test", ns: 1, addrs: []string{"127.1.5.1"}, www: wwwCNAME,
		title: "Trade Bank", lang: langEnglish, pages: 5},
	{name: "star.net.test", ns: 1, addrs: []string{sharedA}, www: wwwCNAME,
		title: "별 통신", lang: langKorean, pages: 12},
	// mail.net.test has nameservers, mail and text records, but no web address.
	{name: "mail.net.test", ns: 1, mx: true, txt: "mail relay only"},

	// rep.test
	{name: "news.rep.test", ns: 2, addrs: []string{"127.1.6.1"}, www: wwwCNAME,
		title: "조선 중앙 통신", lang: langKorean, pages: 50, robots: "# One group for a named robot, one for everyone else.\nUser-agent: badbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\nCrawl-delay: 0\n", disallow: "/private/", moved: true},
	{name: "youth.rep.test", ns: 1, addrs: []string{sharedB}, www: wwwCNAME,
		title: "청년 전위", lang: langEUCKR, pages: 15},
	{name: "voice.rep.test", ns: 1, addrs: []string{"127.1.6.2"}, www: wwwA,
		title: "Voice of the Republic", lang: langEnglish, pages: 20},
	{name: "gnu.rep.test", ns: 1, addrs: []string{sharedA}, www: wwwOnly,
		title: "GNU Mirror", lang: langEnglish, pages: 5},

	// Delegated straight from the TLD, like kcna.kp.
	{name: "agency.test", ns: 1, addrs: []string{"127.1.7.1", "127.1.7.2"}, www: wwwCNAME, mx: true,
		title: "중앙 통신사", lang: langKorean, pages: 40, robots: "User-agent: *\nDisallow: /private/\n", disallow: "/private/"},
}

// externalLinks are links to hosts outside the world. A crawler scoped to
// the zone must never fetch them (and could not: there is no internet).
var externalLinks = []string{
	"http://example.org/",
	"https://example.com/about",
	"http://www.example.net/index.html",
}
