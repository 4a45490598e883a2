package discover

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// ReadZoneFiles reads zone files and reports the hosts of every zone in
// them: RFC 1035 master files, saved `dig AXFR` output, and saved `dig`
// answers (`dig ANY name` for many names, one after the other). It is
// Discover with the files as Config.ZoneFiles and no zone named.
//
// A file may hold several zones. In transfer and master-file text, each
// SOA whose owner differs from the current zone starts one, and the
// repeated SOA that closes a dig transfer ends it. In dig answers, each
// answer is read by its structure (";; Got answer:", the question, the
// answer, authority and additional sections): its records belong to the
// zone its SOA names (or its NS records, for a referral), whatever order
// they come in. A record outside the zone it came with goes to the zone of
// the run that holds it, once every file is read; only when none does is
// it dropped. The name "-" is read from Config.Stdin.
//
// A bad line is reported as FILE:LINE: CAUSE and the rest of the file is
// still read; a file whose first lines are mostly bad is not a zone file
// and is rejected whole (Config.MaxBadLines).
//
// Delegations to zones not in the files are followed live (as Discover
// does) unless Config.Offline is set; a run with Offline set never touches
// the network.
func ReadZoneFiles(ctx context.Context, cfg Config, files ...string) (Summary, error) {
	if len(files) == 0 {
		return newRun(cfg).summary(), errors.New("discover: no zone file given")
	}
	cfg.ZoneFiles = append(slices.Clip(cfg.ZoneFiles), files...)
	return Discover(ctx, cfg)
}

// CheckZoneFiles checks that every zone file named can be opened and read
// ("-", standard input, is not checked), so that a mistyped name among
// many fails before any work. The error names every bad file.
func CheckZoneFiles(names ...string) error {
	var errs []error
	for _, name := range names {
		if name == "-" {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			errs = append(errs, fmt.Errorf("%w %s: %w", ErrZoneFile, name, err))
			continue
		}
		fi, err := f.Stat()
		if err == nil && fi.IsDir() {
			err = errors.New("is a directory")
		}
		if err == nil {
			_, err = f.Read(make([]byte, 1))
			if err == io.EOF {
				err = nil // empty: readable, and nothing found is said later
			}
		}
		f.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %s: %w", ErrZoneFile, name, err))
		}
	}
	return errors.Join(errs...)
}

// readFiles reads the zone files, reports the hosts of their zones and
// follows (or, offline, lists) their delegations. It returns the files
// that are no zone files, joined, or ctx's error.
func (r *run) readFiles(ctx context.Context, files []string) error {
	set := &zoneSet{r: r, byApex: map[string]*zoneData{}, files: map[string]*fileState{}}
	var rejected []error
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		in := r.cfg.Stdin
		var f *os.File
		if name != "-" {
			// Closed as soon as it is read: a run may be given thousands of files.
			var err error
			if f, err = os.Open(name); err != nil {
				rejected = append(rejected, fmt.Errorf("%w %s: %w", ErrZoneFile, name, err))
				continue
			}
			in = f
		}
		if err := set.read(name, in); err != nil {
			rejected = append(rejected, err)
		}
		if f != nil {
			f.Close()
		}
	}
	set.settle()

	// The apexes are known only now, so a zone that is delegated by
	// another zone in the files is recognised as its child whatever the
	// order they came in. Reverse zones go first: their PTR records lend
	// addresses to the forward zones' hosts.
	apexes := make([]string, 0, len(set.byApex))
	for apex := range set.byApex {
		apexes = append(apexes, apex)
	}
	slices.SortFunc(apexes, func(a, b string) int {
		if ra, rb := isReverseName(a), isReverseName(b); ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
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
	r.report(func(*Summary) {
		for _, apex := range apexes {
			if !isReverseName(apex) {
				r.ptr.scope[apex] = true
			}
		}
	})

	for _, apex := range apexes {
		z := set.byApex[apex]
		r.report(func(s *Summary) { s.Zones++; s.Files++ })
		var j job
		if p := parents[apex]; p != "" {
			j.del = &delegation{zone: apex, parent: p}
		}
		r.zoneHosts(z, j, nil, 0, r.cfg.Offline)
		delete(set.byApex, apex) // let the zone's memory go as soon as it is done
	}
	return errors.Join(rejected...)
}

// Sections of a dig answer.
const (
	secNone = iota
	secQuestion
	secAnswer
	secAuthority
	secAdditional
)

// zoneSet splits the records of zone files into zones.
type zoneSet struct {
	r       *run
	byApex  map[string]*zoneData
	cur     *zoneData
	closed  bool     // cur's closing SOA was seen
	pending []dns.RR // records before any SOA and without $ORIGIN
	full    map[*zoneData]bool

	// The dig answer being read, held until it ends: its SOA, wherever
	// it comes, says which zone its records belong to.
	block    []blockRR
	blockID  int
	question string
	// Records whose zone is known only when every file is read.
	loose []looseRR
	files map[string]*fileState
}

type blockRR struct {
	rr      dns.RR
	section int
	line    int
}

type looseRR struct {
	rr   dns.RR
	file string
	line int
	zone string // the zone it came with; "" when nothing said
}

// fileState counts one file's problems: the first Config.MaxBadLines are
// logged one by one, the rest only counted.
type fileState struct {
	shown, hidden int
}

// maxPending bounds the records held while a file has not yet said which
// zone they belong to, and the records held until every file is read.
const maxPending = 100_000

// maxBlock bounds the records of one dig answer held until it ends. A DNS
// message of 64 KiB holds a few thousand at most; a longer "answer" is
// taken in parts.
const maxBlock = 10_000

// maxJudged bounds the bytes read twice to judge whether a file is a zone
// file at all.
const maxJudged = 1 << 20

func (s *zoneSet) zone(apex string) *zoneData {
	if z, ok := s.byApex[apex]; ok {
		return z
	}
	z := newZoneData(apex)
	s.byApex[apex] = z
	return z
}

// problem reports a problem of a file, within the file's budget.
func (s *zoneSet) problem(file string, err error) {
	fs := s.files[file]
	if fs == nil {
		fs = &fileState{}
		s.files[file] = fs
	}
	if fs.shown < s.r.cfg.MaxBadLines {
		fs.shown++
		s.r.warn(err)
		return
	}
	fs.hidden++
	s.r.report(func(sum *Summary) { sum.Errors++ })
}

// read reads one file. It returns an ErrNotZoneFile error, and keeps
// nothing of the file, when the file is not a zone file.
func (s *zoneSet) read(name string, in io.Reader) error {
	if s.files[name] == nil {
		s.files[name] = &fileState{}
	}
	s.cur, s.closed, s.pending = nil, false, nil
	// The first lines are read twice: once to judge, then for real, so a
	// binary file is rejected with one error rather than a warning per line
	// and without leaving stray "records" behind.
	br := bufio.NewReaderSize(in, 64<<10)
	var head bytes.Buffer
	if err := judge(io.TeeReader(io.LimitReader(br, maxJudged), &head), s.r.cfg.MaxBadLines); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	at := func(line int, err error) error {
		return fmt.Errorf("%s:%d: %w", name, line, err)
	}
	parseZone(io.MultiReader(&head, br), func(rr dns.RR, lr *lineReader) bool {
		line := lr.recordLine()
		if s.blockID != 0 && s.blockID != lr.block {
			s.endBlock(name)
		}
		if lr.block != 0 {
			if lr.section >= secAnswer {
				if s.blockID == 0 {
					s.blockID, s.question = lr.block, lr.question
				}
				s.block = append(s.block, blockRR{rr: rr, section: lr.section, line: line})
				if len(s.block) >= maxBlock {
					s.endBlock(name)
				}
				return true
			}
			// A record outside any section: the answer is over, though
			// dig printed no trailer.
			lr.endBlock()
		}
		s.freeStanding(name, rr, lr, at)
		return true
	}, func(line int, err error) bool {
		s.problem(name, at(line, fmt.Errorf("%w: %w", ErrBadLine, err)))
		s.r.drop(DropBadLine, 1)
		return true
	})
	s.endBlock(name)
	if len(s.pending) > 0 {
		apex := guessApex(s.pending)
		s.r.warn(fmt.Errorf("%s: no SOA and no $ORIGIN: taking %s as the zone", name, display(apex)))
		s.cur = s.zone(apex)
		s.flushPending(name, nil)
	}
	return nil
}

// judge reads the start of a file as the parser would, and returns an
// ErrNotZoneFile error when maxBad bad lines come before as many records.
func judge(in io.Reader, maxBad int) error {
	good, bad, last := 0, 0, 0
	parseZone(in, func(dns.RR, *lineReader) bool {
		good++
		return good < maxBad
	}, func(line int, _ error) bool {
		bad++
		last = line
		return bad < maxBad
	})
	if bad >= maxBad && good < maxBad {
		return fmt.Errorf("%w (%d bad lines in the first %d)", ErrNotZoneFile, bad, last)
	}
	return nil
}

// freeStanding takes a record of transfer or master-file text: the
// current zone is the one the last SOA (or $ORIGIN) started.
func (s *zoneSet) freeStanding(name string, rr dns.RR, lr *lineReader, at func(int, error) error) {
	line := lr.recordLine()
	if soa, ok := rr.(*dns.SOA); ok {
		apex, err := canonicalName(soa.Hdr.Name)
		if err != nil {
			s.problem(name, at(line, fmt.Errorf("SOA: %w: %w", ErrBadName, err)))
			s.r.drop(DropBadName, 1)
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
				s.problem(name, at(line, fmt.Errorf("more than %d records before any SOA or $ORIGIN: zone unknown, record dropped", maxPending)))
				s.r.drop(DropNoZone, 1)
				return
			}
			s.pending = append(s.pending, rr)
			return
		}
	}
	s.place(name, s.cur, rr, line)
}

// place adds a record to z, or, when its owner is outside z, keeps it for
// the zone of the run that holds it (known when every file is read).
func (s *zoneSet) place(name string, z *zoneData, rr dns.RR, line int) {
	owner, err := canonicalName(rr.Header().Name)
	if err == nil && !z.inZone(owner) {
		s.hold(looseRR{rr: rr, file: name, line: line, zone: z.apex})
		return
	}
	s.addNamed(name, z, rr, line, owner, err)
}

func (s *zoneSet) hold(l looseRR) {
	if len(s.loose) >= maxPending {
		s.problem(l.file, fmt.Errorf("%s:%d: %s %s: more than %d records wait for their zone: %w", l.file, l.line,
			display(dns.CanonicalName(l.rr.Header().Name)), dns.TypeToString[l.rr.Header().Rrtype], maxPending, ErrOutsideZone))
		s.r.drop(DropOutsideZone, 1)
		return
	}
	s.loose = append(s.loose, l)
}

// endBlock files the records of the dig answer just read. The zone is the
// one its SOA names (in the answer, or the authority section of a negative
// answer); without an SOA, the deepest NS owner at or above the question
// (a referral, or an answer for a zone apex); without either, the zone
// that holds the records once every file is read.
func (s *zoneSet) endBlock(name string) {
	recs, q := s.block, s.question
	s.block, s.blockID, s.question = nil, 0, ""
	apex := ""
	for _, b := range recs {
		if soa, ok := b.rr.(*dns.SOA); ok && b.section != secAdditional {
			if a, err := canonicalName(soa.Hdr.Name); err == nil {
				apex = a
				break
			}
		}
	}
	if apex == "" {
		for _, b := range recs {
			if ns, ok := b.rr.(*dns.NS); ok && b.section != secAdditional {
				// The deepest, and of equals the first in name order, so that
				// the order of the records does not matter.
				o, err := canonicalName(ns.Hdr.Name)
				if err == nil && (q == "" || isSubdomain(o, q)) && (len(o) > len(apex) || len(o) == len(apex) && o < apex) {
					apex = o
				}
			}
		}
	}
	for _, b := range recs {
		if apex == "" {
			s.hold(looseRR{rr: b.rr, file: name, line: b.line})
			continue
		}
		s.place(name, s.zone(apex), b.rr, b.line)
	}
}

// settle files the records held until every file was read: each goes to
// the deepest zone that holds it. A record that came with a zone and that
// no zone holds is dropped; records that came with none and that no zone
// holds make a zone of their own, as a file without SOA does.
func (s *zoneSet) settle() {
	loose := s.loose
	s.loose = nil
	var orphans []string // files, in order
	byFile := map[string][]looseRR{}
	for _, l := range loose {
		h := l.rr.Header()
		owner, err := canonicalName(h.Name)
		if err != nil {
			s.problem(l.file, fmt.Errorf("%s:%d: %s %s: %w: %w", l.file, l.line, h.Name, dns.TypeToString[h.Rrtype], ErrBadName, err))
			s.r.drop(DropBadName, 1)
			continue
		}
		if z := s.enclosing(owner); z != nil {
			s.add(l.file, z, l.rr, l.line)
			continue
		}
		if l.zone != "" {
			s.problem(l.file, fmt.Errorf("%s:%d: %s %s in zone %s: %w", l.file, l.line, display(owner), dns.TypeToString[h.Rrtype], display(l.zone), ErrOutsideZone))
			s.r.drop(DropOutsideZone, 1)
			continue
		}
		if byFile[l.file] == nil {
			orphans = append(orphans, l.file)
		}
		byFile[l.file] = append(byFile[l.file], l)
	}
	for _, file := range orphans {
		ls := byFile[file]
		rrs := make([]dns.RR, len(ls))
		for i, l := range ls {
			rrs[i] = l.rr
		}
		apex := guessApex(rrs)
		s.r.warn(fmt.Errorf("%s: answers without SOA: taking %s as their zone", file, display(apex)))
		z := s.zone(apex)
		for _, l := range ls {
			s.add(l.file, z, l.rr, l.line)
		}
	}
	for file, fs := range s.files {
		if fs.hidden > 0 {
			s.r.cfg.Logger.Warn(fmt.Sprintf("%s: %d more problems (not shown one by one)", file, fs.hidden))
		}
	}
}

// enclosing returns the deepest zone of the set at or above name.
func (s *zoneSet) enclosing(name string) *zoneData {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z, ok := s.byApex[name[off:]]; ok {
			return z
		}
	}
	return s.byApex["."]
}

// guessApex names the zone of records that came without SOA or $ORIGIN:
// the shallowest NS owner, or else the common suffix of all names.
func guessApex(rrs []dns.RR) string {
	apex := ""
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeNS {
			o := dns.CanonicalName(rr.Header().Name)
			if apex == "" || dns.CountLabel(o) < dns.CountLabel(apex) {
				apex = o
			}
		}
	}
	if apex == "" {
		apex = dns.CanonicalName(rrs[0].Header().Name)
		for _, rr := range rrs[1:] {
			apex = commonSuffix(apex, dns.CanonicalName(rr.Header().Name))
		}
	}
	return apex
}

func (s *zoneSet) flushPending(name string, lr *lineReader) {
	line := 0
	if lr != nil {
		line = lr.recordLine()
	}
	pending := s.pending
	s.pending = nil
	for _, rr := range pending {
		s.place(name, s.cur, rr, line)
	}
}

func (s *zoneSet) add(name string, z *zoneData, rr dns.RR, line int) {
	owner, err := canonicalName(rr.Header().Name)
	s.addNamed(name, z, rr, line, owner, err)
}

func (s *zoneSet) addNamed(name string, z *zoneData, rr dns.RR, line int, owner string, nameErr error) {
	if z.records >= s.r.cfg.MaxRecords {
		if s.full == nil {
			s.full = map[*zoneData]bool{}
		}
		if !s.full[z] {
			s.full[z] = true
			s.r.warn(fmt.Errorf("%s:%d: zone %s: more than %d records, the rest is skipped: %w", name, line, display(z.apex), s.r.cfg.MaxRecords, ErrTooManyRecords))
		}
		s.r.drop(DropTooMany, 1)
		return
	}
	if err := z.addNamed(rr, owner, nameErr); err != nil {
		s.problem(name, fmt.Errorf("%s:%d: %w", name, line, err))
		s.r.drop(dropReason(err), 1)
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
// where the old one stopped. It also follows the structure of saved dig
// output, which the parser sees only as comments: the parser returns a
// record as soon as it has read the record's newline, so when a record
// comes back, block and section are those it was read in.
type lineReader struct {
	br     *bufio.Reader
	line   int // newlines consumed
	bytes  int64
	atBOL  bool // the last byte consumed was a newline (or nothing yet)
	cur    []byte
	origin string
	ttl    uint32
	hasTTL bool
	replay []byte // the start of a line to read again (see parseZone)

	blocks   int    // dig answers begun so far
	block    int    // the dig answer being read (its number), 0 for none
	section  int    // its section (secNone between sections)
	question string // its question name, canonical; "" if none was read
}

const maxDirectiveLine = 1024

func (l *lineReader) ReadByte() (byte, error) {
	var b byte
	if len(l.replay) > 0 {
		b, l.replay = l.replay[0], l.replay[1:]
	} else {
		var err error
		if b, err = l.br.ReadByte(); err != nil {
			if err == io.EOF && len(l.cur) > 0 {
				l.directive()
				l.structure()
			}
			return b, err
		}
		l.bytes++
	}
	if b == '\n' {
		l.directive()
		l.structure()
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

// Lines of saved dig output that start, divide and end an answer.
var (
	digHeader    = []byte("; <<>> DiG ")
	digGotAnswer = []byte(";; Got answer:")
	digHead      = []byte(";; ->>HEADER<<-")
	digSection   = []byte(" SECTION:")
	digQuestion  = []byte(";; QUESTION SECTION:")
	digAnswer    = []byte(";; ANSWER SECTION:")
	digAuthority = []byte(";; AUTHORITY SECTION:")
	digAdditonal = []byte(";; ADDITIONAL SECTION:")
	digEnds      = [][]byte{
		[]byte(";; Query time:"), []byte(";; MSG SIZE"), []byte(";; XFR size"),
		[]byte("; Transfer failed"), []byte(";; connection timed out"), []byte(";; communications error"),
	}
)

// structure follows dig output by its comment lines. An answer begins at
// ";; Got answer:" (or its header or first section, when that line was
// cut), is divided by ";; X SECTION:" lines and blank lines, and ends at
// its statistics (";; Query time:"), a failure line, or the next dig
// command. Anything else is not dig's and changes nothing.
func (l *lineReader) structure() {
	line := bytes.TrimRight(l.cur, " \t\r")
	if len(line) == 0 {
		l.section = secNone
		return
	}
	if line[0] != ';' {
		return
	}
	begin := func() {
		if l.block == 0 {
			l.blocks++
			l.block, l.section, l.question = l.blocks, secNone, ""
		}
	}
	switch {
	case bytes.HasPrefix(line, digHeader):
		l.endBlock()
	case bytes.HasPrefix(line, digGotAnswer):
		l.endBlock()
		begin()
	case bytes.HasPrefix(line, digHead):
		begin()
	case bytes.HasPrefix(line, digQuestion):
		begin()
		l.section = secQuestion
	case bytes.HasPrefix(line, digAnswer):
		begin()
		l.section = secAnswer
	case bytes.HasPrefix(line, digAuthority):
		begin()
		l.section = secAuthority
	case bytes.HasPrefix(line, digAdditonal):
		begin()
		l.section = secAdditional
	case bytes.HasPrefix(line, []byte(";;")) && bytes.HasSuffix(line, digSection):
		l.section = secNone // OPT PSEUDOSECTION and the like
	case l.section == secQuestion && l.block != 0 && len(line) > 1 && line[1] != ';':
		// ";kcna.kp.			IN	ANY"
		if f := strings.Fields(string(line[1:])); len(f) > 0 {
			if q, err := canonicalName(f[0]); err == nil {
				l.question = q
			}
		}
	default:
		for _, end := range digEnds {
			if bytes.HasPrefix(line, end) {
				l.endBlock()
				return
			}
		}
	}
}

// endBlock leaves the dig answer being read, if any.
func (l *lineReader) endBlock() {
	l.block, l.section, l.question = 0, secNone, ""
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
// for each line it cannot parse, then going on with the next line, until
// the input ends or a callback returns false. miekg's ZoneParser stops at
// the first error, so after one a new parser is started on the rest of the
// input with the $ORIGIN and $TTL in force.
func parseZone(in io.Reader, rr func(dns.RR, *lineReader) bool, bad func(line int, err error) bool) {
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
			if !rr(r, lr) {
				return
			}
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
		if !bad(line, errors.New(cause)) {
			return
		}
		if lr.bytes == last && len(lr.replay) == 0 { // no progress since the last restart: force one line
			if _, err := lr.ReadByte(); err != nil {
				return
			}
		}
		switch {
		case lr.atBOL && line <= lr.line:
			// The bad line is behind us.
		case !lr.atBOL && line <= lr.line && len(lr.cur) < maxDirectiveLine:
			// The parser read past the bad line into the next one, which
			// may be good: the next parser reads what it took again.
			lr.replay = append([]byte(nil), lr.cur...)
			lr.cur, lr.atBOL = lr.cur[:0], true
		default: // the rest of the bad line is still to come
			if lr.skipLine() != nil {
				return
			}
		}
		if len(lr.replay) == 0 {
			if _, err := lr.br.Peek(1); err != nil {
				return
			}
		}
		base, last = lr.line, lr.bytes
	}
}
