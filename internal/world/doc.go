// Package world is a small fictional country on loopback, for tests and for
// `crawl demo`: an authoritative DNS tree and the web sites it names,
// modelled on the .kp zone whose transfer leaked in 2016. Everything is
// built at Start from the table in country.go and the text embedded under
// site/, with a fixed seed, so every start yields the same world.
//
// Data flow: country.go describes each domain once. buildZones lays it out
// as zone text (parsed back with miekg/dns, so the served records are exactly
// World.Zones), and buildSites writes each site's pages. Start binds one
// nameserver per 127.53.x.y address (UDP and TCP, all on one port) and one
// HTTP listener per web address 127.1.x.y (all on one other port, plus a TLS
// port for the HTTPS site), and serves until Close or the context ends.
//
// # DNS
//
// The TLD zone "test." (ns1.test 127.53.0.1, ns2.test 127.53.0.2) allows AXFR
// and delegates, with glue, six second-level zones that allow AXFR too:
//
//	com.test  127.53.1.1, 127.53.1.2    org.test  127.53.2.1, 127.53.2.2
//	gov.test  127.53.3.1                 edu.test  127.53.4.1
//	net.test  127.53.5.1                 rep.test  127.53.6.1
//
// Each leaf domain is delegated to its own nameservers (ns1.LEAF, sometimes
// ns2.LEAF; glue in the parent; addresses 127.53.G.10 and up), which answer
// authoritatively for the leaf but REFUSE AXFR: the web addresses are found
// only by asking them for the apex and www. agency.test is delegated straight
// from the TLD (127.53.0.10). Nameservers never recurse and refuse questions
// outside their own zones. AXFR over UDP gets FORMERR, IXFR NOTIMP.
//
// # Sites
//
//	site                    addresses               notes
//	agency.test             127.1.7.1, 127.1.7.2    ko; two addresses; robots /private/
//	airline.com.test        127.1.1.1, 127.1.1.2    en; www has its own two A records
//	bank.net.test           127.1.5.1               en; 5 pages
//	cooks.org.test          127.1.0.20              ko; CSS @import
//	culture.org.test        127.1.2.2, 127.1.2.3    ko
//	energy.com.test         127.1.0.20              en; no www
//	film.com.test           127.1.0.10              ko EUC-KR; 20 MB /files/archive.bin
//	friend.com.test         127.1.0.10              ko; robots /private/; trap /calendar?month=2016-09; MX
//	fund.org.test           127.1.0.10              en
//	gnu.rep.test            127.1.0.10              en; only www.gnu.rep.test has an address
//	hospital.org.test       127.1.0.10              ko; /broken.html answers 500
//	library.edu.test        127.1.4.2               ko EUC-KR
//	museum.edu.test         127.1.4.3               ko; AAAA fd7e:57::1 (nothing serves it)
//	news.rep.test           127.1.6.1               ko; robots /private/ (and / for badbot); /old.html 301
//	party.org.test          127.1.2.1               ko EUC-KR; robots /archive/
//	portal.gov.test         127.1.3.2               ko; 60 pages; AAAA; robots /private/
//	secure.gov.test         127.1.3.1               en; HTTPS only (self-signed), http answers 301
//	shop.com.test           127.1.0.20              ko EUC-KR; robots /cart/; /broken.html 500
//	sports.org.test         127.1.0.20              ko; /slow.html waits Options.SlowPage
//	star.net.test           127.1.0.10              ko
//	stats.gov.test          127.1.0.10              en
//	tech.edu.test           127.1.0.20              en
//	trade.com.test          127.1.0.10              en; www answers 301 to the apex; /old.html 301
//	university.edu.test     127.1.4.1               ko; robots /private/; /old.html 301
//	voice.rep.test          127.1.6.2               en
//	xn--og5b13x.com.test    127.1.0.20              ko; IDN 평양.com.test
//	youth.rep.test          127.1.0.20              ko EUC-KR
//
// mail.net.test has nameservers, MX and TXT but no web address. Sites on
// 127.1.0.10 and 127.1.0.20 share the address (name-based virtual hosting);
// a Host that is not published at the address it reaches gets 404. Every
// site links to three others and every third one to a host outside the
// world (example.org and friends), which a crawler must not fetch; every
// site links to /missing.html (404). World.Sites is the exact ground truth.
//
// # Ports
//
// As an ordinary user the world cannot bind 53 and 80, so all nameservers
// share one free high port (World.DNSPort) and all web servers another
// (World.WebPort; TLS on World.HTTPSPort). Clients reach the sites through
// World.ConnectTo ("HOST:80=ADDR:PORT", like curl's --connect-to) and ask
// the nameservers at DNSPort. Options.StandardPorts binds 53, 80 and 443.
package world
