package discover

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// hostLine is a compact, comparable form of a Host for table tests.
func hostLine(h Host) string {
	s := h.Name + " site=" + h.Site + " role=" + h.Role + " src=" + h.Source + " zone=" + h.Zone
	if h.Delegated {
		s += " delegated"
	}
	if len(h.Addrs) > 0 {
		s += " addrs=" + strings.Join(h.Addrs, ",")
	}
	if len(h.Nameservers) > 0 {
		s += " ns=" + strings.Join(h.Nameservers, ",")
	}
	return s
}

// checkLines reports got and want one per line when they differ.
func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s\n got  %s\n want %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// readText runs ReadZoneFiles offline on zone text given as stdin.
func readText(t *testing.T, text string, cfg Config) ([]string, Summary, error) {
	t.Helper()
	var got []string
	cfg.Offline = true
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	cfg.Stdin = strings.NewReader(text)
	cfg.OnHost = func(h Host) { got = append(got, hostLine(h)) }
	sum, err := ReadZoneFiles(context.Background(), cfg, "-")
	return got, sum, err
}

func TestHostRules(t *testing.T) {
	tests := []struct {
		name string
		zone string
		want []string
	}{
		{
			name: "apex www and mail",
			zone: `$ORIGIN example.test.
@    SOA ns1 host 1 2 3 4 5
@    NS  ns1
@    NS  ns.other.test.
@    A   192.0.2.1
@    MX  10 mail
ns1  A   192.0.2.53
mail A   192.0.2.25
www  A   192.0.2.80
www  AAAA 2001:db8::80
v6   AAAA 2001:db8::6
txt  TXT "not a host"
`,
			want: []string{
				"example.test site=example.test role=web src=A zone=example.test delegated addrs=192.0.2.1 ns=ns.other.test,ns1.example.test",
				"mail.example.test site=example.test role=mail src=A zone=example.test addrs=192.0.2.25",
				"ns1.example.test site=example.test role=nameserver src=A zone=example.test addrs=192.0.2.53",
				"v6.example.test site=example.test role=web src=AAAA zone=example.test addrs=2001:db8::6",
				"www.example.test site=example.test role=web src=A zone=example.test addrs=192.0.2.80,2001:db8::80",
			},
		},
		{
			name: "delegations occlude their data, glue is no host",
			zone: `$ORIGIN com.test.
@          SOA ns host 1 2 3 4 5
@          NS  ns
ns         A   192.0.2.53
friend     NS  ns1.friend
friend     NS  ns.hoster.test.
ns1.friend A   192.0.2.54
friend     A   192.0.2.99
www.friend A   192.0.2.98
deep.x.friend A 192.0.2.97
nowww      NS  ns.hoster.test.
`,
			want: []string{
				"com.test site=com.test role=none src=delegation zone=com.test delegated ns=ns.com.test",
				"friend.com.test site=friend.com.test role=none src=delegation zone=com.test delegated ns=ns.hoster.test,ns1.friend.com.test",
				"nowww.com.test site=nowww.com.test role=none src=delegation zone=com.test delegated ns=ns.hoster.test",
				"ns.com.test site=com.test role=nameserver src=A zone=com.test addrs=192.0.2.53",
			},
		},
		{
			name: "wildcards, service labels, CNAMEs",
			zone: `$ORIGIN w.test.
@        SOA ns host 1 2 3 4 5
@        NS  ns.elsewhere.test.
*        A   192.0.2.1
*.sub    A   192.0.2.2
sub      TXT "exists"
_http._tcp SRV 0 0 80 www
_dmarc   TXT "v=DMARC1"
www      CNAME web
web      A   192.0.2.3
blog     CNAME blogs.hoster.example.
chain    CNAME www
dangling CNAME nothing
loop1    CNAME loop2
loop2    CNAME loop1
`,
			want: []string{
				"blog.w.test site=w.test role=web src=CNAME zone=w.test",
				"chain.w.test site=w.test role=web src=CNAME zone=w.test addrs=192.0.2.3",
				"dangling.w.test site=w.test role=none src=CNAME zone=w.test",
				"loop1.w.test site=w.test role=none src=CNAME zone=w.test",
				"loop2.w.test site=w.test role=none src=CNAME zone=w.test",
				"w.test site=w.test role=none src=delegation zone=w.test delegated ns=ns.elsewhere.test",
				"web.w.test site=w.test role=web src=A zone=w.test addrs=192.0.2.3",
				"www.w.test site=w.test role=web src=CNAME zone=w.test addrs=192.0.2.3",
			},
		},
		{
			name: "case, duplicates and IDN names come out lowercase A-labels",
			zone: `$ORIGIN XN--VV4B11D.test.
@        SOA ns host 1 2 3 4 5
@        NS  NS.xn--vv4b11d.test.
NS       A   192.0.2.53
WWW      A   192.0.2.80
www      A   192.0.2.80
xn--3e0b707e A 192.0.2.81
평양 A 192.0.2.82
\200bad A 192.0.2.83
`,
			want: []string{
				"ns.xn--vv4b11d.test site=xn--vv4b11d.test role=nameserver src=A zone=xn--vv4b11d.test addrs=192.0.2.53",
				"www.xn--vv4b11d.test site=xn--vv4b11d.test role=web src=A zone=xn--vv4b11d.test addrs=192.0.2.80",
				"xn--3e0b707e.xn--vv4b11d.test site=xn--vv4b11d.test role=web src=A zone=xn--vv4b11d.test addrs=192.0.2.81",
				"xn--og5b13x.xn--vv4b11d.test site=xn--vv4b11d.test role=web src=A zone=xn--vv4b11d.test addrs=192.0.2.82",
				"xn--vv4b11d.test site=xn--vv4b11d.test role=none src=delegation zone=xn--vv4b11d.test delegated ns=ns.xn--vv4b11d.test",
			},
		},
		{
			name: "a cut below a cut is the child's business; CNAME into a child",
			zone: `$ORIGIN t.
@          SOA ns host 1 2 3 4 5
@          NS  ns
ns         A   192.0.2.53
a          NS  ns.a
ns.a       A   192.0.2.54
b.a        NS  ns.a
alias      CNAME www.a
`,
			want: []string{
				"a.t site=a.t role=none src=delegation zone=t delegated ns=ns.a.t",
				"alias.t site=t role=web src=CNAME zone=t",
				"ns.t site=t role=nameserver src=A zone=t addrs=192.0.2.53",
				"t site=t role=none src=delegation zone=t delegated ns=ns.t",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sum, err := readText(t, tc.zone, Config{})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			checkLines(t, "hosts:", got, tc.want)
			if sum.Hosts != len(tc.want) {
				t.Errorf("summary hosts %d, want %d", sum.Hosts, len(tc.want))
			}
		})
	}
}

// The JSON form is the example line, field for field.
func TestHostJSON(t *testing.T) {
	h := Host{Name: "friend.com.test", Site: "friend.com.test", Role: "web", Delegated: true,
		Addrs: []string{"127.45.1.81"}, Zone: "com.test", Source: "probe", Nameservers: []string{"ns1.friend.com.test"}}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"friend.com.test","site":"friend.com.test","role":"web","delegated":true,"addrs":["127.45.1.81"],"zone":"com.test","source":"probe","nameservers":["ns1.friend.com.test"]}`
	if string(b) != want {
		t.Errorf("json\n got  %s\n want %s", b, want)
	}
}

func TestIsSubdomain(t *testing.T) {
	for _, tc := range []struct {
		apex, name string
		want       bool
	}{
		{"test.", "test.", true},
		{"test.", "a.test.", true},
		{"test.", "atest.", false},
		{"test.", "a\\.test.", false},
		{"test.", "a\\\\.test.", true},
		{".", "anything.", true},
		{"b.test.", "test.", false},
	} {
		if got := isSubdomain(tc.apex, tc.name); got != tc.want {
			t.Errorf("isSubdomain(%q, %q) = %v", tc.apex, tc.name, got)
		}
	}
}
