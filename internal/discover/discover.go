package discover

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"time"
)

// Host is one name discovery found. Its JSON form is the line printed by
// `crawl discover --json` and mirrored by archive.HostEntry.
type Host struct {
	Name string `json:"name"` // lowercase A-labels, no trailing dot
	// Site is the nearest zone cut at or above Name, or the domain its
	// nameservers imply (kptc.kp for ns1.kptc.kp when the kp zone holds no
	// cut there: a domain named only by its nameservers is still a domain).
	Site      string   `json:"site"`
	Role      string   `json:"role"`      // web, nameserver, mail, none
	Delegated bool     `json:"delegated"` // Name is a zone apex: a cut in its parent, or a zone transferred or read
	Addrs     []string `json:"addrs"`     // sorted; empty when unknown (e.g. a CNAME out of zone)
	// Zone is the zone whose data named the host. For the apex of a
	// delegated child that is the parent zone (where the delegation was
	// found); for a zone given on the command line or read from a file it
	// is the zone itself.
	Zone        string   `json:"zone"`
	Source      string   `json:"source"`                // delegation, A, AAAA, CNAME, NS, PTR, probe
	Nameservers []string `json:"nameservers,omitempty"` // zone apexes only, sorted
}

// Roles and sources of a Host.
const (
	RoleWeb        = "web"
	RoleNameserver = "nameserver"
	RoleMail       = "mail"
	RoleNone       = "none"

	SourceDelegation = "delegation"
	SourceA          = "A"
	SourceAAAA       = "AAAA"
	SourceCNAME      = "CNAME"
	SourceNS         = "NS"  // a domain implied by its nameservers' names
	SourcePTR        = "PTR" // addresses from reverse zones (PTR records)
	SourceProbe      = "probe"
)

// Reasons a record is dropped, the keys of Summary.Drops. Nothing else is
// dropped: a record that gives no host (a TXT, an SRV) is read, not dropped.
const (
	DropBadLine     = "bad-line"         // a line that is no record (counted once per line)
	DropOutsideZone = "outside-zone"     // its owner is outside the zone it came with, and outside every zone of the run
	DropBadName     = "bad-name"         // a name that is neither ASCII nor valid IDNA
	DropTooMany     = "over-max-records" // beyond Config.MaxRecords for its zone
	DropNoZone      = "no-zone"          // too many records before anything said which zone they belong to
	DropBadReverse  = "bad-reverse-name" // a PTR owner under in-addr.arpa or ip6.arpa that is no address
	DropOutOfScope  = "ptr-out-of-scope" // a PTR target outside the zones being discovered
)

// Attempt is one zone transfer attempt against one server address.
type Attempt struct {
	Zone     string // no trailing dot
	Server   string // IP:port
	Outcome  string // one of the Outcome constants
	Error    string // "" when transferred
	Serial   uint32
	Records  int
	Duration time.Duration
	Time     time.Time
}

// Outcomes of a transfer attempt.
const (
	OutcomeTransferred       = "transferred"
	OutcomeRefused           = "refused"
	OutcomeNotAuthoritative  = "not-authoritative"
	OutcomeTimeout           = "timeout"
	OutcomeConnectionRefused = "connection-refused"
	OutcomeBroken            = "broken"
)

// Transfer is one complete zone transfer, reported after it was saved.
type Transfer struct {
	Zone    string // no trailing dot
	Server  string // IP:port
	Serial  uint32
	Records int    // records written (the closing SOA is not repeated)
	File    string // the saved master file, "" when Config.ZoneDir is ""
	Time    time.Time
}

// Lookup is one direct (non-AXFR) query made to a nameserver.
type Lookup struct {
	Name   string // no trailing dot
	Type   string // A, AAAA, CNAME, NS
	Server string // IP:port
	Time   time.Time
	Answer string // RFC 1035 text of the answer RRs, one per line; "" if none
	Rcode  string // NOERROR, NXDOMAIN, REFUSED…; "" when no answer came
}

// Sentinel errors for the classes of failure callers branch on. Errors
// returned or logged by this package wrap them.
var (
	ErrRefused          = errors.New("transfer refused")
	ErrNotAuthoritative = errors.New("server not authoritative")
	ErrTimeout          = errors.New("timed out")
	ErrConnRefused      = errors.New("connection refused")
	ErrBroken           = errors.New("broken transfer")
	ErrTooManyRecords   = errors.New("too many records")
	ErrSOAMismatch      = errors.New("SOA mismatch")
	ErrOutsideZone      = errors.New("name outside the zone")
	ErrNoServers        = errors.New("no nameserver address")
	ErrBadLine          = errors.New("bad zone file line")
	ErrBadName          = errors.New("bad name")
	ErrBadReverseName   = errors.New("not a reverse address")
	ErrNotZoneFile      = errors.New("not a zone file")
	ErrZoneFile         = errors.New("zone file") // missing, unreadable, a directory: "zone file NAME: CAUSE"
	ErrOffline          = errors.New("offline: no server is asked")
	ErrNothingFound     = errors.New("no host found")
)

// Config controls discovery. The zero value works: every zero field gets
// the default written in withDefaults.
type Config struct {
	// Nameservers (ADDR or ADDR:PORT) are asked for the zones given to
	// Discover. When empty, the zone's NS set is looked up with Resolver.
	Nameservers []string
	// Port is used for nameserver addresses found by delegation or by the
	// system resolver (default 53; the local world uses a high port).
	Port int
	// Labels are probed below a zone apex when a transfer fails
	// (default ["www"]).
	Labels []string
	// Depth is how many delegation levels below a given zone are
	// followed (default 3; negative means 0, i.e. no following).
	Depth int
	// MaxZones caps the zones visited in one run (default 10000). Further
	// delegations are still listed as hosts, just not followed.
	MaxZones int
	// MaxRecords caps the records of one transfer or one zone read from a
	// file (default 5,000,000).
	MaxRecords int
	// MaxBadLines bounds bad lines per zone file (default 20): a file with
	// this many bad lines before as many good records is not a zone file
	// (a binary, a log) and is rejected whole with one ErrNotZoneFile error;
	// in a file that is accepted, the first MaxBadLines problems are logged
	// one by one and the rest only counted.
	MaxBadLines int
	// Concurrency caps the zones worked on at once (default 16).
	Concurrency int
	// Timeout is the per-query timeout and, for transfers, the per-message
	// read timeout (default 5s).
	Timeout time.Duration
	// TransferTimeout caps one whole transfer (default 10m).
	TransferTimeout time.Duration
	// ZoneDir is where each transferred zone is saved as ZONE_SERIAL.zone
	// ("" = don't save).
	ZoneDir string
	// ZoneFiles are read before any server is asked: RFC 1035 master
	// files, saved `dig AXFR` output, or saved `dig` answers (ANY queries
	// and the like), "-" for Stdin. Every file is checked before any work;
	// a zone they hold is not asked for again when also named to Discover.
	ZoneFiles []string
	// Offline means no network at all: no transfer, no query, no system
	// resolver. Zones come from ZoneFiles only; their delegations are
	// listed, not followed, and a zone named to Discover that no file holds
	// is reported and skipped.
	Offline bool
	// Stdin is read for the zone file name "-" (default os.Stdin is NOT
	// assumed: a nil Stdin makes "-" an error).
	Stdin io.Reader
	// Resolver looks up the NS set of the zones given to Discover when
	// Nameservers is empty, and NS names no known server can answer. It is
	// never used when Nameservers is set. Default net.DefaultResolver.
	Resolver *net.Resolver
	// Logger receives warnings (what needs the user's attention: bad
	// input, dropped records, zones nothing could be learned from) and, at
	// info level, the normal course of things such as refused transfers
	// (default: discard).
	Logger *slog.Logger

	// Callbacks. They are never called concurrently with each other (the
	// package serialises them), but they may be called from different
	// goroutines, and they must not call back into the same run.
	OnHost     func(Host)     // once per final host
	OnAttempt  func(Attempt)  // each transfer attempt
	OnTransfer func(Transfer) // after a complete transfer was saved
	OnLookup   func(Lookup)   // each direct query to a nameserver
}

// withDefaults fills in the zero fields; the one place defaults live.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 53
	}
	if len(c.Labels) == 0 {
		c.Labels = []string{"www"}
	}
	if c.Depth == 0 {
		c.Depth = 3
	} else if c.Depth < 0 {
		c.Depth = 0
	}
	if c.MaxZones <= 0 {
		c.MaxZones = 10000
	}
	if c.MaxRecords <= 0 {
		c.MaxRecords = 5_000_000
	}
	if c.MaxBadLines <= 0 {
		c.MaxBadLines = 20
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.TransferTimeout <= 0 {
		c.TransferTimeout = 10 * time.Minute
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Summary counts what a run did. The command line sets its exit status
// from it: Hosts == 0 means nothing was found. Its JSON form is the summary
// `crawl discover --json` prints.
type Summary struct {
	Zones       int            `json:"zones"`       // zones worked on (transferred, read or probed)
	Transferred int            `json:"transferred"` // zones transferred
	Refused     int            `json:"refused"`     // zones no server would transfer
	Probed      int            `json:"probed"`      // zones whose hosts came from direct probes (a refusal is normal)
	Lame        int            `json:"lame"`        // zones where no server answered authoritatively
	Files       int            `json:"files"`       // zones read from files
	Attempts    int            `json:"attempts"`    // transfer attempts
	Lookups     int            `json:"lookups"`     // direct queries
	Hosts       int            `json:"hosts"`       // hosts reported
	Roles       map[string]int `json:"roles"`       // hosts by role
	Errors      int            `json:"problems"`    // warnings given to the Logger: what needs the user's attention
	Dropped     int            `json:"dropped"`     // records (and bad lines) dropped, the sum of Drops
	Drops       map[string]int `json:"drops"`       // dropped by reason (the Drop constants)
}
