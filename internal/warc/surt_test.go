package warc

import "testing"

// TestSURT uses the test vectors published with the Internet Archive's surt
// package (tests/test_surt.py: test_surt, and the canonicaliser tests
// expressed as keys), with its default options: no scheme, no trailing comma.
func TestSURT(t *testing.T) {
	const id32 = "0123456789abcdefghijklemopqrstuv"
	cases := []struct{ in, want string }{
		// test_surt (WaybackURLKeyMakerTest)
		{"", "-"},
		{"filedesc:foo.arc.gz", "filedesc:foo.arc.gz"},
		{"filedesc:/foo.arc.gz", "filedesc:/foo.arc.gz"},
		{"filedesc://foo.arc.gz", "filedesc://foo.arc.gz"},
		{"warcinfo:foo.warc.gz", "warcinfo:foo.warc.gz"},
		{"dns:alexa.com", "dns:alexa.com"},
		{"dns:archive.org", "dns:archive.org"},
		{"http://www.archive.org/", "org,archive)/"},
		{"http://archive.org/", "org,archive)/"},
		{"http://archive.org/goo/", "org,archive)/goo"},
		{"http://archive.org/goo/?", "org,archive)/goo"},
		{"http://archive.org/goo/?b&a", "org,archive)/goo?a&b"},
		{"http://archive.org/goo/?a=2&b&a=1", "org,archive)/goo?a=1&a=2&b"},
		{"http://archive.org/index.php?PHPSESSID=" + id32 + "&action=profile;u=4221", "org,archive)/index.php?action=profile;u=4221"},
		{"whois://whois.isoc.org.il/shaveh.co.il", "il,org,isoc,whois)/shaveh.co.il"},
		{"http://visit.webhosting.yahoo.com/visit.gif?&r=http%3A//web.archive.org/web/20090517140029/http%3A//anthonystewarthead.electric-chi.com/&b=Netscape%205.0%20%28Windows%3B%20en-US%29&s=1366x768&o=Win32&c=24&j=true&v=1.2",
			"com,yahoo,webhosting,visit)/visit.gif?&b=netscape%205.0%20(windows;%20en-us)&c=24&j=true&o=win32&r=http://web.archive.org/web/20090517140029/http://anthonystewarthead.electric-chi.com/&s=1366x768&v=1.2"},
		{"mailto:foo@example.com", "mailto:foo@example.com"},
		{"http://www.example.com/", "com,example)/"},
		{"ftp://www.example.com/", "com,example)/"},
		// DefaultIAURLCanonicalizer / IAURLCanonicalizer tests
		{"http://www.alexa.com/", "com,alexa)/"},
		{"http://archive.org/index.html", "org,archive)/index.html"},
		{"http://archive.org/index.html?", "org,archive)/index.html"},
		{"http://archive.org/index.html?a=b", "org,archive)/index.html?a=b"},
		{"http://archive.org/index.html?b=b&a=b", "org,archive)/index.html?a=b&b=b"},
		{"http://archive.org/index.html?b=a&b=b&a=b", "org,archive)/index.html?a=b&b=a&b=b"},
		{"http://www34.archive.org/index.html?b=a&b=b&a=b", "org,archive)/index.html?a=b&b=a&b=b"},
		{"http://ARCHIVE.ORG/", "org,archive)/"},
		{"http://www.archive.org:80/", "org,archive)/"},
		{"https://www.archive.org:80/", "org,archive:80)/"},
		{"http://www.archive.org:443/", "org,archive:443)/"},
		{"https://www.archive.org:443/", "org,archive)/"},
		{"http://www.archive.org/big/", "org,archive)/big"},
		{"dns:www.archive.org", "dns:www.archive.org"},
		{"http://example.com/foo?X=Y", "com,example)/foo?x=y"},
		{"http://www2foo.com/", "com,www2foo)/"},
		{"http://www2.www2foo.com/", "com,www2foo)/"},
		// GoogleURLCanonicalizer tests
		{"http://host/%25%32%35", "host)/%25"},
		{"http://host/%25%32%35%25%32%35", "host)/%25%25"},
		{"http://host/%2525252525252525", "host)/%25"},
		{"http://host/asdf%25%32%35asd", "host)/asdf%25asd"},
		{"http://host/%%%25%32%35asd%%", "host)/%25%25%25asd%25%25"},
		{"http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/", "26,99,188,168)/.secure/www.ebay.com"},
		{"http://3279880203/blah", "11,0,127,195)/blah"},
		{"http://017.0.0.1/", "1,0,0,15)/"},
		{"http://10.0.258/", "2,1,0,10)/"},
		{"http://www.google.com/blah/..", "com,google)/"},
		{"www.google.com/", "com,google)/"},
		{"www.google.com", "com,google)/"},
		{"http://www.evil.com/blah#frag", "com,evil)/blah"},
		{"http://www.GOOgle.com/", "com,google)/"},
		{"http://www.google.com.../", "com,google)/"},
		{"http://www.google.com/foo\tbar\rbaz\n2", "com,google)/foobarbaz2"},
		{"http://www.google.com/q?r?s", "com,google)/q?r?s"},
		{"http://evil.com/foo#bar#baz", "com,evil)/foo"},
		{"http://evil.com/foo;", "com,evil)/foo;"},
		{"http://evil.com/foo?bar;", "com,evil)/foo?bar;"},
		{"B\u00fccher.ch:8080", "ch,xn--bcher-kva:8080)/"},
		{"\u2603.com", "com,xn--n3h)/"},
		{"http://notrailingslash.com", "com,notrailingslash)/"},
		{"http://www.gotaport.com:1234/", "com,gotaport:1234)/"},
		{"  http://www.google.com/  ", "com,google)/"},
		{"https://www.securesite.com/", "com,securesite)/"},
		{"http://host.com/ab%23cd", "com,host)/ab%23cd"},
		{"http://host.com//twoslashes?more//slashes", "com,host)/twoslashes?more//slashes"},
		{"http:////////////////www.vikings.com", "com,vikings)/"},
		{"http://https://order.1and1.com", "com,1and1,order)/"},
		{"http://mineral.galleries.com:/minerals/silicate/chabazit/chabazit.htm", "com,galleries,mineral)/minerals/silicate/chabazit/chabazit.htm"},
		// stripPathSessionID / stripQuerySessionID tests, as keys
		{"http://archive.org/(S(4hqa0555fwsecu455xqckv45))/mileg.aspx", "org,archive)/mileg.aspx"},
		{"http://archive.org/(4hqa0555fwsecu455xqckv45)/mileg.aspx", "org,archive)/mileg.aspx"},
		{"http://archive.org/(a(4hqa0555fwsecu455xqckv45)S(4hqa0555fwsecu455xqckv45)f(4hqa0555fwsecu455xqckv45))/mileg.aspx?page=sessionschedules", "org,archive)/mileg.aspx?page=sessionschedules"},
		{"http://archive.org/photos/36050182@N05/", "org,archive)/photos/36050182@n05"},
		{"http://archive.org/?jsessionid=" + id32, "org,archive)/"},
		{"http://archive.org/?jsessionid=" + id32 + "0", "org,archive)/?jsessionid=" + id32 + "0"},
		{"http://archive.org/?jsessionid=" + id32 + "&x=y", "org,archive)/?x=y"},
		{"http://archive.org/?one=two&jsessionid=" + id32 + "&x=y", "org,archive)/?one=two&x=y"},
		{"http://archive.org/?one=two&jsessionid=" + id32, "org,archive)/?&one=two"},
		{"http://archive.org/?aspsessionidABCDEFGH=ABCDEFGHIJKLMNOPQRSTUVWX&x=y", "org,archive)/?x=y"},
		{"http://archive.org/?phpsessid=" + id32 + "&x=y", "org,archive)/?x=y"},
		{"http://archive.org/?sid=9682993c8daa2c5497996114facdc805&x=y", "org,archive)/?x=y"},
		{"http://archive.org/?sid=9682993c8daa2c5497996114facdc805&jsessionid=" + id32, "org,archive)/"},
		{"http://archive.org/?CFID=12412453&CFTOKEN=15501799&dt=19_08_2006_22_39_28", "org,archive)/?dt=19_08_2006_22_39_28"},
		{"http://archive.org/?CFID=14475712&CFTOKEN=2D89F5AF-3048-2957-DA4EE4B6B13661AB&r=468710288378&m=forgotten", "org,archive)/?m=forgotten&r=468710288378"},
		// Our own hosts: loopback IPs and ports as the local world uses them.
		{"http://127.0.0.2:8080/Index.html", "2,0,0,127:8080)/index.html"},
		{"https://WWW.Example.KP/a/b/?z=1&y=2#top", "kp,example)/a/b?y=2&z=1"},
	}
	for _, c := range cases {
		got, err := SURT(c.in)
		if err != nil {
			t.Errorf("SURT(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("SURT(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if _, err := SURT("http://example.org:99999/"); err == nil {
		t.Errorf("bad port accepted")
	}
}

func FuzzSURT(f *testing.F) {
	for _, s := range []string{"http://www.archive.org/goo/?b&a", "dns:x", "http://[::1]:80/", "%%%", "http://a@b:1/%zz?&&=#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		SURT(s) // must not panic
	})
}
