package discover

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// ReadZoneFiles reads master files (RFC 1035, or saved `dig AXFR` output)
// and reports the hosts of every zone in them. A file may hold several
// zones: each SOA whose owner differs from the current zone starts one,
// and the repeated SOA that closes a dig transfer ends it. The name "-" is
// read from Config.Stdin. A bad line is reported as FILE:LINE: CAUSE and
// the rest of the file is still read.
//
// Delegations to zones not in the files are followed live (as Discover
// does) unless Config.Offline is set; a file read with Offline set never
// touches the network.
func ReadZoneFiles(ctx context.Context, cfg Config, files ...string) (Summary, error) {
	r := newRun(cfg)
	if len(files) == 0 {
		return r.summary(), errors.New("discover: no zone file given")
	}
	if r.cfg.ZoneDir != "" && !r.cfg.Offline {
		if err := os.MkdirAll(r.cfg.ZoneDir, 0o755); err != nil {
			return r.summary(), fmt.Errorf("discover: zone dir: %w", err)
		}
	}
	set := &zoneSet{r: r, byApex: map[string]*zoneData{}}
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return r.summary(), fmt.Errorf("discover: %w", err)
		}
		if name == "-" {
			if r.cfg.Stdin == nil {
				r.warn(fmt.Errorf("zone file -: no standard input given"))
				continue
			}
			set.read(name, r.cfg.Stdin)
			continue
		}
		// Closed as soon as it is read: a run may be given thousands of files.
		f, err := os.Open(name)
		if err != nil {
			r.warn(fmt.Errorf("zone file: %w", err))
			continue
		}
		set.read(name, f)
		f.Close()
	}

	// The apexes are known only now, so a zone that is delegated by
	// another zone in the files is recognised as its child whatever the
	// order they came in.
	apexes := slices.Sorted(maps.Keys(set.byApex))
	for _, z := range set.byApex {
		z.markCuts()
	}
	parents := map[string]string{}
	for _, apex := range apexes {
		for off, end := dns.NextLabel(apex, 0); !end; off, end = dns.NextLabel(apex, off) {
			if p, ok := set.byApex[apex[off:]]; ok {
				if id, ok := p.names.lookup(apex); ok && p.ent.s[id].flags&flagCut != 0 && !p.occludedAbove([]byte(apex)) {
					parents[apex] = p.apex
				}
				break
			}
		}
		if apex != "." && parents[apex] == "" {
			if p, ok := set.byApex["."]; ok {
				if id, ok := p.names.lookup(apex); ok && p.ent.s[id].flags&flagCut != 0 {
					parents[apex] = "."
				}
			}
		}
	}
	r.zmu.Lock()
	for _, apex := range apexes {
		r.visited[apex] = true
		r.admitted++
	}
	r.zmu.Unlock()

	for _, apex := range apexes {
		z := set.byApex[apex]
		r.report(func(s *Summary) { s.Zones++; s.Files++; s.Skipped += z.outside })
		var j job
		if p := parents[apex]; p != "" {
			j.del = &delegation{zone: apex, parent: p}
		}
		r.zoneHosts(z, j, nil, 0, r.cfg.Offline)
		delete(set.byApex, apex) // let the zone's memory go as soon as it is done
	}
	r.work(ctx, nil)
	return r.finish(ctx)
}

// zoneSet splits the records of zone files into zones.
type zoneSet struct {
	r       *run
	byApex  map[string]*zoneData
	cur     *zoneData
	closed  bool     // cur's closing SOA was seen
	pending []dns.RR // records before any SOA and without $ORIGIN
	full    map[*zoneData]bool
}

// maxPending bounds the records held while a file has not yet said which
// zone they belong to.
const maxPending = 100_000

func (s *zoneSet) zone(apex string) *zoneData {
	if z, ok := s.byApex[apex]; ok {
		return z
	}
	z := newZoneData(apex)
	s.byApex[apex] = z
	return z
}

func (s *zoneSet) read(name string, in io.Reader) {
	s.cur, s.closed, s.pending = nil, false, nil
	at := func(line int, err error) error {
		return fmt.Errorf("%s:%d: %w", name, line, err)
	}
	parseZone(in, func(rr dns.RR, lr *lineReader) {
		if soa, ok := rr.(*dns.SOA); ok {
			apex, err := canonicalName(soa.Hdr.Name)
			if err != nil {
				s.r.warn(at(lr.recordLine(), fmt.Errorf("SOA: %w", err)))
				return
			}
			if s.cur != nil && s.cur.apex == apex && !s.closed && s.cur.hasSOA {
				s.closed = true // dig's closing SOA
				return
			}
			s.cur, s.closed = s.zone(apex), false
			s.flushPending(name, lr)
		} else if s.cur == nil {
			if lr.origin != "" {
				s.cur = s.zone(lr.origin)
			} else {
				if len(s.pending) >= maxPending {
					s.r.warn(at(lr.recordLine(), fmt.Errorf("more than %d records before any SOA or $ORIGIN: zone unknown, record dropped", maxPending)))
					s.r.report(func(sum *Summary) { sum.Skipped++ })
					return
				}
				s.pending = append(s.pending, rr)
				return
			}
		}
		s.add(name, s.cur, rr, lr.recordLine())
	}, func(line int, err error) {
		s.r.warn(at(line, fmt.Errorf("%w: %w", ErrBadLine, err)))
		s.r.report(func(sum *Summary) { sum.Skipped++ })
	})
	if len(s.pending) > 0 {
		// No SOA and no $ORIGIN: the apex is the shallowest NS owner, or
		// else the common suffix of all names.
		apex := ""
		for _, rr := range s.pending {
			if rr.Header().Rrtype == dns.TypeNS {
				o := dns.CanonicalName(rr.Header().Name)
				if apex == "" || dns.CountLabel(o) < dns.CountLabel(apex) {
					apex = o
				}
			}
		}
		if apex == "" {
			apex = dns.CanonicalName(s.pending[0].Header().Name)
			for _, rr := range s.pending[1:] {
				apex = commonSuffix(apex, dns.CanonicalName(rr.Header().Name))
			}
		}
		s.r.warn(fmt.Errorf("%s: no SOA and no $ORIGIN: taking %s as the zone", name, display(apex)))
		s.cur = s.zone(apex)
		s.flushPending(name, nil)
	}
}

func (s *zoneSet) flushPending(name string, lr *lineReader) {
	line := 0
	if lr != nil {
		line = lr.recordLine()
	}
	for _, rr := range s.pending {
		s.add(name, s.cur, rr, line)
	}
	s.pending = nil
}

func (s *zoneSet) add(name string, z *zoneData, rr dns.RR, line int) {
	if z.records >= s.r.cfg.MaxRecords {
		if s.full == nil {
			s.full = map[*zoneData]bool{}
		}
		if !s.full[z] {
			s.full[z] = true
			s.r.warn(fmt.Errorf("%s:%d: zone %s: more than %d records, the rest is skipped: %w", name, line, display(z.apex), s.r.cfg.MaxRecords, ErrTooManyRecords))
		}
		s.r.report(func(sum *Summary) { sum.Skipped++ })
		return
	}
	if err := z.add(rr); err != nil {
		s.r.warn(fmt.Errorf("%s:%d: %w", name, line, err))
	}
}

func commonSuffix(a, b string) string {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	n := 0
	for n < len(la) && n < len(lb) && la[len(la)-1-n] == lb[len(lb)-1-n] {
		n++
	}
	if n == 0 {
		return "."
	}
	return dns.Fqdn(strings.Join(la[len(la)-n:], "."))
}

// lineReader feeds the zone parser one byte at a time (so the parser keeps
// no read-ahead of its own and can be replaced after a bad line), counts
// lines, and watches $ORIGIN and $TTL so that a new parser can pick up
// where the old one stopped.
type lineReader struct {
	br     *bufio.Reader
	line   int // newlines consumed
	bytes  int64
	atBOL  bool // the last byte consumed was a newline (or nothing yet)
	cur    []byte
	origin string
	ttl    uint32
	hasTTL bool
}

const maxDirectiveLine = 1024

func (l *lineReader) ReadByte() (byte, error) {
	b, err := l.br.ReadByte()
	if err != nil {
		if err == io.EOF && len(l.cur) > 0 {
			l.directive()
		}
		return b, err
	}
	l.bytes++
	if b == '\n' {
		l.directive()
		l.line++
		l.atBOL = true
		l.cur = l.cur[:0]
		return b, nil
	}
	l.atBOL = false
	if len(l.cur) < maxDirectiveLine {
		l.cur = append(l.cur, b)
	}
	return b, nil
}

// Read makes lineReader the io.Reader dns.NewZoneParser takes; the parser
// finds ReadByte and uses only that, so its reads are never buffered.
func (l *lineReader) Read(p []byte) (int, error) {
	for i := range p {
		b, err := l.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}

func (l *lineReader) directive() {
	if len(l.cur) == 0 || l.cur[0] != '$' {
		return
	}
	f := strings.Fields(string(bytes.SplitN(l.cur, []byte(";"), 2)[0]))
	if len(f) < 2 {
		return
	}
	switch strings.ToUpper(f[0]) {
	case "$ORIGIN":
		o := f[1]
		if !dns.IsFqdn(o) && l.origin != "" && l.origin != "." {
			o = o + "." + l.origin
		}
		l.origin = dns.CanonicalName(o)
	case "$TTL":
		if v, err := strconv.ParseUint(f[1], 10, 32); err == nil {
			l.ttl, l.hasTTL = uint32(v), true
		}
	}
}

// recordLine is the line of the record the parser just returned: the
// parser has read past its newline, if it had one.
func (l *lineReader) recordLine() int {
	if l.atBOL {
		return l.line
	}
	return l.line + 1
}

// skipLine discards the rest of the current line.
func (l *lineReader) skipLine() error {
	for !l.atBOL {
		if _, err := l.ReadByte(); err != nil {
			return err
		}
	}
	return nil
}

var parseErrRE = regexp.MustCompile(`(?s)^(?:.*?: )?dns: (.*) at line: (\d+):(\d+)$`)

// parseZone reads master-file records from in, calling rr for each and bad
// for each line it cannot parse, then going on with the next line. miekg's
// ZoneParser stops at the first error, so after one a new parser is started
// on the rest of the input with the $ORIGIN and $TTL in force.
func parseZone(in io.Reader, rr func(dns.RR, *lineReader), bad func(line int, err error)) {
	lr := &lineReader{br: bufio.NewReaderSize(in, 64<<10), atBOL: true}
	for base, last := 0, int64(-1); ; {
		zp := dns.NewZoneParser(lr, lr.origin, "")
		// Files without $TTL and without a TTL on the first record are
		// common (hand-written zones); a TTL does not matter to us.
		zp.SetDefaultTTL(3600)
		if lr.hasTTL {
			zp.SetDefaultTTL(lr.ttl)
		}
		for r, ok := zp.Next(); ok; r, ok = zp.Next() {
			rr(r, lr)
		}
		err := zp.Err()
		if err == nil {
			return
		}
		line := lr.recordLine()
		cause := err.Error()
		if m := parseErrRE.FindStringSubmatch(cause); m != nil {
			cause = m[1]
			if n, e := strconv.Atoi(m[2]); e == nil {
				line = base + n
			}
		}
		bad(line, errors.New(cause))
		if lr.bytes == last { // no progress since the last restart: force one line
			if _, err := lr.ReadByte(); err != nil {
				return
			}
		}
		if line > lr.line || !lr.atBOL { // the bad line's newline is not consumed yet
			if lr.skipLine() != nil {
				return
			}
		}
		if _, err := lr.br.Peek(1); err != nil {
			return
		}
		base, last = lr.line, lr.bytes
	}
}
