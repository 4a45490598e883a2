package discover

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// readFiles runs ReadZoneFiles offline and returns the hosts as sorted
// hostLines.
func readFiles(t *testing.T, cfg Config, files ...string) ([]string, Summary, error) {
	t.Helper()
	var c collector
	cfg.Offline = true
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	sum, err := ReadZoneFiles(context.Background(), c.config(cfg), files...)
	return c.lines(), sum, err
}

// Saved `dig ANY` answers for many names, one after the other, are read by
// their structure: each answer's records belong to the zone its SOA names,
// wherever the SOA comes, so an address listed before its SOA is kept.
// Only what has a real reason to go is dropped, and counted.
func TestDigAnswers(t *testing.T) {
	got, sum, err := readFiles(t, Config{}, "testdata/any-answers.dig")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"airline.com.kp site=airline.com.kp role=web src=A zone=airline.com.kp delegated addrs=203.0.113.69 ns=ns1.airline.com.kp,ns2.airline.com.kp",
		"com.kp site=com.kp role=none src=delegation zone=com.kp delegated ns=ns1.com.kp,ns2.com.kp",
		"cooks.org.kp site=cooks.org.kp role=web src=A zone=cooks.org.kp delegated addrs=203.0.113.81 ns=ns1.cooks.org.kp,ns2.cooks.org.kp",
		"friend.com.kp site=friend.com.kp role=web src=A zone=friend.com.kp delegated addrs=203.0.113.81 ns=ns1.friend.com.kp,ns2.friend.com.kp",
		"kp site=kp role=none src=delegation zone=kp delegated ns=ns1.kptc.kp,ns2.kptc.kp,ns3.kptc.kp",
		// Named only by the nameservers of kp: a domain all the same.
		"kptc.kp site=kptc.kp role=none src=NS zone=kp ns=ns1.kptc.kp,ns2.kptc.kp,ns3.kptc.kp",
		"museum.edu.kp site=museum.edu.kp role=web src=A zone=museum.edu.kp delegated addrs=203.0.113.79 ns=ns.hoster.example.net,ns1.museum.edu.kp",
		// From the additional section of an authoritative answer.
		"news.rep.kp site=news.rep.kp role=web src=A zone=news.rep.kp delegated addrs=203.0.113.73,203.0.113.83 ns=ns1.news.rep.kp,ns2.news.rep.kp",
		"ns1.museum.edu.kp site=museum.edu.kp role=nameserver src=A zone=museum.edu.kp addrs=198.51.100.8",
		"portal.net.kp site=portal.net.kp role=web src=A zone=portal.net.kp delegated addrs=203.0.113.67,2001:db8:4b::67 ns=ns1.portal.net.kp,ns2.portal.net.kp",
		"star.net.kp site=star.net.kp role=web src=A zone=star.net.kp delegated addrs=203.0.113.30 ns=ns1.star.net.kp",
		// An answer without SOA belongs to the zone its NS records name.
		"trade.com.kp site=trade.com.kp role=web src=A zone=trade.com.kp delegated addrs=203.0.113.77 ns=ns1.trade.com.kp,ns2.trade.com.kp",
		"www.trade.com.kp site=trade.com.kp role=web src=CNAME zone=trade.com.kp addrs=203.0.113.77",
	}
	checkLines(t, "hosts", got, want)
	// The one bad line (an address of 300) and the glue of a nameserver
	// outside every zone read: nothing else.
	wantDrops := map[string]int{DropBadLine: 1, DropOutsideZone: 1}
	if !maps.Equal(sum.Drops, wantDrops) || sum.Dropped != 2 {
		t.Errorf("dropped %d %v, want 2 %v", sum.Dropped, sum.Drops, wantDrops)
	}
	if sum.Files != 10 || sum.Errors != 2 {
		t.Errorf("%d zones from the file, %d problems; want 10 and 2", sum.Files, sum.Errors)
	}
}

// The records of an answer may come in any order: reversing every section
// of every answer changes nothing.
func TestDigAnswerOrder(t *testing.T) {
	text, err := os.ReadFile("testdata/any-answers.dig")
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := readText(t, string(text), Config{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := readText(t, reverseSections(string(text)), Config{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	checkLines(t, "hosts with every section reversed", got, want)
}

// recordSection reports a line that opens a section of records in a dig
// answer, as the reader sees it.
func recordSection(line string) bool {
	for _, s := range []string{";; ANSWER SECTION:", ";; AUTHORITY SECTION:", ";; ADDITIONAL SECTION:"} {
		if strings.HasPrefix(line, s) {
			return true
		}
	}
	return false
}

// reverseSections reverses the record lines of every section of every dig
// answer in text (runs of lines that are neither blank nor comments).
func reverseSections(text string) string {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); {
		if !recordSection(lines[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(lines) && lines[j] != "" && !strings.HasPrefix(lines[j], ";") {
			j++
		}
		slices.Reverse(lines[i+1 : j])
		i = j
	}
	return strings.Join(lines, "\n")
}

// Every record dropped is counted by its reason, and nothing else is.
func TestDropsCounted(t *testing.T) {
	text := `$ORIGIN z.test.
@        SOA   ns host 1 2 3 4 5
@        NS    ns
ns       A     192.0.2.1
bad      A     300.1.1.1
other.example.  A  192.0.2.9
a        TXT   "read, not dropped"
_sip._tcp SRV  0 5 5060 sip
\200\201 A     192.0.2.3
www      A     192.0.2.2
x        A     192.0.2.4
y        A     192.0.2.5
`
	got, sum, err := readText(t, text, Config{MaxRecords: 6})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{DropBadLine: 1, DropOutsideZone: 1, DropBadName: 1, DropTooMany: 2}
	if !maps.Equal(sum.Drops, want) || sum.Dropped != 5 {
		t.Errorf("dropped %d %v, want 5 %v", sum.Dropped, sum.Drops, want)
	}
	if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "www.z.test ") }) {
		t.Errorf("www.z.test lost: %v", got)
	}
}

// A file with a few bad lines keeps its good records and says how many
// lines were bad; past Config.MaxBadLines the problems are counted, not
// each logged.
func TestFewBadLines(t *testing.T) {
	var text strings.Builder
	text.WriteString("$ORIGIN z.test.\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n")
	for i := range 30 {
		text.WriteString("h" + strings.Repeat("x", i%3) + " A 192.0.2.10\n")
		if i%5 == 0 {
			text.WriteString("broken A A A\n")
		}
	}
	msgs := &messages{}
	got, sum, err := readText(t, text.String(), Config{MaxBadLines: 4, Logger: slog.New(msgs)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Drops[DropBadLine] != 6 || len(got) < 4 {
		t.Errorf("bad lines %d (want 6), hosts %v", sum.Drops[DropBadLine], got)
	}
	var warned int
	for _, m := range msgs.list {
		if strings.HasPrefix(m, "WARN") && strings.Contains(m, ErrBadLine.Error()) {
			warned++
		}
	}
	if warned != 4 || !slices.ContainsFunc(msgs.list, func(m string) bool { return strings.Contains(m, "2 more problems") }) {
		t.Errorf("%d bad lines logged one by one, want 4 and a line for the other 2: %q", warned, msgs.list)
	}
	if sum.Errors != 6 {
		t.Errorf("%d problems, want 6", sum.Errors)
	}
}

// A file that is no zone file (a binary) is rejected with one clear error
// after a bounded number of bad lines, without a warning per line and
// without keeping anything of it; the other files are read.
func TestNotAZoneFile(t *testing.T) {
	for _, maxBad := range []int{0, 5} {
		msgs := &messages{}
		got, sum, err := readFiles(t, Config{MaxBadLines: maxBad, Logger: slog.New(msgs)}, "testdata/binary.bin", "testdata/kp.zone")
		n := maxBad
		if n == 0 {
			n = 20 // the default
		}
		if !errors.Is(err, ErrNotZoneFile) || !strings.Contains(err.Error(), "testdata/binary.bin: not a zone file ("+strconv.Itoa(n)+" bad lines in the first ") {
			t.Errorf("max %d: error %v, want testdata/binary.bin: not a zone file (%d bad lines in the first …)", maxBad, err, n)
		}
		if strings.Count(err.Error(), "not a zone file") != 1 {
			t.Errorf("error %q says it more than once", err)
		}
		for _, m := range msgs.list {
			if strings.Contains(m, "binary.bin") {
				t.Errorf("logged about the binary besides the error: %q", m)
			}
		}
		if sum.Drops[DropBadLine] != 0 || len(got) == 0 {
			t.Errorf("max %d: hosts %v drops %v: the binary left something, or kp.zone was not read", maxBad, got, sum.Drops)
		}
	}
}

// Every zone file is checked before any work: a missing one among several
// fails at once, naming it, with nothing reported.
func TestZoneFileMissing(t *testing.T) {
	dir := t.TempDir()
	var c collector
	cfg := c.config(Config{Offline: true, Logger: testLogger(t)})
	_, err := ReadZoneFiles(context.Background(), cfg, "testdata/kp.zone", "testdata/kp.zoen", dir)
	if !errors.Is(err, ErrZoneFile) || !strings.Contains(err.Error(), "testdata/kp.zoen: no such file") ||
		!strings.Contains(err.Error(), dir+": is a directory") {
		t.Errorf("error %v, want it to name testdata/kp.zoen and the directory", err)
	}
	if len(c.hosts) > 0 {
		t.Errorf("%d hosts reported before the bad file was noticed", len(c.hosts))
	}
}

// FuzzDigAnswers checks the structure reader on dig answers: whatever the
// text, reversing the records of every section gives the same hosts (the
// answer's SOA, not the order, says which zone a record belongs to). Texts
// whose sections hold SOAs of two zones, or whose record lines depend on
// what came before them, are not comparable and are skipped.
func FuzzDigAnswers(f *testing.F) {
	for _, file := range []string{"testdata/any-answers.dig", "testdata/reverse.zone"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(";; Got answer:\n;; QUESTION SECTION:\n;a.t. IN ANY\n\n;; ANSWER SECTION:\na.t. 1 IN A 192.0.2.1\na.t. 1 IN SOA n.a.t. h.a.t. 1 2 3 4 5\n\n;; Query time: 1 msec\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !comparableSections(string(data)) {
			return
		}
		read := func(text string) []string {
			var got []string
			cfg := Config{Offline: true, Stdin: strings.NewReader(text), MaxRecords: 10000, MaxBadLines: 1 << 20,
				OnHost: func(h Host) { got = append(got, hostLine(h)) }}
			ReadZoneFiles(context.Background(), cfg, "-")
			slices.Sort(got)
			return got
		}
		a, b := read(string(data)), read(reverseSections(string(data)))
		if !slices.Equal(a, b) {
			t.Errorf("reversing the sections changed the hosts:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	})
}

// comparableSections reports whether every record line in a section is a
// record complete on its own (absolute owner, no parentheses, no
// directive, no quote or escape the lexer could carry over) and whether
// each section holds SOAs of one owner at most.
func comparableSections(text string) bool {
	if bytes.ContainsAny([]byte(text), "\x00\r") {
		return false
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !recordSection(l) {
			continue
		}
		soa := ""
		cnames := map[string]bool{}
		for _, r := range lines[i+1:] {
			if r == "" || strings.HasPrefix(r, ";") {
				break
			}
			f := strings.Fields(r)
			if len(f) == 0 || !strings.HasSuffix(f[0], ".") || strings.ContainsAny(r, "()$\"\\;") || r[0] == ' ' || r[0] == '\t' {
				return false
			}
			// A bad line, or a record with empty data (which the lexer may
			// complete from the next line): where the parser picks up again
			// depends on the neighbours.
			// It must also end at its newline: a record followed by another.
			zp := dns.NewZoneParser(strings.NewReader(r+"\nnext. A 192.0.2.1\n"), "", "")
			zp.SetDefaultTTL(3600)
			rr, ok := zp.Next()
			next, ok2 := zp.Next()
			if !ok || !ok2 || zp.Err() != nil || next.Header().Name != "next." ||
				strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String())) == "" {
				return false
			}
			for _, x := range f[1:] {
				if strings.EqualFold(x, "CNAME") {
					if cnames[strings.ToLower(f[0])] {
						return false // two CNAMEs at one name: the last wins
					}
					cnames[strings.ToLower(f[0])] = true
				}
				if strings.EqualFold(x, "SOA") {
					if soa != "" && !strings.EqualFold(soa, f[0]) {
						return false
					}
					soa = f[0]
				}
			}
		}
	}
	return true
}
